"""Vendor registers of the TI DP83848 (datasheet section 7.6), as ST's DP83848 driver
and the IAP-over-Ethernet example use them: 0x10 PHYSTS (link, speed, duplex, AN
complete, MII interrupt), 0x11 MICR and 0x12 MISR (interrupt control and latched status,
read to clear), 0x17 RBR (RMII_MODE), 0x19 PHYCR (PHY address in bits 4:0, which ST's
driver compares with the address it scans), 0x1A 10BTSCR, 0x1B CDCTRL1, 0x1D EDCR.

The DP83848 speaks MII unless strapped for RMII; the bench's default is MII (ST's
evaluation boards); firmware can switch with RBR.RMII_MODE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybench.engine.builtin.peripherals import phy as p

if TYPE_CHECKING:
    from pybench.engine.builtin.peripherals.phy import EthernetPhy

PHYSTS, MICR, MISR, FCSCR, RECR, PCSR, RBR, LEDCR, PHYCR = (
    0x10, 0x11, 0x12, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19)
TENBTSCR, CDCTRL1, EDCR = 0x1A, 0x1B, 0x1D
PHYSTS_LINK, PHYSTS_10M, PHYSTS_FULL, PHYSTS_ANDONE = 1 << 0, 1 << 1, 1 << 2, 1 << 4
PHYSTS_MIIINT = 1 << 7
MISR_ANC, MISR_LINK, MISR_ED = 1 << 10, 1 << 13, 1 << 14
RBR_RMII_MODE = 1 << 5
PHYCR_MDIX_EN = 1 << 15
_STORED = {MICR: 0x0007, FCSCR: 0, RECR: 0, PCSR: 0xFFFF, LEDCR: 0x003F,
           TENBTSCR: 0x3FFF, CDCTRL1: 0xFFFF, EDCR: 0xFFFF}   # write masks


class Dp83848:
    name = "DP83848"
    rmii = False

    def matches(self, id1: int, id2: int) -> bool:
        return id1 == 0x2000 and id2 & 0xFFF0 == 0x5C90

    def reset_values(self, phy: EthernetPhy) -> dict[int, int]:
        return {MICR: 0, MISR: 0, FCSCR: 0, RECR: 0, PCSR: 0x0100, LEDCR: 0,
                RBR: 0x0001 | (RBR_RMII_MODE if self.rmii else 0),
                PHYCR: PHYCR_MDIX_EN | (phy.address & 0x1F), TENBTSCR: 0x0800,
                CDCTRL1: 0x0100, EDCR: 0, p.WIRING: int(self.rmii)}

    def _misr_status(self, phy: EthernetPhy) -> int:
        events = phy.take_events()
        status = 0
        if events & (p.EV_LINKDOWN | p.EV_ANCOMPLETE):
            status |= MISR_LINK
        if events & p.EV_ANCOMPLETE:
            status |= MISR_ANC
        if events & p.EV_ENERGYON:
            status |= MISR_ED
        return status

    def read(self, phy: EthernetPhy, reg: int) -> int | None:
        if reg == PHYSTS:
            code = phy.speed_code()
            value = PHYSTS_LINK if phy.link else 0
            if code and not code & 0b010:
                value |= PHYSTS_10M
            if code & 0b100:
                value |= PHYSTS_FULL
            if phy.an_complete():
                value |= PHYSTS_ANDONE
            return value
        if reg == MISR:
            # Enables in bits 6:0 as written; status bits 14:8, cleared by reading.
            return (phy.vregs[MISR] & 0x7F) | self._misr_status(phy)
        return phy.vregs.get(reg)

    def write(self, phy: EthernetPhy, reg: int, value: int) -> bool:
        if reg in _STORED:
            phy.vregs[reg] = value & _STORED[reg]
        elif reg == MISR:
            phy.vregs[MISR] = value & 0x7F
        elif reg == RBR:
            phy.vregs[RBR] = value & 0x003F
            phy.vregs[p.WIRING] = int(bool(value & RBR_RMII_MODE))
        elif reg == PHYCR:
            # The address bits are the strap: they read back as strapped.
            phy.vregs[PHYCR] = (value & 0xFFE0) | (phy.address & 0x1F)
        elif reg != PHYSTS:
            return False
        return True
