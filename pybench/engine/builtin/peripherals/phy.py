"""An Ethernet PHY on the MAC's MDIO bus: the IEEE 802.3 clause 22 registers (0-6), with
the vendor registers (16-31) of the chip the platform names by its identifier (Id1/Id2):
LAN8742A (phy_lan8742a.py), DP83848 (phy_dp83848.py) or KSZ8081RNA (phy_ksz8081rna.py).
Another identifier gets the clause 22 registers only.

Not memory mapped: the MAC reaches it through MACMIIAR/MACMIIDR, which call mdio_read()
and mdio_write(), at the address the platform gives ("@ ethernet N"). The .repl gives the
identifiers and abilities (Id1, Id2, BasicStatus, AutoNegotiationAdvertisement,
AutoNegotiationLinkPartnerBaseAbility). The bench pulls the cable with link_up(False).
Auto-negotiation takes a short virtual time so that firmware which waits for it is
exercised, without seconds of emulated polling.

`rmii`: how the chip is wired to the MAC (the vendor's strap default; the DP83848 can
switch in its RBR register). The MAC passes frames only while SYSCFG selects the same.
"""

from __future__ import annotations

from typing import Any, Protocol

from pybench.engine.builtin.peripheral import Bus, Peripheral

BCR, BSR, PHYID1, PHYID2, ANAR, ANLPAR, ANER = 0, 1, 2, 3, 4, 5, 6

BCR_RESET, BCR_LOOPBACK, BCR_SPEED100, BCR_ANEN = 1 << 15, 1 << 14, 1 << 13, 1 << 12
BCR_POWERDOWN, BCR_ISOLATE, BCR_ANRESTART, BCR_FULLDUPLEX = 1 << 11, 1 << 10, 1 << 9, 1 << 8
BSR_ANCOMPLETE, BSR_LINK = 1 << 5, 1 << 2
ANER_LPANABLE = 1 << 0

# Speed and duplex as a code (bits: 2 = full duplex, 1 = 100 Mbit/s, 0 = 10 Mbit/s).
SPEED_10HD, SPEED_10FD, SPEED_100HD, SPEED_100FD = 0b001, 0b101, 0b010, 0b110

BCR_RESET_VALUE = BCR_SPEED100 | BCR_ANEN | BCR_FULLDUPLEX
AUTONEG_NS = 50_000       # virtual time from (re)start to AN complete with a partner

# The key in phy.vregs for the RMII/MII wiring when the vendor lets firmware change it.
WIRING = -1
# Latched events a vendor's interrupt register reports (phy.events).
EV_ENERGYON, EV_ANCOMPLETE, EV_LINKDOWN, EV_LINKUP = 1, 2, 4, 8


def negotiated(anar: int, anlpar: int) -> int:
    """The speed code both ends support, best first (IEEE 802.3 annex 28B.3)."""
    common = anar & anlpar
    for bit, code in ((8, SPEED_100FD), (7, SPEED_100HD), (6, SPEED_10FD), (5, SPEED_10HD)):
        if common >> bit & 1:
            return code
    return 0


class Vendor(Protocol):
    """The vendor registers of one PHY chip (state lives in phy.vregs)."""

    name: str
    rmii: bool

    def matches(self, id1: int, id2: int) -> bool: ...

    def reset_values(self, phy: EthernetPhy) -> dict[int, int]: ...

    def read(self, phy: EthernetPhy, reg: int) -> int | None: ...

    def write(self, phy: EthernetPhy, reg: int, value: int) -> bool: ...


class Generic:
    name = "clause 22 PHY"
    rmii = True

    def matches(self, id1: int, id2: int) -> bool:
        return True

    def reset_values(self, phy: EthernetPhy) -> dict[int, int]:
        return {}

    def read(self, phy: EthernetPhy, reg: int) -> int | None:
        return None

    def write(self, phy: EthernetPhy, reg: int, value: int) -> bool:
        return False


def vendor_for(id1: int, id2: int) -> Vendor:
    from pybench.engine.builtin.peripherals.phy_dp83848 import Dp83848
    from pybench.engine.builtin.peripherals.phy_ksz8081rna import Ksz8081rna
    from pybench.engine.builtin.peripherals.phy_lan8742a import Lan8742a

    for vendor in (Lan8742a(), Dp83848(), Ksz8081rna()):
        if vendor.matches(id1, id2):
            return vendor
    return Generic()


class EthernetPhy(Peripheral):
    """Clause 22 registers 0-6; registers 16-31 as the vendor's chip has them."""

    repl_types = ("Network.EthernetPhysicalLayer",)

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        self.address = base
        self.id1 = int(props.get("Id1", 0x0007))
        self.id2 = int(props.get("Id2", 0xC131))
        self.vendor: Vendor = vendor_for(self.id1, self.id2)
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
        return not bcr & BCR_ANEN or self.an_complete()

    @property
    def rmii(self) -> bool:
        """Wired to the MAC through RMII (True) or MII (False)."""
        return bool(self.vregs.get(WIRING, int(self.vendor.rmii)))

    def link_up(self, up: bool) -> None:
        """Plug (True) or pull (False) the cable."""
        if up == self.cable:
            return
        self.cable = up
        if up:
            self.an_start_ns = self.bus.now_ns
            self.events |= EV_ENERGYON
        else:
            self.link_latched_low = True
            self.events |= EV_LINKDOWN

    # --- state ----------------------------------------------------------------------
    def reset(self) -> None:
        self.regs = {BCR: BCR_RESET_VALUE, ANAR: self.anar_reset}
        self.vregs: dict[int, int] = self.vendor.reset_values(self)
        self.an_start_ns = self.bus.now_ns
        self.link_latched_low = False
        self.events = 0            # latched events (EV_*) the vendor's register reports
        self.an_reported = False

    def save(self) -> Any:
        return (tuple(sorted(self.regs.items())), tuple(sorted(self.vregs.items())),
                self.cable, self.an_start_ns, self.link_latched_low, self.events,
                self.an_reported)

    def load(self, state: Any) -> None:
        regs, vregs, self.cable, self.an_start_ns, self.link_latched_low, self.events, \
            self.an_reported = state
        self.regs, self.vregs = dict(regs), dict(vregs)

    def an_complete(self) -> bool:
        return (self.cable and bool(self.regs[BCR] & BCR_ANEN)
                and self.bus.now_ns >= self.an_start_ns + AUTONEG_NS)

    def speed_code(self) -> int:
        """The speed and duplex in use (SPEED_*), 0 while negotiating."""
        bcr = self.regs[BCR]
        if bcr & BCR_ANEN:
            return negotiated(self.regs[ANAR], self.partner) if self.an_complete() else 0
        speed = SPEED_100HD if bcr & BCR_SPEED100 else SPEED_10HD
        return speed | (0b100 if bcr & BCR_FULLDUPLEX else 0)

    def take_events(self) -> int:
        """The latched events, cleared (a vendor's read-to-clear interrupt register)."""
        if self.an_complete() and not self.an_reported:
            self.events |= EV_ANCOMPLETE
            self.an_reported = True
        events, self.events = self.events, 0
        return events

    # --- MDIO -----------------------------------------------------------------------
    def mdio_read(self, reg: int) -> int:
        if reg == BSR:
            value = self.abilities
            if self.an_complete():
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
            return self.partner if self.an_complete() else 0
        if reg == ANER:
            return ANER_LPANABLE if self.an_complete() else 0
        if reg in self.regs:
            return self.regs[reg]
        value = self.vendor.read(self, reg) if reg >= 16 else None
        if value is None:
            self._unknown(reg, "read")
            return 0
        return value & 0xFFFF

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
                self.an_reported = False
        elif reg == ANAR:
            self.regs[ANAR] = (value & 0x2DE0) | 0x0001   # selector: IEEE 802.3, read-only
        elif reg in (BSR, PHYID1, PHYID2, ANLPAR, ANER):
            pass                                           # read-only
        elif reg < 16 or not self.vendor.write(self, reg, value):
            self._unknown(reg, "write")

    def _unknown(self, reg: int, access: str) -> None:
        if reg not in self._reported:
            self._reported.add(reg)
            self.bus.event("unmodelled", f"{self.name}: MDIO {access} of PHY register {reg}"
                                         f" ({self.vendor.name} at address {self.address})"
                                         " is not modelled")

    # --- Peripheral: not on the system bus, MDIO register numbers as offsets --------
    def read(self, offset: int, size: int) -> int:
        return self.mdio_read(offset)

    def write(self, offset: int, size: int, value: int) -> None:
        self.mdio_write(offset, value)
