"""The Renode engine. Without Renode only the refusal to start is tested here; the tests
marked `renode` run the real bootloader and application in Renode and are skipped, with
the reason "Renode not installed", when the renode executable is not on PATH."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pybench import layout
from pybench.engine.base import CutMode, PowerCut, StopReason
from pybench.engine.renode import NOT_INSTALLED, RenodeEngine, create_engine
from pybench.errors import BenchError
from pybench.image.format import parse_image
from pybench.journal import JournalRecord, State, build_sectors
from pybench.paths import platform_file

MS = 1_000_000


def test_without_renode_the_engine_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("PYBENCH_RENODE", raising=False)
    with pytest.raises(BenchError) as e:
        create_engine(platform_file())
    assert str(e.value) == NOT_INSTALLED
    assert NOT_INSTALLED == "Renode not installed (renode not on PATH): see docs/renode.md"


def test_a_wrong_renode_override_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYBENCH_RENODE", "/nonexistent/renode")
    with pytest.raises(BenchError, match=r"PYBENCH_RENODE='/nonexistent/renode' is not"):
        RenodeEngine()


@pytest.fixture
def board(built: Path) -> Iterator[RenodeEngine]:
    engine = create_engine(platform_file())
    assert isinstance(engine, RenodeEngine)
    try:
        engine.load_elf(built / "boot.elf")
        engine.write_flash(layout.load().APP_SLOT_ADDR, (built / "app-v1.img").read_bytes())
        engine.power_on()
        yield engine
    finally:
        engine.close()


@pytest.mark.renode
def test_flash_written_by_the_bench_reads_back(board: RenodeEngine) -> None:
    addr = layout.load().SPARE_ADDR
    board.write_flash(addr, b"\x12\x34\x56\x78")
    assert board.read_flash(addr, 6) == b"\x12\x34\x56\x78\xff\xff"


@pytest.mark.renode
def test_loading_an_elf_writes_only_its_file_bytes(built: Path) -> None:
    """A programmer writes a segment's file bytes; the bootloader's .bss (its 12 KiB
    signature heap, after .data's load address) must not become zeros in flash: Renode's
    LoadELF wrote them, over the journal's first 84 records."""
    engine = create_engine(platform_file())
    try:
        engine.load_elf(built / "boot.elf")
        lay = layout.load()
        assert engine.read_flash(lay.JOURNAL_A_ADDR, lay.JOURNAL_SECTOR_SIZE) == \
            b"\xff" * lay.JOURNAL_SECTOR_SIZE
    finally:
        engine.close()


@pytest.mark.renode
def test_the_board_boots_and_talks_on_the_console(board: RenodeEngine) -> None:
    result = board.run(500 * MS, lambda: len(board.uart().lines) >= 2)
    assert result.reason is StopReason.CONDITION, board.uart().text
    assert not board.cpu_state().in_fault_handler


@pytest.mark.renode
def test_a_power_cut_at_the_first_flash_operation_stops_the_run(board: RenodeEngine,
                                                               built: Path) -> None:
    """A staged update makes the bootloader write flash (copy down, or a REJECTED record
    if it disagrees with the staged image): its first operation is where power fails."""
    lay = layout.load()
    staged = (built / "app-v2.img").read_bytes()
    image = parse_image(staged)
    record = JournalRecord(seq=1, state=State.STAGED, image_size=len(staged),
                           image_version=image.header.image_version,
                           digest=image.header.body_sha256)
    sector_a, sector_b = build_sectors([record])
    board.write_flash(lay.STAGING_ADDR, staged)
    board.write_flash(lay.JOURNAL_A_ADDR, sector_a)
    board.write_flash(lay.JOURNAL_B_ADDR, sector_b)
    board.reset_trace()
    board.arm_power_cut(PowerCut(0, CutMode.BEFORE))
    board.power_on()
    before = board.read_flash(lay.APP_SLOT_ADDR, 64)
    result = board.run(2000 * MS)
    assert result.reason is StopReason.POWER_CUT, board.uart().text
    assert [op.index for op in board.flash_trace()] == [0]
    assert board.read_flash(lay.APP_SLOT_ADDR, 64) == before   # "before": nothing changed
    assert board.run(MS).reason is StopReason.POWER_CUT        # off until power_on()
    board.power_on()
    assert board.run(MS).reason is StopReason.DEADLINE


@pytest.mark.renode
def test_snapshot_and_restore_bring_flash_back(board: RenodeEngine) -> None:
    addr = layout.load().SPARE_ADDR
    snap = board.snapshot()
    board.write_flash(addr, b"\x00\x00\x00\x00")
    board.restore(snap)
    assert board.read_flash(addr, 4) == b"\xff\xff\xff\xff"
