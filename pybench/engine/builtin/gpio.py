"""A GPIO port (RM0090 section 8): registers stored; BSRR sets and resets ODR bits.

Pins can be held at a level from outside (a button on the board: `hold`), kept across
resets as a wire would be, and saved with snapshots. IDR shows that level for a held
pin configured as input; every other pin reads back what ODR drives (pull resistors
and analog mode are not modelled).
"""

from __future__ import annotations

from typing import Any

from pybench.engine.builtin.regfile import RegisterBank

MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, AFRH = range(0, 0x28, 4)
PORTS_BASE = 0x40020000   # GPIOA; ports follow every 0x400
MODE_INPUT = 0

# Ports A and B come out of reset with their debug pins (JTAG/SWD) configured.
_RESET_BY_PORT = {
    0: {MODER: 0xA800_0000, PUPDR: 0x6400_0000},
    1: {MODER: 0x0000_0280, OSPEEDR: 0x0000_00C0, PUPDR: 0x0000_0100},
}


class GpioPort(RegisterBank):
    repl_types = ("GPIOPort.STM32_GPIOPort",)
    RESET = {r: 0 for r in (MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, AFRH)}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.held: dict[int, int] = {}   # pin -> level driven from outside the chip
        super().__init__(*args, **kwargs)

    @property
    def port_index(self) -> int:
        return (self.base - PORTS_BASE) >> 10

    def reset_values(self) -> dict[int, int]:
        values = dict(self.RESET)
        values.update(_RESET_BY_PORT.get(self.port_index, {}))
        return values

    def hold(self, pin: int, level: int | None) -> None:
        """Drive `pin` from outside at `level` (0 or 1); None lets it go."""
        if level is None:
            self.held.pop(pin, None)
        else:
            self.held[pin] = 1 if level else 0

    def read_reg(self, offset: int) -> int:
        if offset == IDR:
            idr = self.regs[ODR] & 0xFFFF
            moder = self.regs[MODER]
            for pin, level in self.held.items():
                if (moder >> (2 * pin)) & 3 == MODE_INPUT:
                    idr = (idr & ~(1 << pin)) | (level << pin)
            return idr
        if offset == BSRR:
            return 0
        return self.regs[offset]

    def write_reg(self, offset: int, value: int) -> None:
        if offset == BSRR:
            odr = self.regs[ODR]
            self.regs[ODR] = (odr | (value & 0xFFFF)) & ~(value >> 16) & 0xFFFF
        elif offset == IDR:
            return
        else:
            self.regs[offset] = value & 0xFFFFFFFF

    def save(self) -> Any:
        return (super().save(), tuple(sorted(self.held.items())))

    def load(self, state: Any) -> None:
        regs, held = state
        super().load(regs)
        self.held = dict(held)
