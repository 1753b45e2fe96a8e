"""Test firmware (fw/) that performs what ST's HAL and Zephyr do at start-up, run on the
built-in engine: bit-band writes, the PLL start, a DWT delay, TIM6 as time base, an EXTI
line, the IWDG from start to expiry, an MPU guard region, an update flag in the backup
domain across a reset and across a power cut."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pybench.engine.base import StopReason
from pybench.paths import platform_file

MS = 1_000_000
Build = Callable[..., Path]


def boot(board: Any, elf: Path) -> Any:
    board.load_elf(elf)
    board.power_on()
    return board


def test_hal_clock_start_bitband_dwt_and_tim6_time_base(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("hal_clock")
    boot(board, elf)
    result = board.run_until_uart(re.compile("clock done"), 50 * MS)
    assert result.reason == StopReason.CONDITION
    cr, cfgr, acr, word, bits, cyc_off, delay, nine_ticks, ticks = read_results(board, elf, 9)
    assert cr & (1 << 17) and cr & (1 << 25)          # HSERDY, PLLRDY
    assert cfgr & 0xF == 0b1010                        # SW = SWS = PLL
    assert acr & 7 == 5
    assert word == 1 << 5                              # bit 5 set, bit 31 cleared
    assert bits == 1                                   # alias reads bit 5 = 1, bit 6 = 0
    assert cyc_off == 0                                # CYCCNT idle without TRCENA
    assert 16800 <= delay < 16800 + 20
    # TIM6 at 84 MHz / 84 with ARR 999: an update every 1 ms, the handler entered at
    # the same instruction each time: nine periods are exactly 9 ms of cycles.
    assert nine_ticks == 9 * 168_000
    assert ticks == 10
    assert board.machine.unmodelled == {}


def test_exti_line_by_software_and_by_the_pin(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    from pybench.engine.builtin.peripherals.gpio import GpioPort

    elf = fw_elf("exti")
    boot(board, elf)
    assert board.run_until_uart(re.compile("exti soft"), 10 * MS).reason \
        == StopReason.CONDITION
    board.run(MS)
    assert "exti pin" not in board.uart().text
    port_a = next(m for m in board.machine.models
                  if isinstance(m, GpioPort) and m.port == 0)
    port_a.drive(0, True)
    assert board.run_until_uart(re.compile("exti pin"), 10 * MS).reason \
        == StopReason.CONDITION
    hits, pr_soft, pr_pin, pr_after = read_results(board, elf, 4)
    assert (hits, pr_soft, pr_pin, pr_after) == (2, 1, 1, 0)


def test_iwdg_refreshed_then_expired_resets_with_iwdgrstf(board: Any, fw_elf: Build) -> None:
    boot(board, fw_elf("iwdg"))
    result = board.run_until_uart(re.compile("reset by iwdg"), 200 * MS)
    assert result.reason == StopReason.CONDITION
    lines = board.uart().lines
    assert lines[0] == "csr=0e000000"                  # POR, PIN, BOR after power-on
    assert lines[1:6] == ["refresh"] * 5 and lines[6] == "waiting"
    # IWDGRSTF and PINRSTF added to the power-on flags; RMVF clears them all.
    assert re.fullmatch(r"reset by iwdg csr=2e00000[0-3] after=0000000[0-3]", lines[7])
    waiting = next(e.time_ns for e in board.events() if e.kind == "watchdog")
    resets = [e for e in board.events() if e.kind == "reset"]
    assert resets[-1].detail == "IWDG" and resets[-1].time_ns == waiting
    # Five 5 ms rounds after the start, then 80 ticks of 125 us: expiry near 35 ms.
    assert 34 * MS < waiting < 36 * MS


def test_mpu_guard_region_faults_and_the_store_runs_again(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("mpu")
    boot(board, elf)
    assert board.run_until_uart(re.compile("mpu done"), 10 * MS).reason \
        == StopReason.CONDITION
    faults, cfsr0, mmfar0, cfsr1, mmfar1, guard2, ro1, mpu_type, guard, _, ro = \
        read_results(board, elf, 11)
    assert mpu_type == 8 << 8
    assert faults == 2
    assert cfsr0 == 0x82 and mmfar0 == guard + 8       # DACCVIOL | MMARVALID
    assert cfsr1 == 0x82 and mmfar1 == ro + 4
    assert guard2 == 0x600DF00D and ro1 == 0x12345678   # replayed once the MPU was off
    kinds = [e.detail for e in board.events() if e.kind == "fault"]
    assert len(kinds) == 2 and all("-> MemManage" in k for k in kinds)


def _backup_board(vbat_held: bool) -> Any:
    from pybench.engine.builtin.engine import BuiltinEngine

    eng = BuiltinEngine(vbat_held=vbat_held)
    eng.load_platform(platform_file())
    return eng


def _power_cycle(eng: Any) -> None:
    eng.machine.power_off("test")
    eng.power_on()


def test_backup_domain_kept_across_reset_lost_at_power_cut(fw_elf: Build) -> None:
    eng = _backup_board(vbat_held=False)
    boot(eng, fw_elf("backup"))
    eng.run(20 * MS)
    assert eng.uart().lines == ["bkp 00000000 00000000", "bkp b0070001 cafe0001"]
    _power_cycle(eng)
    eng.run(20 * MS)
    assert eng.uart().lines[2:] == ["bkp 00000000 00000000", "bkp b0070001 cafe0001"]


def test_backup_domain_kept_across_power_cut_with_vbat(fw_elf: Build) -> None:
    eng = _backup_board(vbat_held=True)
    boot(eng, fw_elf("backup"))
    eng.run(20 * MS)
    _power_cycle(eng)
    eng.run(20 * MS)
    assert eng.uart().lines == ["bkp 00000000 00000000", "bkp b0070001 cafe0001",
                                "bkp b0070001 cafe0001"]

