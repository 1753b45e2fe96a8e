"""FlashWatch: which flash sectors a run depended on (pybench/engine/builtin/flashwatch.py).

tests/engine/fw/flashwatch.c makes one pattern of flash accesses per CASE; each test
watches a run from power-on and checks the sectors reported, and that the program read
the same values as without the watch (protections must not change what it sees)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from elfsym import symbol

from pybench import layout

LAY = layout.load()
RUN_NS = 2_000_000_000
THUMB_RETURN_42 = bytes.fromhex("2a20" "7047")     # movs r0, #42; bx lr
STAGING_WORD = 0xA1B2C3D4
BOOT = LAY.BOOT_SECTOR
SPARE = LAY.SPARE_SECTOR
SLOT = LAY.APP_SLOT_FIRST_SECTOR
STAGING = LAY.STAGING_FIRST_SECTOR


def _run(board: Any, elf: Path, watch: bool,
         read_results: Callable[[Any, Path, int], list[int]]) -> tuple[frozenset[int] | None,
                                                                      int, bytes]:
    board.load_elf(elf)
    board.write_flash(LAY.STAGING_ADDR + 8, STAGING_WORD.to_bytes(4, "little"))
    board.write_flash(LAY.APP_SLOT_ADDR, THUMB_RETURN_42)
    if watch:
        assert board.watch_flash()
    board.power_on()
    done = symbol(elf, "result")
    board.run(RUN_NS, lambda: board.machine.read_mem(done, 4) == b"\x01\x00\x00\x00")
    depended = board.flash_depended()
    ok, got = read_results(board, elf, 2)
    assert ok == 1, "the program did not finish"
    return depended, got, board.read_flash(LAY.SPARE_ADDR, 8)


@pytest.mark.parametrize(("case", "expected", "value"), [
    (1, {BOOT, STAGING}, STAGING_WORD),   # a load from staging
    (2, {BOOT}, 0xFFFFFFFF),              # erased, then read: the old content is gone
    (3, {BOOT, SPARE}, 1),                # a program ANDs with what was there
    (4, {BOOT, SLOT}, 42),                # code fetched from the slot
    (5, {BOOT}, 0x12345678),              # erase, program, read back
], ids=["load", "erase-then-load", "program-unerased", "fetch", "erase-program-load"])
def test_sectors_the_run_depended_on(fw_elf: Callable[..., Path], case: int,
                                     expected: set[int], value: int, read_results: Any) -> None:
    from pybench.engine.builtin.engine import BuiltinEngine
    from pybench.paths import platform_file

    elf = fw_elf("flashwatch", f"CASE={case}")
    runs = []
    for watch in (True, False):
        board = BuiltinEngine()
        board.load_platform(platform_file())
        runs.append(_run(board, elf, watch, read_results))
    (depended, got, spare), (unwatched, got_plain, spare_plain) = runs
    assert depended == frozenset(expected)
    assert unwatched is None
    assert got == got_plain == value
    assert spare == spare_plain


def test_watch_ends_with_a_restore(board: Any, fw_elf: Callable[..., Path],
                                   read_results: Any) -> None:
    elf = fw_elf("flashwatch", "CASE=1")
    board.load_elf(elf)
    snap = board.snapshot()
    board.watch_flash()
    board.power_on()
    board.run(1_000_000)
    board.restore(snap)
    assert board.flash_depended() is None
    # Nothing stays protected: a plain run reads staging as before.
    depended, got, _ = _run(board, elf, False, read_results)
    assert depended is None and got == STAGING_WORD


def test_every_run_is_watched_afresh(board: Any, fw_elf: Callable[..., Path],
                                     read_results: Any) -> None:
    """The sectors a run opened stay noted in the next watched run: nothing cached from
    the previous run (unicorn's TLB) lets an access through unseen."""
    elf = fw_elf("flashwatch", "CASE=1")
    first = _run(board, elf, True, read_results)
    second = _run(board, elf, True, read_results)
    assert first == second
    assert first[0] == frozenset({BOOT, STAGING})
