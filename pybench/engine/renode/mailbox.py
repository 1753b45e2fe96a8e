"""The files the bench shares with scripts running inside Renode.

The flash controller (platforms/flash_controller.py) and the frame recorder
(recorders.py) run in Renode's IronPython and cannot answer the bench with more than
one integer through the monitor, so they exchange files in a per-engine directory,
passed to Renode as PYBENCH_RENODE_MAILBOX:

    arm.txt          bench -> flash     "op_index mode progress seed" or "none"
    flash-dump.txt   flash -> bench     "op ..." and "event ..." lines (parse_dump)
    power-cut.txt    flash -> bench     exists once power failed; removed by the bench
    read.txt, flash-read.bin, write.txt, flash-write.bin: flash reads and writes
    flash-save-N.txt flash <-> flash    the rules' state for snapshot N
    frames-out.txt   frames -> bench    "time_ns hexbytes" per frame the board sent
    console.txt      console -> bench   every byte USART1 sent
    frames-dropped.txt  recorders -> bench  "length reason" per frame kept from the MAC
    base-N.bin       bench <-> Renode   flash at a snapshot's starting point
    epoch.txt        bench -> flash     Renode's time minus the bench's (after a restore)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pybench.engine.base import BoardEvent, FlashOp, FlashOpKind, PowerCut
from pybench.errors import BenchError

_KINDS = {"erase": FlashOpKind.ERASE, "program": FlashOpKind.PROGRAM}


def arm_line(cut: PowerCut | None) -> str:
    if cut is None:
        return "none\n"
    return f"{cut.op_index} {cut.mode.value} {cut.progress!r} {cut.seed}\n"


def parse_dump(text: str, source: str = "flash-dump.txt") -> tuple[list[FlashOp], list[BoardEvent]]:
    """The flash controller's dump: trace entries and events, in order."""
    ops: list[FlashOp] = []
    events: list[BoardEvent] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        words = line.split(" ", 2)
        try:
            if words[0] == "op":
                f = line.split()
                ops.append(FlashOp(
                    index=int(f[1]), kind=_KINDS[f[2]], addr=int(f[3], 0), size=int(f[4]),
                    sector=int(f[5]), value=None if f[6] == "-" else int(f[6], 0),
                    time_ns=int(f[7]), pc=int(f[8], 0)))
            elif words[0] == "event":
                rest = words[2] if len(words) > 2 else ""
                events.append(BoardEvent(0, words[1], rest))
            else:
                raise ValueError(f"unknown record {words[0]!r}")
        except (IndexError, KeyError, ValueError) as e:
            raise BenchError(f"{source}:{lineno}: cannot parse {line!r} ({e})") from None
    return ops, events


def parse_frames(text: str, source: str = "frames-out.txt") -> list[tuple[int, bytes]]:
    """Frames the board sent: (virtual time ns, bytes) per line "time_ns hex"."""
    frames: list[tuple[int, bytes]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            time_s, hex_s = line.split()
            frames.append((int(time_s), bytes.fromhex(hex_s)))
        except ValueError as e:
            raise BenchError(f"{source}:{lineno}: cannot parse {line!r} ({e})") from None
    return frames


@dataclass
class Mailbox:
    path: Path

    def file(self, name: str) -> Path:
        return self.path / name

    def write_arm(self, cut: PowerCut | None) -> None:
        self.file("arm.txt").write_text(arm_line(cut))

    def take_power_cut(self) -> bool:
        """True once after the flash controller cut power (the marker is consumed)."""
        marker = self.file("power-cut.txt")
        if not marker.exists():
            return False
        marker.unlink()
        return True

    def dump(self) -> tuple[list[FlashOp], list[BoardEvent]]:
        path = self.file("flash-dump.txt")
        return parse_dump(path.read_text(), str(path))

    def new_lines(self, name: str, offset: int) -> tuple[list[str], int]:
        """Complete lines appended to `name` since byte `offset`, and the new offset."""
        path = self.file(name)
        if not path.exists():
            return [], offset
        with path.open("rb") as f:
            f.seek(offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        return data[:end].decode(errors="replace").splitlines(), offset + end

    def new_frames(self, offset: int) -> tuple[list[tuple[int, bytes]], int]:
        """Complete frame lines appended since byte `offset`, and the new offset."""
        path = self.file("frames-out.txt")
        if not path.exists():
            return [], offset
        with path.open("rb") as f:
            f.seek(offset)
            data = f.read()
        end = data.rfind(b"\n") + 1   # a line being written is left for next time
        return parse_frames(data[:end].decode(), str(path)), offset + end
