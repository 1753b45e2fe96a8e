"""The golden trace as runs of one phase, and a stand-in trace built from them.

Reports draw the golden update's flash operations coloured by phase (report.py), which
needs only each operation's phase, and a phase follows from the address alone (and the
device's layout). A shard's
JSON report keeps the runs (first operation, address of that operation) so that `pybench
powercut merge` can draw the same picture without the trace itself (131,000 operations
for a 256 KiB update over HTTP).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import overload

from pybench.device.model import Layout
from pybench.engine.base import FlashOp, FlashOpKind
from pybench.powercut.phases import Phase, phases_of


def phase_runs(trace: Sequence[FlashOp], lay: Layout) -> list[list[int]]:
    """[first index, address of that operation] of each run of operations of one phase
    (the phase of an address is the role of its region in the device's layout)."""
    runs: list[list[int]] = []
    previous: Phase | None = None
    for n, (op, phase) in enumerate(zip(trace, phases_of(trace, lay), strict=True)):
        if phase is not previous:
            runs.append([n, op.addr])
            previous = phase
    return runs


class RunsTrace(Sequence[FlashOp]):
    """A trace of `length` operations whose phases are those of `runs`: each operation
    stands for the first one of its run (same address, so the same phase)."""

    def __init__(self, runs: Sequence[Sequence[int]], length: int) -> None:
        self.runs = [(int(first), int(addr)) for first, addr in runs]
        self.length = length
        self._starts = [first for first, _ in self.runs]

    def __len__(self) -> int:
        return self.length

    def _op(self, n: int) -> FlashOp:
        if not 0 <= n < self.length:
            raise IndexError(n)
        _, addr = self.runs[bisect.bisect_right(self._starts, n) - 1]
        return FlashOp(n, FlashOpKind.PROGRAM, addr, 0, 0, None, 0, 0)

    @overload
    def __getitem__(self, n: int) -> FlashOp: ...
    @overload
    def __getitem__(self, n: slice) -> Sequence[FlashOp]: ...
    def __getitem__(self, n: int | slice) -> FlashOp | Sequence[FlashOp]:
        if isinstance(n, slice):
            return [self._op(i) for i in range(*n.indices(self.length))]
        return self._op(n if n >= 0 else n + self.length)
