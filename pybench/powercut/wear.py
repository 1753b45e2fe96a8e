"""Wear: the erase cycles one update costs each flash sector, and how many updates the
device survives at the datasheet's endurance. Pure: the golden run's trace in."""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

from pybench.engine.base import FlashOp, FlashOpKind

# STM32F405/407 datasheet, "Flash memory endurance and data retention": 10 kcycles.
ENDURANCE_CYCLES = 10_000


def erases_per_sector(trace: Sequence[FlashOp]) -> dict[int, int]:
    counts = collections.Counter(op.sector for op in trace if op.kind is FlashOpKind.ERASE)
    return dict(sorted(counts.items()))


def wear(trace: Sequence[FlashOp], endurance: int = ENDURANCE_CYCLES, updates: int = 1
         ) -> dict[str, Any]:
    """erases_per_update {sector: cycles} (over `updates` updates in a row: a chain, the
    mean, rounded to 0.01), the worst sector, and updates_survived: how many such updates
    the worst sector takes before its endurance is spent (None when nothing is erased)."""
    per = erases_per_sector(trace)
    worst = max(per, key=lambda s: (per[s], -s)) if per else None
    return {"erases_per_update": {str(s): _mean(n, updates) for s, n in per.items()},
            "endurance_cycles": endurance, "worst_sector": worst, "updates": updates,
            "updates_survived": endurance * updates // per[worst] if worst is not None
            else None}


def _mean(n: int, updates: int) -> int | float:
    return n if updates == 1 else round(n / updates, 2)


def describe(w: dict[str, Any]) -> str:
    if w["worst_sector"] is None:
        return "wear: the update erases no sector"
    per = ", ".join(f"sector {s}: {n}" for s, n in w["erases_per_update"].items())
    return (f"wear: erase cycles per update ({per}); {w['updates_survived']} updates at "
            f"{w['endurance_cycles']} cycles (sector {w['worst_sector']} wears first)")
