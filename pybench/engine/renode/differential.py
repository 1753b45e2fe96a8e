"""The same power-cut campaign on both engines, compared cut for cut.

`compare` is pure: two campaigns' golden runs and cut results in, the differences out,
one line each naming the cut. `run_both` runs one campaign configuration on the
built-in engine and on Renode (same plan, same seed). docs/renode.md says why each
difference that remains is a difference of the models, not of the firmware.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from pybench.engine.base import Engine, FlashOp
from pybench.powercut.campaign import CampaignConfig, CampaignResult, run_campaign
from pybench.powercut.cutspec import format_path


@dataclass(frozen=True)
class Side:
    name: str
    golden_verdict: str
    trace: Sequence[FlashOp]
    cuts: dict[str, tuple[str, str]]   # cut path -> (verdict, reason)


def side(name: str, result: CampaignResult) -> Side:
    return Side(name, result.golden.judgement.verdict.value, result.golden.trace,
                {format_path(r.path): (r.verdict.value, r.reason) for r in result.results})


def _op(op: FlashOp) -> tuple[object, ...]:
    return (op.kind.value, op.addr, op.size, op.value)


def compare(a: Side, b: Side) -> list[str]:
    """Every difference between two campaigns of the same plan: golden run, flash
    operations (kind, address, size, value; not time), and the verdict of each cut."""
    diffs: list[str] = []
    if a.golden_verdict != b.golden_verdict:
        diffs.append(f"golden run: {a.name} {a.golden_verdict}, {b.name} {b.golden_verdict}")
    for i, (x, y) in enumerate(zip(a.trace, b.trace, strict=False)):
        if _op(x) != _op(y):
            diffs.append(f"golden flash operation {i}: {a.name} {_op(x)}, {b.name} {_op(y)}")
            break
    if len(a.trace) != len(b.trace):
        diffs.append(f"golden run: {a.name} did {len(a.trace)} flash operations, "
                     f"{b.name} {len(b.trace)}")
    for cut in sorted(set(a.cuts) | set(b.cuts)):
        va, vb = a.cuts.get(cut), b.cuts.get(cut)
        if va is None or vb is None:
            diffs.append(f"cut {cut}: only {a.name if vb is None else b.name} ran it")
        elif va[0] != vb[0]:
            diffs.append(f"cut {cut}: {a.name} {va[0]} ({va[1]}), {b.name} {vb[0]} ({vb[1]})")
    return diffs


def run_both(config: CampaignConfig, builtin: Callable[[], Engine],
             renode: Callable[[], Engine]) -> tuple[CampaignResult, CampaignResult]:
    """The campaign of `config` on each engine, one after the other."""
    first = run_campaign(replace(config, make_engine=builtin))
    second = run_campaign(replace(config, make_engine=renode))
    return first, second
