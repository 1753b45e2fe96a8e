"""RTC (RM0090 section 26), the part boot and update code uses: the 20 backup registers
RTC_BKP0R..19R, where some designs keep an update flag, and the register file with its
reset values (the calendar is stored, it does not advance; INIT gives INITF at once,
RSF reads set).

The RTC is in the backup domain: it keeps its registers across every reset, and across
a power cut only when the board keeps VBAT up (Machine(vbat_held=True)).
"""

from __future__ import annotations

from typing import Any

from pybench.engine.builtin.peripheral import Bus
from pybench.engine.builtin.regfile import RegisterBank

TR, DR, CR, ISR, PRER, WUTR, CALIBR, ALRMAR, ALRMBR, WPR = range(0, 0x28, 4)
SSR, SHIFTR, TSTR, TSDR, TSSSR, CALR, TAFCR, ALRMASSR, ALRMBSSR = range(0x28, 0x4C, 4)
BKP0R = 0x50
BKP_COUNT = 20
ISR_INIT, ISR_INITF, ISR_RSF = 1 << 7, 1 << 6, 1 << 5


class Rtc(RegisterBank):
    repl_types = ("Timers.STM32F4_RTC",)
    RESET = {TR: 0, DR: 0x2101, CR: 0, ISR: 0x07, PRER: 0x007F_00FF, WUTR: 0xFFFF,
             CALIBR: 0, ALRMAR: 0, ALRMBR: 0, WPR: 0, SSR: 0, SHIFTR: 0, TSTR: 0,
             TSDR: 0, TSSSR: 0, CALR: 0, TAFCR: 0, ALRMASSR: 0, ALRMBSSR: 0,
             **{BKP0R + 4 * i: 0 for i in range(BKP_COUNT)}}

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)

    def system_reset(self, cause: str) -> None:
        if cause == "power-on" and not getattr(self.bus, "vbat_held", False):
            self.reset()
        # Any other reset leaves the backup domain as it was.

    def backup(self, index: int) -> int:
        return self.regs[BKP0R + 4 * index]

    def read_reg(self, offset: int) -> int:
        if offset == ISR:
            return self.regs[ISR] | ISR_RSF
        return self.regs[offset]

    def write_reg(self, offset: int, value: int) -> None:
        if offset == ISR:
            value = (value & ~(ISR_INITF | 0x7)) | (self.regs[ISR] & 0x7)
            if value & ISR_INIT:
                value |= ISR_INITF
        elif offset == WPR:
            value &= 0xFF
        self.regs[offset] = value & 0xFFFF_FFFF
