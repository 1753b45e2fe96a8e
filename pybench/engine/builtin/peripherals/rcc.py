"""RCC (RM0090 section 7): registers with their reset values; oscillators and the PLL are
ready as soon as they are switched on, and the clock switch follows SW at once."""

from __future__ import annotations

from pybench.engine.builtin.regfile import RegisterBank

CR, PLLCFGR, CFGR, CSR, BDCR = 0x00, 0x04, 0x08, 0x74, 0x70

# (ON bit, RDY bit) pairs of RCC_CR: HSI, HSE, PLL, PLLI2S.
_CR_READY = ((0, 1), (16, 17), (24, 25), (26, 27))


class Rcc(RegisterBank):
    repl_types = ("Miscellaneous.STM32F4_RCC",)

    RESET = {
        CR: 0x0000_0083, PLLCFGR: 0x2400_3010, CFGR: 0, 0x0C: 0,
        0x10: 0, 0x14: 0, 0x18: 0, 0x20: 0, 0x24: 0,
        0x30: 0x0010_0000, 0x34: 0, 0x38: 0, 0x40: 0, 0x44: 0,
        0x50: 0x7E67_91FF, 0x54: 0x0000_00F1, 0x58: 0x0000_0001,
        0x60: 0x36FE_C9FF, 0x64: 0x0007_5F33,
        BDCR: 0, CSR: 0x0E00_0000, 0x80: 0, 0x84: 0x2000_3000,
    }

    def write_reg(self, offset: int, value: int) -> None:
        if offset == CR:
            for on, rdy in _CR_READY:
                value = (value | (1 << rdy)) if value & (1 << on) else (value & ~(1 << rdy))
        elif offset == CFGR:
            # SWS follows SW: the switch is instant in virtual time.
            value = (value & ~0xC) | ((value & 0x3) << 2)
        elif offset in (CSR, BDCR):
            # LSION/LSEON (bit 0) -> LSIRDY/LSERDY (bit 1).
            value = (value | 2) if value & 1 else (value & ~2)
            if offset == CSR and value & (1 << 24):   # RMVF clears the reset flags
                value &= 0x00FF_FFFF
        self.regs[offset] = value & 0xFFFFFFFF
