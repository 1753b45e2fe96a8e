"""PWR (RM0090 section 5.4): CR and CSR; the regulator is always ready at the voltage
scale asked for, and the backup regulator is ready once enabled."""

from __future__ import annotations

from pybench.engine.builtin.regfile import RegisterBank

CR, CSR = 0x00, 0x04
CSR_BRE, CSR_BRR, CSR_VOSRDY = 1 << 9, 1 << 3, 1 << 14


class Pwr(RegisterBank):
    repl_types = ("Miscellaneous.STM32_PWR",)
    RESET = {CR: 0x0000_4000, CSR: CSR_VOSRDY}

    def write_reg(self, offset: int, value: int) -> None:
        if offset == CSR:
            # Only BRE and EWUP are writable; the status bits follow.
            value = (value & (CSR_BRE | 1 << 8)) | CSR_VOSRDY
            if value & CSR_BRE:
                value |= CSR_BRR
        self.regs[offset] = value & 0xFFFFFFFF
