"""Register-level tests of the chip models against RM0090's reset values and behaviour
(and ARMv7-M for DWT and the MPU), each model on a fake bus with a cycle clock."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import pytest

from pybench.engine.builtin import bitband, chipmap, dwt, mpu
from pybench.engine.builtin.peripherals import crc, exti, iwdg, rcc, rng, rtc, tim, wwdg
from pybench.engine.builtin.scheduler import Scheduler


class FakeBus:
    """A clock in CPU cycles with a scheduler, interrupt lines, events and resets."""

    def __init__(self) -> None:
        self.cycles = 0
        self.sched = Scheduler()
        self.irqs: dict[int, bool] = {}
        self.events: list[tuple[str, str]] = []
        self.resets: list[str] = []
        self.peers: list[Any] = []
        self.vbat_held = False

    @property
    def now_ns(self) -> int:
        return self.cycles * 125 // 21

    def schedule_cycles(self, at: int, cb: Callable[[], None]) -> object:
        return self.sched.schedule(at, cb)

    def cancel(self, handle: object) -> None:
        self.sched.cancel(handle)

    def set_irq(self, irq: int, level: bool) -> None:
        self.irqs[irq] = level

    def event(self, kind: str, detail: str) -> None:
        self.events.append((kind, detail))

    def request_system_reset(self, cause: str) -> None:
        self.resets.append(cause)

    def peer(self, cls: type) -> Any:
        return next((p for p in self.peers if isinstance(p, cls)), None)

    def run_to(self, cycles: int) -> None:
        """Advance time, firing callbacks in order."""
        while self.sched.next_at() <= cycles:
            self.cycles = self.sched.next_at()
            cb = self.sched.pop_due(self.cycles)
            assert cb is not None
            cb()
        self.cycles = cycles


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


# --- RCC ---------------------------------------------------------------------------------
def test_rcc_reset_values_and_ready_flags(bus: FakeBus) -> None:
    r = rcc.Rcc("rcc", 0x40023800, 0x400, bus, {})  # type: ignore[arg-type]
    assert r.read(rcc.CR, 4) == 0x83 and r.read(rcc.PLLCFGR, 4) == 0x24003010
    assert r.read(rcc.CSR, 4) == 0x0E000000
    r.write(rcc.CR, 4, 0x83 | 1 << 16 | 1 << 24 | 1 << 26)
    assert r.read(rcc.CR, 4) & (1 << 17 | 1 << 25 | 1 << 27) == 1 << 17 | 1 << 25 | 1 << 27
    r.write(rcc.CFGR, 4, 2)
    assert r.read(rcc.CFGR, 4) & 0xC == 0x8


@pytest.mark.parametrize(("cause", "flag"), [("SYSRESETREQ", rcc.CSR_SFTRSTF),
                                             ("IWDG", rcc.CSR_IWDGRSTF),
                                             ("WWDG", rcc.CSR_WWDGRSTF)])
def test_rcc_csr_reset_causes_accumulate_and_rmvf_clears(bus: FakeBus, cause: str,
                                                        flag: int) -> None:
    r = rcc.Rcc("rcc", 0x40023800, 0x400, bus, {})  # type: ignore[arg-type]
    r.system_reset("power-on")
    r.write(rcc.CSR, 4, rcc.CSR_RMVF)
    assert r.read(rcc.CSR, 4) & rcc.CSR_FLAGS == 0
    r.system_reset(cause)
    assert r.read(rcc.CSR, 4) & rcc.CSR_FLAGS == flag | rcc.CSR_PINRSTF
    r.write(rcc.CSR, 4, 0xFF000000 & ~rcc.CSR_RMVF)   # the flags are read-only
    assert r.read(rcc.CSR, 4) & rcc.CSR_FLAGS == flag | rcc.CSR_PINRSTF
    r.system_reset("power-on")
    assert r.read(rcc.CSR, 4) == 0x0E000000


def test_rcc_clock_tree_168_mhz_from_a_25_mhz_crystal(bus: FakeBus) -> None:
    r = rcc.Rcc("rcc", 0x40023800, 0x400, bus, {})  # type: ignore[arg-type]
    assert r.clocks().sysclk == 16_000_000                 # HSI after reset
    r.write(rcc.PLLCFGR, 4, 25 | 336 << 6 | 1 << 22 | 7 << 24)
    r.write(rcc.CFGR, 4, 2 | 5 << 10 | 4 << 13)
    c = r.clocks()
    assert (c.sysclk, c.hclk, c.pclk1, c.pclk2, c.tim1, c.tim2) == (
        168_000_000, 168_000_000, 42_000_000, 84_000_000, 84_000_000, 168_000_000)


# --- timers -------------------------------------------------------------------------------
def _tim6(bus: FakeBus) -> tim.StmTimer:
    r = rcc.Rcc("rcc", 0x40023800, 0x400, bus, {})  # type: ignore[arg-type]
    r.write(rcc.CFGR, 4, 2 | 5 << 10)                     # SW = PLL, APB1 /4
    r.write(rcc.PLLCFGR, 4, 25 | 336 << 6 | 1 << 22)
    bus.peers.append(r)
    return tim.StmTimer("timer6", 0x40001000, 0x400, bus, {"irq": 54})  # type: ignore[arg-type]


def test_basic_timer_reset_values(bus: FakeBus) -> None:
    t = _tim6(bus)
    assert [t.read(o, 4) for o in (tim.CR1, tim.DIER, tim.SR, tim.CNT, tim.PSC, tim.ARR)] \
        == [0, 0, 0, 0, 0, 0xFFFF]
    t.read(tim.CCR1, 4)                               # not in a basic timer
    assert bus.events and bus.events[0][0] == "unmodelled"
    g = tim.StmTimer("timer2", 0x40000000, 0x400, bus, {"irq": 28})  # type: ignore[arg-type]
    assert g.read(tim.ARR, 4) == 0 and g.top == 0xFFFFFFFF


def test_timer_counts_and_updates_at_exact_cycles(bus: FakeBus) -> None:
    t = _tim6(bus)                                    # 84 MHz timer clock: 2 cycles/tick
    t.write(tim.PSC, 4, 83)                           # -> 1 MHz
    t.write(tim.ARR, 4, 999)
    t.write(tim.EGR, 4, tim.EGR_UG)                   # loads PSC, sets UIF (URS = 0)
    assert t.read(tim.SR, 4) == 1
    t.write(tim.SR, 4, 0)
    t.write(tim.DIER, 4, tim.DIER_UIE)
    t.write(tim.CR1, 4, tim.CR1_CEN)
    bus.run_to(168 * 500)
    assert t.read(tim.CNT, 4) == 500 and not bus.irqs.get(54)
    bus.run_to(168_000 - 1)
    assert t.read(tim.SR, 4) == 0
    bus.run_to(168_000)
    assert t.read(tim.SR, 4) == 1 and bus.irqs[54] and t.read(tim.CNT, 4) == 0
    t.write(tim.SR, 4, 0)
    assert not bus.irqs[54]
    bus.run_to(10 * 168_000)
    assert t.read(tim.SR, 4) == 1 and t.read(tim.CNT, 4) == 0


def test_timer_prescaler_is_preloaded_until_the_update(bus: FakeBus) -> None:
    t = _tim6(bus)
    t.write(tim.ARR, 4, 99)
    t.write(tim.CR1, 4, tim.CR1_CEN)                  # PSC 0: 84 MHz, 2 cycles a tick
    t.write(tim.PSC, 4, 1)                            # not yet
    bus.run_to(100)
    assert t.read(tim.CNT, 4) == 50
    bus.run_to(200)                                   # the update: PSC 1 from now
    bus.run_to(200 + 100)
    assert t.read(tim.CNT, 4) == 25


def test_timer_one_pulse_and_urs(bus: FakeBus) -> None:
    t = _tim6(bus)
    t.write(tim.CR1, 4, tim.CR1_URS)
    t.write(tim.EGR, 4, tim.EGR_UG)
    assert t.read(tim.SR, 4) == 0                     # URS: UG sets no UIF
    t.write(tim.ARR, 4, 9)
    t.write(tim.CR1, 4, tim.CR1_CEN | tim.CR1_OPM)
    bus.run_to(1000)
    assert t.read(tim.SR, 4) == 1 and t.read(tim.CR1, 4) & tim.CR1_CEN == 0


# --- EXTI ----------------------------------------------------------------------------------
def test_exti_software_trigger_edges_and_routing(bus: FakeBus) -> None:
    e = exti.Exti("exti", 0x40013C00, 0x400, bus, {})  # type: ignore[arg-type]
    assert [e.read(o, 4) for o in range(0, 0x18, 4)] == [0] * 6
    e.write(exti.SWIER, 4, 1 << 7)                    # masked: nothing pends
    assert e.read(exti.PR, 4) == 0
    e.write(exti.IMR, 4, 1 << 7 | 1 << 12)
    e.write(exti.SWIER, 4, 1 << 7)                    # already 1: no new edge
    assert e.read(exti.PR, 4) == 0
    e.write(exti.PR, 4, 1 << 7)                       # clears SWIER too
    e.write(exti.SWIER, 4, 1 << 7)
    assert e.read(exti.PR, 4) == 1 << 7 and bus.irqs[23]
    e.write(exti.FTSR, 4, 1 << 12)
    e.line_input(12, True)
    assert not bus.irqs.get(40)                       # rising edge not selected
    e.line_input(12, False)
    assert bus.irqs[40] and e.read(exti.PR, 4) == 1 << 7 | 1 << 12
    e.write(exti.PR, 4, 1 << 7)
    assert not bus.irqs[23] and bus.irqs[40]


# --- watchdogs -----------------------------------------------------------------------------
def test_iwdg_reset_values_keys_and_expiry(bus: FakeBus) -> None:
    w = iwdg.Iwdg("iwdg", 0x40003000, 0x400, bus, {})  # type: ignore[arg-type]
    assert [w.read(o, 4) for o in (iwdg.KR, iwdg.PR, iwdg.RLR, iwdg.SR)] == [0, 0, 0xFFF, 0]
    w.write(iwdg.PR, 4, 3)                            # write-protected without 0x5555
    assert w.read(iwdg.PR, 4) == 0
    w.write(iwdg.KR, 4, iwdg.KEY_START)
    full = 0xFFF * 4 * 5250                           # 0xFFF ticks of LSI/4 to 0
    bus.run_to(full - 10)
    w.write(iwdg.KR, 4, iwdg.KEY_ACCESS)
    w.write(iwdg.RLR, 4, 99)
    w.write(iwdg.KR, 4, iwdg.KEY_RELOAD)              # also locks PR/RLR again
    w.write(iwdg.RLR, 4, 5)
    assert w.read(iwdg.RLR, 4) == 99
    bus.run_to(full - 10 + 99 * 4 * 5250 - 1)
    assert bus.resets == []
    bus.run_to(full - 10 + 99 * 4 * 5250)
    assert bus.resets == ["IWDG"]


def test_wwdg_expires_when_t6_clears_and_outside_the_window(bus: FakeBus) -> None:
    w = wwdg.Wwdg("wwdg", 0x40002C00, 0x400, bus, {})  # type: ignore[arg-type]
    assert [w.read(o, 4) for o in (wwdg.CR, wwdg.CFR, wwdg.SR)] == [0x7F, 0x7F, 0]
    w.write(wwdg.CR, 4, wwdg.CR_WDGA | 0x41)          # two ticks above 0x3F
    tick = w.tick_cycles()
    assert tick == 168 * 4096 // 42                   # PCLK1 42 MHz without an RCC
    bus.run_to(2 * tick - 1)
    assert bus.resets == []
    bus.run_to(2 * tick)
    assert bus.resets == ["WWDG"]
    w2 = wwdg.Wwdg("wwdg", 0x40002C00, 0x400, bus, {})  # type: ignore[arg-type]
    w2.write(wwdg.CFR, 4, 0x50)
    w2.write(wwdg.CR, 4, wwdg.CR_WDGA | 0x7F)
    w2.write(wwdg.CR, 4, wwdg.CR_WDGA | 0x7F)         # counter 0x7F > window 0x50
    assert bus.resets == ["WWDG", "WWDG"]


# --- CRC, RNG ------------------------------------------------------------------------------
def _mpeg2(data: bytes) -> int:
    """CRC-32/MPEG-2 from zlib's reflected CRC-32 (an independent reference)."""
    def rev8(b: int) -> int:
        return int(f"{b:08b}"[::-1], 2)
    crc32 = zlib.crc32(bytes(rev8(b) for b in data))
    return int(f"{crc32 ^ 0xFFFFFFFF:032b}"[::-1], 2)


def test_crc_unit_is_crc32_mpeg2_over_words(bus: FakeBus) -> None:
    assert _mpeg2(b"123456789") == 0x0376E6E7          # the catalogue's check value
    c = crc.Crc("crc", 0x40023000, 0x400, bus, {})  # type: ignore[arg-type]
    assert c.read(crc.DR, 4) == 0xFFFFFFFF and c.read(crc.IDR, 4) == 0
    words = [0x12345678, 0xDEADBEEF, 0]
    for w in words:
        c.write(crc.DR, 4, w)
    assert c.read(crc.DR, 4) == _mpeg2(b"".join(w.to_bytes(4, "big") for w in words))
    c.write(crc.IDR, 4, 0x1A5)
    c.write(crc.CR, 4, 1)
    assert c.read(crc.DR, 4) == 0xFFFFFFFF and c.read(crc.IDR, 4) == 0xA5


def test_rng_numbers_only_when_enabled_and_repeatable(bus: FakeBus) -> None:
    r = rng.Rng("rng", 0x50060800, 0x400, bus, {})  # type: ignore[arg-type]
    assert (r.read(rng.CR, 4), r.read(rng.SR, 4), r.read(rng.DR, 4)) == (0, 0, 0)
    r.write(rng.CR, 4, rng.CR_RNGEN | rng.CR_IE)
    assert r.read(rng.SR, 4) == rng.SR_DRDY and bus.irqs[80]
    first = [r.read(rng.DR, 4) for _ in range(4)]
    assert len(set(first)) == 4
    r.reset()
    r.write(rng.CR, 4, rng.CR_RNGEN)
    assert [r.read(rng.DR, 4) for _ in range(4)] == first


# --- RTC -----------------------------------------------------------------------------------
def test_rtc_reset_values_init_and_backup_domain(bus: FakeBus) -> None:
    r = rtc.Rtc("rtc", 0x40002800, 0x400, bus, {})  # type: ignore[arg-type]
    assert r.read(rtc.DR, 4) == 0x2101 and r.read(rtc.PRER, 4) == 0x007F00FF
    assert r.read(rtc.ISR, 4) & 0x7F == 0x27 and r.read(rtc.WUTR, 4) == 0xFFFF
    r.write(rtc.ISR, 4, rtc.ISR_INIT)
    assert r.read(rtc.ISR, 4) & rtc.ISR_INITF
    r.write(rtc.BKP0R + 4 * 19, 4, 0xA5A5)
    r.system_reset("SYSRESETREQ")
    assert r.backup(19) == 0xA5A5
    bus.vbat_held = True
    r.system_reset("power-on")
    assert r.backup(19) == 0xA5A5
    bus.vbat_held = False
    r.system_reset("power-on")
    assert r.backup(19) == 0


# --- core: DWT, MPU, bit-band, chip map ---------------------------------------------------
def test_dwt_cyccnt_counts_only_with_trcena_and_cyccntena(bus: FakeBus) -> None:
    d = dwt.Dwt("dwt", 0xE0001000, 0x1000, bus, {})  # type: ignore[arg-type]
    d.bind(bus)
    assert d.read(dwt.CTRL, 4) == 0x40000000 and d.read(dwt.CYCCNT, 4) == 0
    d.write(dwt.CTRL, 4, 1)
    bus.cycles = 100
    assert d.read(dwt.CYCCNT, 4) == 0                   # DEMCR.TRCENA still 0
    d.write_demcr(dwt.DEMCR_TRCENA)
    bus.cycles = 350
    assert d.read(dwt.CYCCNT, 4) == 250
    d.write(dwt.CYCCNT, 4, 0xFFFFFFF0)
    bus.cycles = 382
    assert d.read(dwt.CYCCNT, 4) == 0x10                # wraps at 2^32
    d.write(dwt.CTRL, 4, 0)
    bus.cycles = 1000
    assert d.read(dwt.CYCCNT, 4) == 0x10


def test_mpu_registers_and_rights() -> None:
    m = mpu.Mpu()
    assert m.read(mpu.TYPE) == 0x800 and m.read(mpu.CTRL) == 0
    m.write(mpu.RBAR, 0x20001000 | 0x10 | 3)            # VALID: region 3
    assert m.read(mpu.RNR) == 3 and m.read(mpu.RBAR) == 0x20001003
    m.write(mpu.RASR, 1 << 28 | 6 << 24 | 9 << 1 | 1)   # XN, RO, 1 KiB
    m.write(0xDA4, 0x20001000 | 0x10 | 4)               # the RBAR_A1 alias: region 4
    m.write(0xDA8, 0 << 24 | 0x02 << 8 | 9 << 1 | 1)    # no access but subregion 1
    regions = m.regions()
    assert [(r.number, r.base, r.size) for r in regions] == [(3, 0x20001000, 1024),
                                                              (4, 0x20001000, 1024)]
    assert not m.check(regions, 0x20001000, "read", True)        # region 4 wins
    assert m.check(regions, 0x20001080, "read", True)            # its subregion 1: region 3
    assert not m.check(regions, 0x20001080, "write", True)
    assert not m.check(regions, 0x20001080, "fetch", True)       # XN
    assert m.check(regions, 0x20002000, "write", False)          # outside: default map


def test_bitband_alias_addresses() -> None:
    # RCC_CR.PLLON (bit 24 of 0x40023800) as HAL's RCC_CR_PLLON_BB: 0x42470060.
    assert bitband.target(bitband.PERIPH_BASE, 0x42470060 - bitband.PERIPH_ALIAS, 4) \
        == (0x40023800, 24)
    assert bitband.target(bitband.SRAM_BASE, 32 * 5 + 4 * 3, 1) == (0x20000005, 3)


def test_chip_map_names_blocks() -> None:
    assert chipmap.describe(0x40010410) == "TIM8+0x010 (0x40010410)"
    assert chipmap.describe(0x40021C08) == "GPIOH+0x008 (0x40021c08)"
    assert chipmap.block_at(0x40007800) is None          # UART7: not on the F407


def test_iwdg_starts_at_reset_as_a_hardware_watchdog(bus: FakeBus) -> None:
    """WDG_SW = 0 in the option bytes: the IWDG runs from reset (RM0090 21.3.2)."""
    from pybench.engine.builtin.peripherals.flash import FlashInterface

    class Options(FlashInterface):
        def __init__(self) -> None:  # only what the IWDG asks: the option bytes
            self.rules = type("R", (), {"option_bytes": 0x0FFFAACC})()

    bus.peers.append(Options())
    w = iwdg.Iwdg("iwdg", 0x40003000, 0x400, bus, {})  # type: ignore[arg-type]
    w.system_reset("power-on")
    assert w.running and w.counter() == 0xFFF
    bus.run_to(0xFFF * 4 * 5250)
    assert bus.resets == ["IWDG"]
