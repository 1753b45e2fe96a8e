"""Vendor registers of the Microchip KSZ8081RNA (datasheet section 4), RMII only:
0x10 DRC, 0x11 AFE control 1, 0x15 RXER counter, 0x16 operation mode strap override,
0x17 operation mode strap status (PHY address in bits 15:13), 0x18 expanded control,
0x1B interrupt control/status (enables 15:8, latched status 7:0, read to clear),
0x1D LinkMD, 0x1E PHY control 1 (operation mode indication 2:0, link status 8),
0x1F PHY control 2 (HP_MDIX, RMII reference clock select)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybench.engine.builtin.peripherals import phy as p

if TYPE_CHECKING:
    from pybench.engine.builtin.peripherals.phy import EthernetPhy

DRC, AFECR1, RXERCR, OMSO, OMSS, EXCR, ICSR, LINKMD, PHYCR1, PHYCR2 = (
    0x10, 0x11, 0x15, 0x16, 0x17, 0x18, 0x1B, 0x1D, 0x1E, 0x1F)
ICSR_LINKUP, ICSR_LINKDOWN = 1 << 0, 1 << 2
PHYCR1_LINK = 1 << 8
# Operation mode indication (PHY control 1, bits 2:0) per speed code.
_OPMODE = {p.SPEED_10HD: 0b001, p.SPEED_100HD: 0b010, p.SPEED_10FD: 0b101,
           p.SPEED_100FD: 0b110, 0: 0b000}
_STORED = {DRC: 0x0010, AFECR1: 0x0020, OMSO: 0xFFFF, EXCR: 0x0800, LINKMD: 0x8000,
           PHYCR2: 0xFFFF}


class Ksz8081rna:
    name = "KSZ8081RNA"
    rmii = True

    def matches(self, id1: int, id2: int) -> bool:
        return id1 == 0x0022 and id2 & 0xFFF0 == 0x1560

    def reset_values(self, phy: EthernetPhy) -> dict[int, int]:
        return {DRC: 0, AFECR1: 0, RXERCR: 0, OMSO: 0, EXCR: 0, ICSR: 0, LINKMD: 0,
                PHYCR2: 0x8000, OMSS: (phy.address & 7) << 13 | 0x0002}

    def read(self, phy: EthernetPhy, reg: int) -> int | None:
        if reg == ICSR:
            events = phy.take_events()
            status = (ICSR_LINKUP if events & p.EV_ANCOMPLETE else 0) | \
                (ICSR_LINKDOWN if events & p.EV_LINKDOWN else 0)
            return (phy.vregs[ICSR] & 0xFF00) | status
        if reg == PHYCR1:
            return (PHYCR1_LINK if phy.link else 0) | _OPMODE.get(phy.speed_code(), 0)
        return phy.vregs.get(reg)

    def write(self, phy: EthernetPhy, reg: int, value: int) -> bool:
        if reg in _STORED:
            phy.vregs[reg] = value & _STORED[reg]
        elif reg == ICSR:
            phy.vregs[ICSR] = value & 0xFF00
        elif reg not in (RXERCR, OMSS, PHYCR1):
            return False
        return True
