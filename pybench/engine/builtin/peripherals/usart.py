"""An STM32 USART (RM0090 section 30) as the console.

Transmission is instant: a DR write hands the byte to the machine's console
(`bus.console_write`) and TXE/TC stay set. Bytes from the bench (receive()) arrive one
per character time at 115200 8N1, each setting RXNE (and the IRQ when RXNEIE is on).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from pybench.engine.builtin.peripheral import Bus, Peripheral
from pybench.engine.builtin.regfile import merge

SR, DR, BRR, CR1, CR2, CR3, GTPR = range(0, 0x1C, 4)
SR_ORE, SR_RXNE, SR_TC, SR_TXE = 1 << 3, 1 << 5, 1 << 6, 1 << 7
CR1_RXNEIE, CR1_TCIE, CR1_TXEIE = 1 << 5, 1 << 6, 1 << 7
CHAR_NS = 86_806   # 10 bits at 115200 baud


class Usart(Peripheral):
    repl_types = ("UART.STM32_UART",)
    default_size = 0x400

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        self.irq: int | None = props.get("irq")
        self.rx: deque[int] = deque()
        self.reset()

    def reset(self) -> None:
        self.regs = {SR: SR_TXE | SR_TC, DR: 0, BRR: 0, CR1: 0, CR2: 0, CR3: 0, GTPR: 0}
        self.rx.clear()
        self._rx_due: object | None = None
        self._irq_level = False

    def stable_read(self, offset: int) -> bool:
        return offset & ~3 != DR          # reading DR takes the received byte

    # --- registers ---------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word not in self.regs:
            self.unknown(word, "read")
            return 0
        value = self.regs[word]
        if word == DR:
            self.regs[SR] &= ~(SR_RXNE | SR_ORE)
            self._update_irq()
            self._schedule_rx()
        return (value >> ((offset & 3) * 8)) & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word not in self.regs:
            self.unknown(word, "write")
            return
        _, value = merge(self.regs[word], offset, size, value)
        if word == DR:
            self.bus.console_write(bytes([value & 0xFF]))   # type: ignore[attr-defined]
            self.regs[SR] |= SR_TXE | SR_TC
        elif word == SR:
            # rc_w0: software clears RXNE and TC by writing 0; other bits are read-only.
            keep = ~(SR_RXNE | SR_TC) | (value & (SR_RXNE | SR_TC))
            self.regs[SR] &= keep
        else:
            self.regs[word] = value & 0xFFFFFFFF
        self._update_irq()

    # --- the bench's side ---------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        """Bytes typed at the console: they arrive one character time apart."""
        self.rx.extend(data)
        self._schedule_rx()

    def _schedule_rx(self) -> None:
        if self._rx_due is None and self.rx:
            self._rx_due = self.bus.schedule(self.bus.now_ns + CHAR_NS, self._rx_arrive)

    def _rx_arrive(self) -> None:
        self._rx_due = None
        if not self.rx:
            return
        if self.regs[SR] & SR_RXNE:
            # The firmware has not read the previous byte yet: wait for it (no overrun,
            # the bench is a polite sender).
            return
        self.regs[DR] = self.rx.popleft()
        self.regs[SR] |= SR_RXNE
        self._update_irq()

    def _update_irq(self) -> None:
        if self.irq is None:
            return
        sr, cr1 = self.regs[SR], self.regs[CR1]
        level = bool(
            (cr1 & CR1_TXEIE and sr & SR_TXE)
            or (cr1 & CR1_TCIE and sr & SR_TC)
            or (cr1 & CR1_RXNEIE and sr & (SR_RXNE | SR_ORE))
        )
        if level != self._irq_level:
            self._irq_level = level
            self.bus.set_irq(self.irq, level)

    # --- snapshots ----------------------------------------------------------------------
    def save(self) -> Any:
        return (tuple(sorted(self.regs.items())), bytes(self.rx), self._rx_due, self._irq_level)

    def load(self, state: Any) -> None:
        regs, rx, self._rx_due, self._irq_level = state
        self.regs = dict(regs)
        self.rx = deque(rx)
