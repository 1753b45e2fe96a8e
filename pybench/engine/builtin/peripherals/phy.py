"""A LAN8742A-like Ethernet PHY on the MAC's MDIO bus (IEEE 802.3 clause 22 registers).

Not memory mapped: the MAC reaches it through MACMIIAR/MACMIIDR, which call mdio_read()
and mdio_write(). The .repl gives the identifiers and abilities (Id1, Id2, BasicStatus,
AutoNegotiationAdvertisement, AutoNegotiationLinkPartnerBaseAbility). The bench pulls
the cable with link_up(False). Auto-negotiation takes a short virtual time so that
firmware which waits for it is exercised, without seconds of emulated polling.
"""

from __future__ import annotations

from typing import Any

from pybench.engine.builtin.peripheral import Bus, Peripheral

BCR, BSR, PHYID1, PHYID2, ANAR, ANLPAR, ANER = 0, 1, 2, 3, 4, 5, 6
MCSR, SMR, SECR, SCSIR, ISFR, IMR, PSCSR = 17, 18, 26, 27, 29, 30, 31

BCR_RESET, BCR_LOOPBACK, BCR_SPEED100, BCR_ANEN = 1 << 15, 1 << 14, 1 << 13, 1 << 12
BCR_POWERDOWN, BCR_ISOLATE, BCR_ANRESTART, BCR_FULLDUPLEX = 1 << 11, 1 << 10, 1 << 9, 1 << 8
BSR_ANCOMPLETE, BSR_LINK = 1 << 5, 1 << 2
ANER_LPANABLE = 1 << 0
MCSR_ENERGYON = 1 << 1
ISFR_ENERGYON, ISFR_ANCOMPLETE, ISFR_LINKDOWN = 1 << 7, 1 << 6, 1 << 4
PSCSR_AUTODONE = 1 << 12

# PSCSR speed indication (bits 4:2): 10/100 and half/full duplex.
SPEED_10HD, SPEED_10FD, SPEED_100HD, SPEED_100FD = 0b001, 0b101, 0b010, 0b110

BCR_RESET_VALUE = BCR_SPEED100 | BCR_ANEN | BCR_FULLDUPLEX
AUTONEG_NS = 50_000       # virtual time from (re)start to AN complete with a partner
SMR_MODE_ALL = 0b111 << 5  # "all capable, auto-negotiation enabled"


def negotiated(anar: int, anlpar: int) -> int:
    """The PSCSR speed code both ends support, best first (IEEE 802.3 annex 28B.3)."""
    common = anar & anlpar
    for bit, code in ((8, SPEED_100FD), (7, SPEED_100HD), (6, SPEED_10FD), (5, SPEED_10HD)):
        if common >> bit & 1:
            return code
    return 0


class EthernetPhy(Peripheral):
    """LAN8742A: clause 22 registers 0-6, vendor registers 17, 18, 26, 27, 29, 30, 31."""

    repl_types = ("Network.EthernetPhysicalLayer",)

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        self.address = base
        self.id1 = int(props.get("Id1", 0x0007))
        self.id2 = int(props.get("Id2", 0xC131))
        self.abilities = int(props.get("BasicStatus", 0x782D)) & ~(BSR_ANCOMPLETE | BSR_LINK)
        self.anar_reset = int(props.get("AutoNegotiationAdvertisement", 0x01E1))
        self.partner = int(props.get("AutoNegotiationLinkPartnerBaseAbility", 0x45E1))
        self.cable = True          # the bench's view: is a partner on the wire
        self.reset()

    # --- the bench ------------------------------------------------------------------
    @property
    def link(self) -> bool:
        """Frames pass: cable in, powered, not isolated, and negotiated (or forced)."""
        bcr = self.regs[BCR]
        if not self.cable or bcr & (BCR_POWERDOWN | BCR_ISOLATE):
            return False
        return not bcr & BCR_ANEN or self._an_complete()

    def link_up(self, up: bool) -> None:
        """Plug (True) or pull (False) the cable."""
        if up == self.cable:
            return
        self.cable = up
        if up:
            self.an_start_ns = self.bus.now_ns
            self.isfr |= ISFR_ENERGYON
        else:
            self.link_latched_low = True
            self.isfr |= ISFR_LINKDOWN

    # --- state ----------------------------------------------------------------------
    def reset(self) -> None:
        self.regs = {BCR: BCR_RESET_VALUE, ANAR: self.anar_reset, MCSR: 0, SCSIR: 0, IMR: 0}
        self.an_start_ns = self.bus.now_ns
        self.link_latched_low = False
        self.isfr = 0
        self.isfr_an_reported = False

    def save(self) -> Any:
        return (tuple(sorted(self.regs.items())), self.cable, self.an_start_ns,
                self.link_latched_low, self.isfr, self.isfr_an_reported)

    def load(self, state: Any) -> None:
        regs, self.cable, self.an_start_ns, self.link_latched_low, self.isfr, \
            self.isfr_an_reported = state
        self.regs = dict(regs)

    def _an_complete(self) -> bool:
        return (self.cable and bool(self.regs[BCR] & BCR_ANEN)
                and self.bus.now_ns >= self.an_start_ns + AUTONEG_NS)

    def _speed_code(self) -> int:
        bcr = self.regs[BCR]
        if bcr & BCR_ANEN:
            return negotiated(self.regs[ANAR], self.partner) if self._an_complete() else 0
        speed = SPEED_100HD if bcr & BCR_SPEED100 else SPEED_10HD
        return speed | (0b100 if bcr & BCR_FULLDUPLEX else 0)

    # --- MDIO -----------------------------------------------------------------------
    def mdio_read(self, reg: int) -> int:
        if reg == BSR:
            value = self.abilities
            if self._an_complete():
                value |= BSR_ANCOMPLETE
            if self.link and not self.link_latched_low:
                value |= BSR_LINK
            # Link status latches low until read (IEEE 802.3 22.2.4.2.13).
            self.link_latched_low = False
            return value
        if reg == PHYID1:
            return self.id1
        if reg == PHYID2:
            return self.id2
        if reg == ANLPAR:
            return self.partner if self._an_complete() else 0
        if reg == ANER:
            return ANER_LPANABLE if self._an_complete() else 0
        if reg == MCSR:
            return self.regs[MCSR] | (MCSR_ENERGYON if self.cable else 0)
        if reg == SMR:
            return SMR_MODE_ALL | self.address
        if reg == SECR:
            return 0
        if reg == ISFR:
            if self._an_complete() and not self.isfr_an_reported:
                self.isfr |= ISFR_ANCOMPLETE
                self.isfr_an_reported = True
            value, self.isfr = self.isfr, 0     # cleared by reading
            return value
        if reg == PSCSR:
            return (PSCSR_AUTODONE if self._an_complete() else 0) | self._speed_code() << 2
        if reg in self.regs:
            return self.regs[reg]
        self._unknown(reg, "read")
        return 0

    def mdio_write(self, reg: int, value: int) -> None:
        value &= 0xFFFF
        if reg == BCR:
            if value & BCR_RESET:
                self.reset()          # the reset bit self-clears: it is done at once
                return
            old = self.regs[BCR]
            self.regs[BCR] = value & ~BCR_ANRESTART
            if value & BCR_ANRESTART or (value & BCR_ANEN and not old & BCR_ANEN):
                self.an_start_ns = self.bus.now_ns
                self.isfr_an_reported = False
        elif reg == ANAR:
            self.regs[ANAR] = (value & 0x2DE0) | 0x0001   # selector: IEEE 802.3, read-only
        elif reg == MCSR:
            self.regs[MCSR] = value & 0x2240               # EDPWRDOWN, FARLOOPBACK, ALTINT
        elif reg == SCSIR:
            self.regs[SCSIR] = value & 0xA810              # AMDIXCTRL, CH_SELECT, SQEOFF, XPOL
        elif reg == IMR:
            self.regs[IMR] = value & 0x00FE
        elif reg in (BSR, PHYID1, PHYID2, ANLPAR, ANER, SMR, SECR, ISFR, PSCSR):
            pass                                           # read-only
        else:
            self._unknown(reg, "write")

    def _unknown(self, reg: int, access: str) -> None:
        if reg not in self._reported:
            self._reported.add(reg)
            self.bus.event("unmapped", f"{self.name}: MDIO {access} of unknown PHY register"
                                       f" {reg} at address {self.address}")

    # --- Peripheral: not on the system bus, MDIO register numbers as offsets --------
    def read(self, offset: int, size: int) -> int:
        return self.mdio_read(offset)

    def write(self, offset: int, size: int, value: int) -> None:
        self.mdio_write(offset, value)
