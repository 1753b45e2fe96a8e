"""Snapshots on Renode without Renode's Save: a starting point plus what happened since.

A real Renode 1.16.1 cannot `Save` a machine that holds a Python peripheral (it
serialises the script's scope, classes included, and fails on a pointer). So a snapshot
here is the state at the last power-on (flash as a file, the flash rules' state, the
bench's time) and the journal of what the bench did since: runs of virtual time, frames
sent to the board, flash written from outside, trace resets. Restoring loads the
starting flash and rules, powers on and does the journal again with no cut armed.

This is pure bookkeeping; engine.py does the Renode side. Replaying relies on Renode
being deterministic for equal inputs at equal virtual times; the power-cut runner checks
every replay against the golden run's flash operations and says where one differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pybench.engine.base import BoardEvent, PowerCut, UartLog


@dataclass(frozen=True)
class Run:
    ns: int


@dataclass(frozen=True)
class Frame:
    data: bytes


@dataclass(frozen=True)
class WriteFlash:
    addr: int
    data: bytes


@dataclass(frozen=True)
class ResetTrace:
    pass


Entry = Run | Frame | WriteFlash | ResetTrace


@dataclass(frozen=True)
class Base:
    """Where a journal starts: a power-on (or, with the board off, the moment it was
    taken). `flash` holds the whole flash, `rules` is the flash rules' save number."""

    flash: Path
    rules: int
    now_ns: int
    powered: bool


@dataclass(frozen=True)
class Snapshot:
    base: Base
    journal: tuple[Entry, ...]
    now_ns: int
    off: bool
    armed: PowerCut | None
    events: tuple[BoardEvent, ...]
    uart: UartLog
    uart_partial: str
    frames: tuple[tuple[int, bytes], ...]


def merged(journal: tuple[Entry, ...] | list[Entry]) -> list[Entry]:
    """The journal with consecutive runs joined: one RunFor instead of many steps.

    The bench ran in small steps to look at the console and the network between them;
    a replay has nothing to look at, only inputs to give at the right virtual times."""
    out: list[Entry] = []
    for entry in journal:
        if isinstance(entry, Run) and out and isinstance(out[-1], Run):
            out[-1] = Run(out[-1].ns + entry.ns)
        elif not (isinstance(entry, Run) and entry.ns == 0):
            out.append(entry)
    return out


@dataclass
class Journal:
    """The engine's record since the current base."""

    base: Base | None = None
    entries: list[Entry] = field(default_factory=list)

    def start(self, base: Base) -> None:
        self.base = base
        self.entries = []

    def add(self, entry: Entry) -> None:
        if self.base is not None:
            self.entries.append(entry)
