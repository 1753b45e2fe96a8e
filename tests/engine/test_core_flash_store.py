"""CPU stores into flash as the core handles them with the flash controller: the raw
store when it is right, the controller's value when it is not, and a power cut that
stops right after the store it hits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pybench.engine.base import CutMode, FlashOpKind, PowerCut, StopReason
from pybench.layout import load as load_layout

MS = 1_000_000
SPARE = load_layout().SPARE_ADDR


def words(board: Any, n: int) -> list[int]:
    raw = board.read_flash(SPARE, 4 * n)
    return [int.from_bytes(raw[i : i + 4], "little") for i in range(0, len(raw), 4)]


def done(board: Any, elf: Path, read_results: Any) -> Callable[[], bool]:
    return lambda: read_results(board, elf, 1) == [1]


def test_program_refused_overprogram_and_halfword(board: Any, fw_elf: Callable[..., Path],
                                                  read_results: Any) -> None:
    elf = fw_elf("flashcore")
    board.load_elf(elf)
    board.write_flash(SPARE, bytes(64))          # stale data the erase must clear
    board.power_on()
    assert board.run(2000 * MS, done(board, elf, read_results)).reason == StopReason.CONDITION
    got = words(board, 17)
    assert got[:16] == [0x11110000 + i for i in range(16)]
    assert got[16] == 0xFFFFA5A5
    trace = board.flash_trace()
    kinds = [op.kind for op in trace]
    assert kinds[0] == FlashOpKind.ERASE and kinds.count(FlashOpKind.PROGRAM) >= 17
    assert board.cpu_state().pc < SPARE          # running the program, not data


@pytest.mark.parametrize("op", [1, 5, 16])
def test_power_cut_after_program_n(board: Any, fw_elf: Callable[..., Path], op: int) -> None:
    board.load_elf(fw_elf("flashcore"))
    board.arm_power_cut(PowerCut(op, CutMode.AFTER))
    board.power_on()
    result = board.run(2000 * MS)
    assert result.reason == StopReason.POWER_CUT
    assert len(board.flash_trace()) == op + 1
    got = words(board, 16)
    assert got[:op] == [0x11110000 + i for i in range(op)]
    assert got[op:] == [0xFFFFFFFF] * (16 - op)
    assert board.events()[-1].kind == "power-cut"
    assert board.run(MS).reason == StopReason.POWER_CUT   # off until power_on


def test_restore_brings_flash_and_trace_back(board: Any, fw_elf: Callable[..., Path],
                                             read_results: Any) -> None:
    elf = fw_elf("flashcore")
    board.load_elf(elf)
    board.power_on()
    board.run(MS // 100)
    snap = board.snapshot()
    before = board.read_flash(SPARE, 64)
    board.run(2000 * MS, done(board, elf, read_results))
    first = (words(board, 17), len(board.flash_trace()), board.now_ns, board.state_digest())
    assert first[0][0] == 0x11110000
    board.restore(snap)
    assert board.read_flash(SPARE, 64) == before
    board.run(2000 * MS, done(board, elf, read_results))
    assert (words(board, 17), len(board.flash_trace()), board.now_ns,
            board.state_digest()) == first
