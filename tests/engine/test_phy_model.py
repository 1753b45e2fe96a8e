"""The LAN8742A-like PHY model: clause 22 registers, vendor registers, link and AN timing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pybench.engine.builtin.peripherals import phy as p
from pybench.engine.builtin.peripherals import phy_dp83848 as dp
from pybench.engine.builtin.peripherals import phy_ksz8081rna as ksz
from pybench.engine.builtin.peripherals import phy_lan8742a as lan
from pybench.engine.builtin.peripherals.phy import AUTONEG_NS, EthernetPhy, negotiated

PROPS = {"Id1": 0x0007, "Id2": 0xC131, "BasicStatus": 0x782D,
         "AutoNegotiationAdvertisement": 0x01E1,
         "AutoNegotiationLinkPartnerBaseAbility": 0x45E1}


@dataclass
class Clock:
    """The part of the Bus a PHY uses: the virtual clock and events."""

    now_ns: int = 0
    events: list[tuple[str, str]] = field(default_factory=list)

    def event(self, kind: str, detail: str) -> None:
        self.events.append((kind, detail))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def phy(clock: Clock) -> EthernetPhy:
    return EthernetPhy("phy", 0, 0, clock, dict(PROPS))  # type: ignore[arg-type]


def settle(clock: Clock) -> None:
    clock.now_ns += AUTONEG_NS


def test_identifiers_from_props(phy: EthernetPhy) -> None:
    assert phy.mdio_read(p.PHYID1) == 0x0007
    assert phy.mdio_read(p.PHYID2) == 0xC131
    assert phy.mdio_read(lan.SMR) & 0x1F == 0          # PHYAD = MDIO address
    other = EthernetPhy("phy", 3, 0, Clock(), {"Id1": 0x07, "Id2": 0xC133})  # type: ignore[arg-type]
    assert other.mdio_read(p.PHYID1) == 0x07 and other.mdio_read(lan.SMR) & 0x1F == 3


def test_autonegotiation_completes_after_a_virtual_delay(clock: Clock, phy: EthernetPhy) -> None:
    assert phy.mdio_read(p.BCR) == 0x3100
    bsr = phy.mdio_read(p.BSR)
    assert bsr & 0xFF00 == 0x7800 and not bsr & (p.BSR_LINK | p.BSR_ANCOMPLETE)
    assert not phy.link
    assert phy.mdio_read(lan.PSCSR) & lan.PSCSR_AUTODONE == 0
    settle(clock)
    assert phy.mdio_read(p.BSR) & (p.BSR_LINK | p.BSR_ANCOMPLETE) == (
        p.BSR_LINK | p.BSR_ANCOMPLETE)
    assert phy.link
    assert phy.mdio_read(p.ANLPAR) == 0x45E1
    assert phy.mdio_read(p.ANER) & 1
    pscsr = phy.mdio_read(lan.PSCSR)
    assert pscsr & lan.PSCSR_AUTODONE and (pscsr >> 2) & 7 == p.SPEED_100FD
    assert phy.mdio_read(lan.ISFR) & lan.ISFR_ANCOMPLETE
    assert phy.mdio_read(lan.ISFR) == 0                # cleared by reading


def test_reset_bit_self_clears_and_restores_defaults(clock: Clock, phy: EthernetPhy) -> None:
    phy.mdio_write(p.ANAR, 0x0021)
    phy.mdio_write(p.BCR, p.BCR_RESET)
    assert phy.mdio_read(p.BCR) & p.BCR_RESET == 0
    assert phy.mdio_read(p.ANAR) == 0x01E1


def test_restart_autonegotiation_with_10m_only(clock: Clock, phy: EthernetPhy) -> None:
    settle(clock)
    phy.mdio_write(p.ANAR, 0x0061)                   # 10BASE-T half and full
    phy.mdio_write(p.BCR, p.BCR_ANEN | p.BCR_ANRESTART)
    assert phy.mdio_read(p.BCR) & p.BCR_ANRESTART == 0
    assert not phy.mdio_read(p.BSR) & p.BSR_ANCOMPLETE
    settle(clock)
    assert (phy.mdio_read(lan.PSCSR) >> 2) & 7 == p.SPEED_10FD


def test_forced_mode_without_autonegotiation(clock: Clock, phy: EthernetPhy) -> None:
    phy.mdio_write(p.BCR, p.BCR_SPEED100)            # AN off, 100 half duplex
    assert phy.link
    assert (phy.mdio_read(lan.PSCSR) >> 2) & 7 == p.SPEED_100HD


def test_cable_pull_latches_link_low_until_read(clock: Clock, phy: EthernetPhy) -> None:
    settle(clock)
    phy.link_up(False)
    assert not phy.link
    assert phy.mdio_read(lan.ISFR) & lan.ISFR_LINKDOWN
    assert not phy.mdio_read(lan.MCSR) & lan.MCSR_ENERGYON
    phy.link_up(True)
    settle(clock)
    assert phy.link
    assert not phy.mdio_read(p.BSR) & p.BSR_LINK     # the latched drop, seen once
    assert phy.mdio_read(p.BSR) & p.BSR_LINK


def test_power_down_and_isolate_drop_the_link(clock: Clock, phy: EthernetPhy) -> None:
    settle(clock)
    phy.mdio_write(p.BCR, p.BCR_ANEN | p.BCR_POWERDOWN)
    assert not phy.link


@pytest.mark.parametrize(
    ("anar", "partner", "code"),
    [(0x01E1, 0x45E1, p.SPEED_100FD), (0x00E1, 0x45E1, p.SPEED_100HD),
     (0x0061, 0x01E1, p.SPEED_10FD), (0x0021, 0x01E1, p.SPEED_10HD), (0x0101, 0x0021, 0)],
)
def test_negotiated_picks_best_common_mode(anar: int, partner: int, code: int) -> None:
    assert negotiated(anar, partner) == code


def test_read_only_registers_ignore_writes_and_unknown_reported(clock: Clock,
                                                               phy: EthernetPhy) -> None:
    phy.mdio_write(p.PHYID1, 0x1234)
    assert phy.mdio_read(p.PHYID1) == 0x0007
    assert phy.mdio_read(13) == 0
    phy.mdio_read(13)
    phy.mdio_write(14, 1)
    assert [k for k, _ in clock.events] == ["unmodelled", "unmodelled"]
    assert "register 13" in clock.events[0][1]


def test_save_load_round_trip(clock: Clock, phy: EthernetPhy) -> None:
    settle(clock)
    phy.mdio_write(p.ANAR, 0x0061)
    phy.link_up(False)
    state = phy.save()
    other = EthernetPhy("phy", 0, 0, clock, dict(PROPS))  # type: ignore[arg-type]
    other.load(state)
    assert other.save() == state
    assert not other.link and other.mdio_read(p.ANAR) == 0x0061


# --- the vendor chips --------------------------------------------------------------------
DP83848 = {**PROPS, "Id1": 0x2000, "Id2": 0x5C90}
KSZ8081RNA = {**PROPS, "Id1": 0x0022, "Id2": 0x1561}


def test_vendor_chosen_by_identifier() -> None:
    names = [EthernetPhy("phy", 1, 0, Clock(), dict(props)).vendor.name  # type: ignore[arg-type]
             for props in (PROPS, DP83848, KSZ8081RNA, {"Id1": 0x1234, "Id2": 0x5678})]
    assert names == ["LAN8742A", "DP83848", "KSZ8081RNA", "clause 22 PHY"]


def test_dp83848_phycr_address_and_physts_link(clock: Clock) -> None:
    """ST's DP83848 driver scans addresses for PHYCR[4:0] == address, then polls PHYSTS."""
    phy = EthernetPhy("phy", 1, 0, clock, dict(DP83848))  # type: ignore[arg-type]
    assert phy.mdio_read(dp.PHYCR) == 0x8001
    phy.mdio_write(dp.PHYCR, 0x001F)                 # the strapped address stays
    assert phy.mdio_read(dp.PHYCR) & 0x1F == 1
    assert phy.mdio_read(dp.PHYSTS) & (dp.PHYSTS_LINK | dp.PHYSTS_ANDONE) == 0
    settle(clock)
    physts = phy.mdio_read(dp.PHYSTS)
    assert physts & dp.PHYSTS_LINK and physts & dp.PHYSTS_ANDONE
    assert physts & (dp.PHYSTS_10M | dp.PHYSTS_FULL) == dp.PHYSTS_FULL   # 100 full
    phy.mdio_write(p.ANAR, 0x0021)                   # 10 half only
    phy.mdio_write(p.BCR, p.BCR_ANEN | p.BCR_ANRESTART)
    settle(clock)
    assert phy.mdio_read(dp.PHYSTS) & 0x7 == dp.PHYSTS_LINK | dp.PHYSTS_10M
    misr = phy.mdio_read(dp.MISR)
    assert misr & dp.MISR_ANC and phy.mdio_read(dp.MISR) & 0xFF00 == 0


def test_dp83848_is_mii_until_rbr_says_rmii(clock: Clock) -> None:
    phy = EthernetPhy("phy", 1, 0, clock, dict(DP83848))  # type: ignore[arg-type]
    assert not phy.rmii and phy.mdio_read(dp.RBR) == 0x0001
    phy.mdio_write(dp.RBR, dp.RBR_RMII_MODE | 1)
    assert phy.rmii


def test_ksz8081rna_phy_control_1_and_interrupts(clock: Clock) -> None:
    phy = EthernetPhy("phy", 2, 0, clock, dict(KSZ8081RNA))  # type: ignore[arg-type]
    assert phy.rmii
    assert phy.mdio_read(ksz.OMSS) >> 13 == 2
    assert phy.mdio_read(ksz.PHYCR1) == 0            # still negotiating
    settle(clock)
    assert phy.mdio_read(ksz.PHYCR1) == ksz.PHYCR1_LINK | 0b110
    phy.mdio_write(ksz.ICSR, 0x0500)
    assert phy.mdio_read(ksz.ICSR) == 0x0500 | ksz.ICSR_LINKUP
    phy.link_up(False)
    assert phy.mdio_read(ksz.ICSR) == 0x0500 | ksz.ICSR_LINKDOWN
    assert phy.mdio_read(ksz.PHYCR2) == 0x8000


def test_lan8742a_vendor_registers_unknown_elsewhere(clock: Clock) -> None:
    phy = EthernetPhy("phy", 0, 0, clock, dict(PROPS))  # type: ignore[arg-type]
    phy.mdio_read(dp.PHYCR)                          # 0x19: not a LAN8742A register
    assert clock.events and "LAN8742A" in clock.events[0][1]
