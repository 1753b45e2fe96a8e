"""Vendor registers of the Microchip LAN8742A (datasheet section 4.2.3), RMII only:
17 MCSR (mode control/status, ENERGYON), 18 SMR (special modes: MODE, PHYAD),
26 SECR (symbol error counter), 27 SCSIR (control/status indications), 29 ISFR
(interrupt source flags, read to clear), 30 IMR (interrupt mask), 31 PSCSR (PHY special
control/status: autodone, speed indication)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybench.engine.builtin.peripherals import phy as p

if TYPE_CHECKING:
    from pybench.engine.builtin.peripherals.phy import EthernetPhy

MCSR, SMR, SECR, SCSIR, ISFR, IMR, PSCSR = 17, 18, 26, 27, 29, 30, 31
MCSR_ENERGYON = 1 << 1
ISFR_ENERGYON, ISFR_ANCOMPLETE, ISFR_LINKDOWN = 1 << 7, 1 << 6, 1 << 4
PSCSR_AUTODONE = 1 << 12
SMR_MODE_ALL = 0b111 << 5  # "all capable, auto-negotiation enabled"
_EVENTS = ((p.EV_ENERGYON, ISFR_ENERGYON), (p.EV_ANCOMPLETE, ISFR_ANCOMPLETE),
           (p.EV_LINKDOWN, ISFR_LINKDOWN))


class Lan8742a:
    name = "LAN8742A"
    rmii = True

    def matches(self, id1: int, id2: int) -> bool:
        return id1 == 0x0007 and id2 & 0xFFF0 == 0xC130

    def reset_values(self, phy: EthernetPhy) -> dict[int, int]:
        return {MCSR: 0, SCSIR: 0, IMR: 0}

    def read(self, phy: EthernetPhy, reg: int) -> int | None:
        if reg == MCSR:
            return phy.vregs[MCSR] | (MCSR_ENERGYON if phy.cable else 0)
        if reg == SMR:
            return SMR_MODE_ALL | phy.address
        if reg == SECR:
            return 0
        if reg == ISFR:
            events = phy.take_events()
            return sum(bit for ev, bit in _EVENTS if events & ev)
        if reg == PSCSR:
            done = PSCSR_AUTODONE if phy.an_complete() else 0
            return done | phy.speed_code() << 2
        return phy.vregs.get(reg)

    def write(self, phy: EthernetPhy, reg: int, value: int) -> bool:
        if reg == MCSR:
            phy.vregs[MCSR] = value & 0x2240          # EDPWRDOWN, FARLOOPBACK, ALTINT
        elif reg == SCSIR:
            phy.vregs[SCSIR] = value & 0xA810         # AMDIXCTRL, CH_SELECT, SQEOFF, XPOL
        elif reg == IMR:
            phy.vregs[IMR] = value & 0x00FE
        elif reg not in (SMR, SECR, ISFR, PSCSR):
            return False
        return True
