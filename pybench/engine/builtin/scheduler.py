"""Timed callbacks of the models, in virtual CPU cycles; deterministic order (time, then
the order they were scheduled), cancellable, and saved whole in snapshots."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

NEVER = 1 << 62


class Scheduler:
    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._seq = 0

    def clear(self) -> None:
        self._heap = []
        self._cancelled = set()

    def schedule(self, at: int, callback: Callable[[], None]) -> int:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, callback))
        return self._seq

    def cancel(self, handle: object) -> None:
        if isinstance(handle, int):
            self._cancelled.add(handle)

    def next_at(self) -> int:
        heap = self._heap
        while heap and heap[0][1] in self._cancelled:
            self._cancelled.discard(heapq.heappop(heap)[1])
        return heap[0][0] if heap else NEVER

    def pop_due(self, now: int) -> Callable[[], None] | None:
        """The next callback due at or before `now`, removed; None when nothing is due."""
        if self.next_at() > now:
            return None
        return heapq.heappop(self._heap)[2]

    def save(self) -> Any:
        return (tuple(self._heap), frozenset(self._cancelled), self._seq)

    def load(self, state: Any) -> None:
        heap, cancelled, self._seq = state
        self._heap = list(heap)
        self._cancelled = set(cancelled)
