"""`--shard K/N`: a deterministic part of a campaign's plan (pure).

The first-level cuts, in plan order (along the golden trace), are split into N
contiguous runs of nearly equal length and shard K takes the K-th. Every cut is in
exactly one shard, whatever the machine, and neighbouring cuts stay together, so the
dedup (a cut that joins a state judged by its neighbour) pays inside each shard as it
does in the whole campaign. The cuts a recovery run plans (`--depth`) follow their
first cut into its shard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    index: int   # 1..count
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def bounds(self, total: int) -> tuple[int, int]:
        """[start, end) of this shard among `total` items."""
        return ((self.index - 1) * total // self.count, self.index * total // self.count)

    def select(self, items: Sequence[T]) -> list[T]:
        start, end = self.bounds(len(items))
        return list(items[start:end])


@dataclass(frozen=True)
class ShardSample:
    """Several shards of one split run as one campaign: a measured part of a campaign,
    spread along the trace (pybench bench extrapolates from it)."""

    indices: tuple[int, ...]
    count: int

    def __str__(self) -> str:
        return f"{','.join(map(str, self.indices))}/{self.count}"

    def select(self, items: Sequence[T]) -> list[T]:
        return [x for k in self.indices for x in Shard(k, self.count).select(items)]


def parse_shard(text: str) -> Shard:
    """`K/N` with 1 <= K <= N; ValueError naming what is wrong."""
    m = _SHARD.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not K/N (e.g. 2/4)")
    k, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= k <= n:
        raise ValueError(f"{text!r}: K must be between 1 and N, and N at least 1")
    return Shard(k, n)
