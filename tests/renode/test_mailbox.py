"""The files shared with the scripts inside Renode."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybench.engine.base import CutMode, FlashOpKind, PowerCut
from pybench.engine.renode.mailbox import Mailbox, arm_line, parse_dump, parse_frames
from pybench.errors import BenchError

DUMP = """\
op 0 erase 0x08080000 131072 8 - 1000 0x080012a4
op 1 program 0x08080000 4 8 0x4c4e524a 2000 0x080013b0
event flash power cut before flash operation 1 (program at 0x08080000, sector 8)
"""


def test_parse_dump() -> None:
    ops, events = parse_dump(DUMP)
    assert [op.kind for op in ops] == [FlashOpKind.ERASE, FlashOpKind.PROGRAM]
    assert ops[0].value is None and ops[0].size == 131072 and ops[0].sector == 8
    assert ops[1].value == 0x4C4E524A and ops[1].pc == 0x080013B0 and ops[1].time_ns == 2000
    assert events[0].kind == "flash" and events[0].detail.startswith("power cut before")


def test_parse_dump_names_file_and_line_on_garbage() -> None:
    with pytest.raises(BenchError, match=r"dump.txt:2: cannot parse"):
        parse_dump("op 0 erase 0x0 4 0 - 0 0x0\nop x\n", "dump.txt")


def test_parse_frames() -> None:
    assert parse_frames("5000 ffff\n\n7000 0102\n") == [(5000, b"\xff\xff"), (7000, b"\x01\x02")]
    with pytest.raises(BenchError, match=r"frames-out\.txt:1"):
        parse_frames("5000 zz\n")


def test_arm_line() -> None:
    assert arm_line(None) == "none\n"
    assert arm_line(PowerCut(7, CutMode.TORN, 0.25, 3)) == "7 torn 0.25 3\n"


def test_new_frames_leaves_a_half_written_line(tmp_path: Path) -> None:
    box = Mailbox(tmp_path)
    assert box.new_frames(0) == ([], 0)
    (tmp_path / "frames-out.txt").write_text("10 aa\n20 b")
    frames, offset = box.new_frames(0)
    assert frames == [(10, b"\xaa")] and offset == 6
    with (tmp_path / "frames-out.txt").open("a") as f:
        f.write("b\n")
    assert box.new_frames(offset) == ([(20, b"\xbb")], 12)


def test_power_cut_marker_is_taken_once(tmp_path: Path) -> None:
    box = Mailbox(tmp_path)
    assert not box.take_power_cut()
    (tmp_path / "power-cut.txt").write_text("3\n")
    assert box.take_power_cut()
    assert not box.take_power_cut()
