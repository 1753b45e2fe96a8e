"""Renode's Robot keywords on the built-in engine: the monitor-command subset (pure) and
the keywords driving a real built-in board. On Renode they pass through to Renode's own
server: robot/renode_keywords.robot with ENGINE:renode (and the `renode` test below)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from pybench.paths import platform_file, repo_root
from pybench.robot import renode_monitor as rm
from pybench.robot.RenodeKeywords import BuiltinBoard

CWD = Path("/w")


@pytest.mark.parametrize(("line", "kind"), [
    ('mach create "stm32f407"', "mach-create"),
    ("machine LoadPlatformDescription @platforms/stm32f407-eth.repl", "load-platform"),
    ("sysbus LoadELF @/abs/boot.elf", "load-elf"),
    ("sysbus LoadBinary @app.img 0x08010000", "load-binary"),
    ("sysbus.flash SetRange 0 0x100000 0xFF", "set-range"),
    ('macro reset "cpu VectorTableOffset 0x08000000"', "reset-macro"),
    ("emulation SetGlobalAdvanceImmediately true", "advance-immediately"),
    ("start", "start"), ("emulation Start", "start"), ("pause", "pause"),
    ('emulation RunFor "00:00:01.500000"', "run-for"),
])
def test_the_set_up_commands_are_understood(line: str, kind: str) -> None:
    assert rm.parse(line, CWD).kind == kind


def test_arguments_are_read() -> None:
    assert rm.parse("machine LoadPlatformDescription @p/b.repl", CWD).path == CWD / "p/b.repl"
    assert rm.parse("sysbus LoadELF @/abs/boot.elf", CWD).path == Path("/abs/boot.elf")
    binary = rm.parse("sysbus LoadBinary @app.img 0x08010000", CWD)
    assert (binary.path, binary.address) == (CWD / "app.img", 0x08010000)
    fill = rm.parse("sysbus.flash SetRange 0x10 32 0xAB", CWD)
    assert (fill.target, fill.address, fill.length, fill.value) == ("flash", 0x10, 32, 0xAB)
    assert rm.parse('emulation RunFor "00:00:01.500000"', CWD).ns == 1_500_000_000


@pytest.mark.parametrize("line", [
    "sysbus WriteDoubleWord 0x20000000 1",
    "showAnalyzer sysbus.usart1",
    "sysbus LoadELF boot.elf",            # a file is @path in the monitor
    "machine Reset",
])
def test_any_other_command_is_refused_naming_it(line: str) -> None:
    with pytest.raises(rm.UnsupportedCommand) as e:
        rm.parse(line, CWD)
    assert repr(line) in str(e.value) or "@path" in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(("text", "ns"), [
    ("00:00:00.000100", 100_000), ("01:02:03", 3_723_000_000_000), ("0.25", 250_000_000),
    ("1:30.5", 90_500_000_000),
])
def test_time_intervals(text: str, ns: int) -> None:
    assert rm.parse_time_ns(text) == ns


def test_a_frame_keeps_its_body_only_with_a_good_fcs() -> None:
    body = bytes(range(60))
    good = body + zlib.crc32(body).to_bytes(4, "little")
    assert rm.strip_fcs(good) == body
    assert rm.strip_fcs(good[:-1] + b"\x00") is None


def test_bytes_at_index_with_wildcards() -> None:
    frame = bytes.fromhex("ffffffffffff0200000000010806")
    assert rm.bytes_match("0806", 12, frame)
    assert rm.bytes_match("08__", 12, frame)
    assert not rm.bytes_match("0800", 12, frame)
    assert not rm.bytes_match("080600", 12, frame)   # runs past the end


def test_the_keywords_drive_a_builtin_board(built: Path) -> None:
    board = BuiltinBoard()
    try:
        board.execute('mach create "stm32f407"')
        board.execute(f"machine LoadPlatformDescription @{platform_file()}")
        board.execute(f"sysbus LoadELF @{built / 'boot.elf'}")
        board.execute(f"sysbus LoadBinary @{built / 'app-v1.img'} 0x08010000")
        uart = board.create_tester("uart", "sysbus.usart1", 5.0)
        with pytest.raises(AssertionError, match="Start Emulation first"):
            board.wait_line("boot:", None, uart, regex=False)
        board.start()
        hit = board.wait_line(r"app: firmware v(\d)", None, uart, regex=True)
        assert hit["groups"] == ["1"]
        with pytest.raises(AssertionError, match="Terminal tester failed"):
            board.wait_line("no such line", 0.05, uart, regex=False)
        with pytest.raises(AssertionError, match="does not offer the monitor command"):
            board.execute("sysbus WriteDoubleWord 0x20000000 1")
        with pytest.raises(AssertionError, match="emulation is already started"):
            board.execute('emulation RunFor "0.001"')
        board.execute("pause")
        before = board._board().now_ns
        board.execute('emulation RunFor "0.001"')
        assert board._board().now_ns - before == 1_000_000
    finally:
        board.close()


def test_the_renode_keyword_suite_passes_on_the_builtin_engine(built: Path,
                                                                tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "robot", "--outputdir", str(tmp_path), "--variable",
         "ENGINE:builtin", str(repo_root() / "robot" / "renode_keywords.robot")],
        capture_output=True, text=True, cwd=repo_root())
    assert run.returncode == 0, run.stdout[-3000:]
    assert "4 tests, 4 passed, 0 failed" in run.stdout


@pytest.mark.renode
def test_the_renode_keyword_suite_passes_on_renode(built: Path, tmp_path: Path) -> None:
    assert shutil.which("renode") is not None
    run = subprocess.run(
        [sys.executable, "-m", "robot", "--outputdir", str(tmp_path), "--variable",
         "ENGINE:renode", str(repo_root() / "robot" / "renode_keywords.robot")],
        capture_output=True, text=True, cwd=repo_root())
    assert run.returncode == 0, run.stdout[-3000:]
    assert "4 tests, 4 passed, 0 failed" in run.stdout
