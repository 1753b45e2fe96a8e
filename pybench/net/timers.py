"""Timers of the host, fired at virtual times by the wire.

Callbacks are bound methods (never closures) so that the host's whole state, timers
included, survives copy.deepcopy: a deep copy rebinds each method to the copied object.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(order=True)
class _Entry:
    time_ns: int
    seq: int
    callback: Callable[..., Any] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())


class TimerQueue:
    """A heap of (virtual time, callback); cancelled entries are skipped when due."""

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._seq = 0
        self._cancelled: set[int] = set()

    def call_at(self, time_ns: int, callback: Callable[..., Any], *args: Any) -> int:
        self._seq += 1
        heapq.heappush(self._heap, _Entry(time_ns, self._seq, callback, args))
        return self._seq

    def cancel(self, timer_id: int | None) -> None:
        if timer_id is not None:
            self._cancelled.add(timer_id)

    def next_due_ns(self) -> int | None:
        while self._heap and self._heap[0].seq in self._cancelled:
            self._cancelled.discard(heapq.heappop(self._heap).seq)
        return self._heap[0].time_ns if self._heap else None

    def pop_due(self, now_ns: int) -> list[_Entry]:
        """Remove and return the entries due at or before now_ns, earliest first."""
        due = []
        while True:
            nxt = self.next_due_ns()
            if nxt is None or nxt > now_ns:
                return due
            due.append(heapq.heappop(self._heap))
