"""WWDG, the window watchdog (RM0090 section 22): a 7-bit down-counter (CR.T) clocked
by PCLK1 / 4096 / 2^WDGTB. Once WDGA is set (only a reset clears it) the chip resets
(RCC_CSR.WWDGRSTF) when T6 falls (the counter passes 0x40 -> 0x3F) or when CR is
written while the counter is still above the window (CFR.W). EWI raises the early
wakeup interrupt (IRQ 0) at 0x40.
"""

from __future__ import annotations

from typing import Any

from pybench.engine.builtin.peripheral import Bus, Peripheral
from pybench.engine.builtin.peripherals.rcc import Rcc
from pybench.engine.builtin.regfile import merge

CR, CFR, SR = 0x00, 0x04, 0x08
CR_WDGA = 1 << 7
CFR_EWI = 1 << 9
CPU_HZ = 168_000_000
WWDG_IRQ = 0


class Wwdg(Peripheral):
    # Renode's only window watchdog is the H7's (the .repl declares it; its CFR puts
    # WDGTB elsewhere, this model follows RM0090).
    repl_types = ("Timers.STM32H7_SystemWindowWatchdog",)

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        self.irq = int(props.get("irq", WWDG_IRQ))
        self.reset()

    def reset(self) -> None:
        self.cr = 0x7F
        self.cfr = 0x7F
        self.sr = 0
        self.loaded_at = 0
        self.event_handle: object | None = None

    def save(self) -> Any:
        return (self.cr, self.cfr, self.sr, self.loaded_at, self.event_handle)

    def load(self, state: Any) -> None:
        self.cr, self.cfr, self.sr, self.loaded_at, self.event_handle = state

    def tick_cycles(self) -> int:
        rcc = self.bus.peer(Rcc) if hasattr(self.bus, "peer") else None
        pclk1 = rcc.clocks().pclk1 if rcc is not None else 42_000_000
        return CPU_HZ * 4096 * (1 << ((self.cfr >> 7) & 3)) // max(pclk1, 1)

    def _now(self) -> int:
        return int(getattr(self.bus, "cycles", 0))

    def counter(self) -> int:
        t = self.cr & 0x7F
        if not self.cr & CR_WDGA:
            return t
        return max(t - (self._now() - self.loaded_at) // self.tick_cycles(), 0)

    def _schedule(self) -> None:
        if self.event_handle is not None:
            self.bus.cancel(self.event_handle)
            self.event_handle = None
        if not self.cr & CR_WDGA:
            return
        t = self.cr & 0x7F
        target = 0x40 if self.cfr & CFR_EWI and t > 0x40 and not self.sr else 0x3F
        at = self.loaded_at + (t - target) * self.tick_cycles()
        self.event_handle = self.bus.schedule_cycles(at, self._reached)  # type: ignore[attr-defined]

    def _reached(self) -> None:
        self.event_handle = None
        if self.counter() > 0x3F:
            self.sr = 1                                   # EWIF
            self.bus.set_irq(self.irq, True)
            self._schedule()
            return
        self._expire("the counter passed 0x40")

    def _expire(self, why: str) -> None:
        self.bus.event("watchdog", f"{self.name}: WWDG {why}: system reset")
        self.bus.request_system_reset("WWDG")  # type: ignore[attr-defined]

    def stable_read(self, offset: int) -> bool:
        return offset & ~3 != CR          # CR shows the counter, which moves with time

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        value = {CR: (self.cr & CR_WDGA) | self.counter(), CFR: self.cfr, SR: self.sr}.get(word)
        if value is None:
            self.unknown(word, "read")
            return 0
        return (value >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == CR:
            _, value = merge(self.cr, offset, size, value)
            if self.cr & CR_WDGA and self.counter() > (self.cfr & 0x7F):
                self._expire("was refreshed outside its window")
                return
            self.cr = (value & 0xFF) | (self.cr & CR_WDGA)
            self.loaded_at = self._now()
            self._schedule()
        elif word == CFR:
            _, value = merge(self.cfr, offset, size, value)
            self.cfr = value & 0x3FF
            self._schedule()
        elif word == SR:
            self.sr &= value & 1
            if not self.sr:
                self.bus.set_irq(self.irq, False)
        else:
            self.unknown(word, "write")
