"""A GPIO port (RM0090 section 8): registers stored; nothing drives the pins from outside,
so IDR reads back what ODR drives; BSRR sets and resets ODR bits."""

from __future__ import annotations

from pybench.engine.builtin.regfile import RegisterBank

MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, AFRH = range(0, 0x28, 4)
PORTS_BASE = 0x40020000   # GPIOA; ports follow every 0x400

# Ports A and B come out of reset with their debug pins (JTAG/SWD) configured.
_RESET_BY_PORT = {
    0: {MODER: 0xA800_0000, PUPDR: 0x6400_0000},
    1: {MODER: 0x0000_0280, OSPEEDR: 0x0000_00C0, PUPDR: 0x0000_0100},
}


class GpioPort(RegisterBank):
    repl_types = ("GPIOPort.STM32_GPIOPort",)
    RESET = {r: 0 for r in (MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, AFRH)}

    def reset_values(self) -> dict[int, int]:
        values = dict(self.RESET)
        values.update(_RESET_BY_PORT.get((self.base - PORTS_BASE) >> 10, {}))
        return values

    def read_reg(self, offset: int) -> int:
        if offset == IDR:
            return self.regs[ODR] & 0xFFFF
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
