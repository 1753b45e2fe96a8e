"""RNG, the random number generator (RM0090 section 24): with RNGEN set, DR holds a
new 32-bit number whenever it is read (DRDY stays set; the analogue source's 40 clock
periods per number are not spent) and IE raises IRQ 80 while DRDY. The numbers come
from SplitMix64 on a fixed seed (`seed` attribute): runs repeat, as a bench's must.
Clock and seed errors (CECS, SECS) never occur."""

from __future__ import annotations

from typing import Any

from pybench.engine.builtin.peripheral import Bus, Peripheral

CR, SR, DR = 0x00, 0x04, 0x08
CR_RNGEN, CR_IE = 1 << 2, 1 << 3
SR_DRDY = 1 << 0
_M64 = (1 << 64) - 1


class Rng(Peripheral):
    repl_types = ("Miscellaneous.STM32F4_RNG", "Miscellaneous.STM32_RNG")
    seed = 0x5EED_F407

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        self.irq = int(props.get("irq", 80))
        self.reset()

    def reset(self) -> None:
        self.cr = 0
        self.state = self.seed
        self._irq_level = False

    def save(self) -> Any:
        return (self.cr, self.state, self._irq_level)

    def load(self, state: Any) -> None:
        self.cr, self.state, self._irq_level = state

    def _next(self) -> int:
        self.state = (self.state + 0x9E37_79B9_7F4A_7C15) & _M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB) & _M64
        return (z ^ (z >> 31)) & 0xFFFF_FFFF

    def _sr(self) -> int:
        return SR_DRDY if self.cr & CR_RNGEN else 0

    def _update_irq(self) -> None:
        level = bool(self.cr & CR_IE and self._sr())
        if level != self._irq_level:
            self._irq_level = level
            self.bus.set_irq(self.irq, level)

    def stable_read(self, offset: int) -> bool:
        return offset & ~3 != DR          # each DR read draws a new number

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word == CR:
            value = self.cr
        elif word == SR:
            value = self._sr()
        elif word == DR:
            value = self._next() if self.cr & CR_RNGEN else 0
        else:
            self.unknown(word, "read")
            return 0
        return (value >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == CR:
            self.cr = value & (CR_RNGEN | CR_IE)
            self._update_irq()
        elif word == SR:
            pass                                  # CEIS/SEIS clear by 0; never set here
        elif word != DR:
            self.unknown(word, "write")
