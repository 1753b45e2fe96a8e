"""RCC (RM0090 section 7): registers with their reset values; oscillators and the PLL are
ready as soon as they are switched on (HSIRDY, HSERDY, PLLRDY, PLLI2SRDY, LSIRDY,
LSERDY), and the clock switch status (SWS) follows SW at once.

RCC_CSR keeps the reset-cause flags across every reset but a power-on (which sets
PORRSTF, PINRSTF and BORRSTF): a system reset adds SFTRSTF, a watchdog IWDGRSTF or
WWDGRSTF, each with PINRSTF (the reset pin is driven by every internal reset); RMVF
clears them. RCC_BDCR belongs to the backup domain: kept across resets, and across a
power cut only when the board keeps VBAT up.

clocks() gives SYSCLK, HCLK, PCLK1/2 and the APB timer clocks from SW, PLLCFGR and the
prescalers, with HSI at 16 MHz and HSE at `hse_hz` (25 MHz, the usual crystal of
Ethernet boards): the timers and the window watchdog count at those rates. The CPU
itself always runs at 168 MHz in the bench (1 instruction = 1 cycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pybench.engine.builtin.peripheral import Bus
from pybench.engine.builtin.regfile import RegisterBank

CR, PLLCFGR, CFGR, CSR, BDCR = 0x00, 0x04, 0x08, 0x74, 0x70

# (ON bit, RDY bit) pairs of RCC_CR: HSI, HSE, PLL, PLLI2S.
_CR_READY = ((0, 1), (16, 17), (24, 25), (26, 27))

CSR_RMVF, CSR_BORRSTF, CSR_PINRSTF, CSR_PORRSTF = 1 << 24, 1 << 25, 1 << 26, 1 << 27
CSR_SFTRSTF, CSR_IWDGRSTF, CSR_WWDGRSTF = 1 << 28, 1 << 29, 1 << 30
CSR_FLAGS = 0xFE00_0000
_CAUSE_FLAG = {"SYSRESETREQ": CSR_SFTRSTF, "IWDG": CSR_IWDGRSTF, "WWDG": CSR_WWDGRSTF}
HSI_HZ = 16_000_000
_AHB_DIV = (2, 4, 8, 16, 64, 128, 256, 512)


@dataclass(frozen=True)
class Clocks:
    sysclk: int
    hclk: int
    pclk1: int
    pclk2: int
    tim1: int          # APB1 timers: PCLK1, doubled when APB1 is divided
    tim2: int


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

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        self.hse_hz = int(props.get("hseFrequency", 25_000_000))
        super().__init__(name, base, size, bus, props)

    def system_reset(self, cause: str) -> None:
        flags, bdcr = self.regs[CSR] & CSR_FLAGS, self.regs[BDCR]
        self.reset()
        if cause == "power-on":
            if getattr(self.bus, "vbat_held", False):
                self.regs[BDCR] = bdcr
            return
        self.regs[CSR] = (self.regs[CSR] & ~CSR_FLAGS) | flags | CSR_PINRSTF \
            | _CAUSE_FLAG.get(cause, 0)
        self.regs[BDCR] = bdcr

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
            if offset == CSR:
                # The flags are read-only; RMVF (which reads 0) clears them.
                flags = 0 if value & CSR_RMVF else self.regs[CSR] & CSR_FLAGS
                value = (value & 0x00FF_FFFF) | flags
        self.regs[offset] = value & 0xFFFFFFFF

    def clocks(self) -> Clocks:
        cfgr, pll = self.regs[CFGR], self.regs[PLLCFGR]
        source = (cfgr >> 2) & 3
        if source == 1:
            sysclk = self.hse_hz
        elif source == 2:
            src = self.hse_hz if pll >> 22 & 1 else HSI_HZ
            m, n, p = pll & 0x3F, (pll >> 6) & 0x1FF, 2 * (((pll >> 16) & 3) + 1)
            sysclk = src * n // (max(m, 2) * p)
        else:
            sysclk = HSI_HZ
        hpre = (cfgr >> 4) & 0xF
        hclk = sysclk // (_AHB_DIV[hpre - 8] if hpre >= 8 else 1)
        ppre1, ppre2 = (cfgr >> 10) & 7, (cfgr >> 13) & 7
        div1 = 1 << (ppre1 - 3) if ppre1 >= 4 else 1
        div2 = 1 << (ppre2 - 3) if ppre2 >= 4 else 1
        pclk1, pclk2 = hclk // div1, hclk // div2
        return Clocks(sysclk, hclk, pclk1, pclk2, pclk1 * (1 if div1 == 1 else 2),
                      pclk2 * (1 if div2 == 1 else 2))
