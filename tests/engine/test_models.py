"""The simple models on a fake bus: RCC ready bits, GPIO, USART console and input,
SysTick arithmetic, NVIC priorities."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pybench.engine.builtin.cortexm import SystemControlSpace
from pybench.engine.builtin.peripherals.gpio import BSRR, IDR, ODR, GpioPort
from pybench.engine.builtin.peripherals.rcc import CFGR, CR, Rcc
from pybench.engine.builtin.peripherals.usart import CR1, DR, SR, Usart


class FakeBus:
    def __init__(self) -> None:
        self.now_ns = 0
        self.irqs: list[tuple[int, bool]] = []
        self.out = b""
        self.timers: list[tuple[int, Callable[[], None]]] = []
        self.events: list[tuple[str, str]] = []

    def set_irq(self, irq: int, level: bool) -> None:
        self.irqs.append((irq, level))

    def console_write(self, data: bytes) -> None:
        self.out += data

    def schedule(self, at_ns: int, cb: Callable[[], None]) -> object:
        self.timers.append((at_ns, cb))
        return len(self.timers)

    def cancel(self, handle: object) -> None: ...

    def event(self, kind: str, detail: str) -> None:
        self.events.append((kind, detail))

    def fire(self) -> None:
        timers, self.timers = self.timers, []
        for at, cb in sorted(timers, key=lambda t: t[0]):
            self.now_ns = max(self.now_ns, at)
            cb()


def test_rcc_ready_bits_follow_enables() -> None:
    rcc = Rcc("rcc", 0x40023800, 0x400, FakeBus(), {})  # type: ignore[arg-type]
    assert rcc.read(CR, 4) & 0x3 == 0x3             # HSI on and ready at reset
    rcc.write(CR, 4, (1 << 16) | (1 << 24) | 1)
    assert rcc.read(CR, 4) & ((1 << 17) | (1 << 25)) == (1 << 17) | (1 << 25)
    rcc.write(CFGR, 4, 2)
    assert (rcc.read(CFGR, 4) >> 2) & 3 == 2


def test_gpio_bsrr_and_idr() -> None:
    gpio = GpioPort("gpioB", 0x40020400, 0x400, FakeBus(), {})  # type: ignore[arg-type]
    assert gpio.read(0, 4) == 0x280                 # port B reset MODER
    gpio.write(BSRR, 4, (1 << 3) | (1 << 5))
    gpio.write(BSRR, 4, 1 << (16 + 3))
    assert gpio.read(ODR, 4) == 1 << 5
    assert gpio.read(IDR, 4) == 1 << 5


def test_unknown_register_reported_once() -> None:
    bus = FakeBus()
    gpio = GpioPort("gpioA", 0x40020000, 0x400, bus, {})  # type: ignore[arg-type]
    assert gpio.read(0x100, 4) == 0
    gpio.write(0x100, 4, 1)
    assert len(bus.events) == 1 and "0x40020100" in bus.events[0][1]


def test_usart_tx_rx_and_irq() -> None:
    bus = FakeBus()
    u = Usart("usart1", 0x40011000, 0x400, bus, {"irq": 37})  # type: ignore[arg-type]
    u.write(DR, 4, ord("h"))
    assert bus.out == b"h"
    assert u.read(SR, 4) & 0xC0 == 0xC0
    u.write(CR1, 4, (1 << 13) | (1 << 5))           # UE, RXNEIE
    u.receive(b"ab")
    assert u.read(SR, 4) & (1 << 5) == 0            # not yet: a character time later
    bus.fire()
    assert u.read(SR, 4) & (1 << 5)
    assert bus.irqs[-1] == (37, True)
    assert u.read(DR, 4) == ord("a")
    assert bus.irqs[-1] == (37, False)
    bus.fire()
    assert u.read(DR, 4) == ord("b")


class FakeCore:
    def __init__(self) -> None:
        self.cycles = 0
        self.timers: list[tuple[int, Any]] = []

    def schedule_cycles(self, at: int, cb: Any) -> object:
        self.timers.append((at, cb))
        return len(self.timers)

    def cancel(self, handle: object) -> None:
        self.timers = [t for i, t in enumerate(self.timers, 1) if i != handle]

    def interrupt_pending_changed(self) -> None: ...


def test_systick_counts_down_and_wraps() -> None:
    scs = SystemControlSpace("nvic", 0xE000E000, 0x1000, FakeBus(), {})  # type: ignore[arg-type]
    core = FakeCore()
    scs.core = core  # type: ignore[assignment]
    scs.write(0x14, 4, 999)          # RVR
    scs.write(0x18, 4, 0)            # CVR
    scs.write(0x10, 4, 7)            # enable, interrupt, processor clock
    assert core.timers[-1][0] == 1000
    core.cycles = 250
    assert scs.read(0x18, 4) == 750
    core.cycles = 1000
    core.timers[-1][1]()
    assert scs.pending & (1 << 15)
    assert scs.read(0x10, 4) & (1 << 16)            # COUNTFLAG, cleared by the read
    assert not scs.read(0x10, 4) & (1 << 16)
    assert core.timers[-1][0] == 2000


def test_priority_grouping_and_bytes() -> None:
    scs = SystemControlSpace("nvic", 0xE000E000, 0x1000, FakeBus(), {})  # type: ignore[arg-type]
    scs.write(0x400 + 5, 1, 0x9F)
    assert scs.read(0x404, 4) == 0x90 << 8           # low bits not implemented
    scs.write(0xD0C, 4, 0x05FA_0000 | (5 << 8))      # PRIGROUP 5: 2 preemption bits
    assert scs.group(0x90) == 0x80
    scs.write(0xD0C, 4, 0x1234_0000 | (1 << 8))      # wrong key: ignored
    assert scs.read(0xD0C, 4) == 0xFA05_0000 | (5 << 8)
