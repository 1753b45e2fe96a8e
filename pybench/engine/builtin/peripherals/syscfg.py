"""SYSCFG (RM0090 section 9): MEMRMP, PMC (the application selects RMII there), EXTICR1-4
and CMPCR, whose READY bit follows CMP_PD at once."""

from __future__ import annotations

from pybench.engine.builtin.regfile import RegisterBank

MEMRMP, PMC, CMPCR = 0x00, 0x04, 0x20
CMPCR_CMP_PD, CMPCR_READY = 1 << 0, 1 << 8
PMC_MII_RMII_SEL = 1 << 23


class Syscfg(RegisterBank):
    repl_types = ("Miscellaneous.STM32_SYSCFG",)
    RESET = {MEMRMP: 0, PMC: 0, 0x08: 0, 0x0C: 0, 0x10: 0, 0x14: 0, CMPCR: 0}

    def exti_port(self, line: int) -> int:
        """The GPIO port (0 = A) that EXTICRx selects for EXTI line 0..15."""
        return (self.regs[0x08 + 4 * (line // 4)] >> (4 * (line % 4))) & 0xF

    @property
    def rmii(self) -> bool:
        """PMC.MII_RMII_SEL: the MAC talks RMII (True) or MII (False) to its PHY."""
        return bool(self.regs[PMC] & PMC_MII_RMII_SEL)

    def write_reg(self, offset: int, value: int) -> None:
        if offset == CMPCR:
            value = CMPCR_READY if value & CMPCR_CMP_PD else 0
            value |= value and CMPCR_CMP_PD
        self.regs[offset] = value & 0xFFFFFFFF
