"""Which power cuts a campaign makes: pure, deterministic from (trace, options, seed).

The input is the golden run's flash trace (FlashOp list, indices from 0). Plans:

exhaustive  a cut BEFORE every operation, plus AFTER the last one.
states      one cut per distinct flash state (states.py): BEFORE and AFTER every
            effective erase; for every burst of programs, BEFORE its first word, AFTER
            its first word, BEFORE its last word and AFTER its last word. Cuts that leave
            the same number of effective operations done leave the same flash, so only
            one of them is kept (the earliest).
boundaries  BEFORE and AFTER every erase, the first and last word of every metadata
            record (a journal record, a flag word), and the first and last program of
            every run of programs into one sector; plus AFTER the last operation.
random      `random_count` cuts drawn from the exhaustive plan with the seed.

Any plan may add `random_count` random cuts (random does nothing else), torn cuts
(`torn`: a TORN cut at every operation the plan chose, for each progress value, each
with its own seed derived from the plan's seed) and a phase filter (only operations in
the staging slot, the journal, the application slot...).

Depth: plan_followups() chooses the second (third, ...) cuts during the recovery run
that follows a cut, from that run's own trace, sampled with the seed when many.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from pybench.device import metadata
from pybench.device.model import Device
from pybench.engine.base import CutMode, FlashOp, FlashOpKind, PowerCut
from pybench.powercut import states
from pybench.powercut.cutspec import CutPath, cut_key, format_path
from pybench.powercut.phases import Phase, phase_of


class PlanKind(str, enum.Enum):
    EXHAUSTIVE = "exhaustive"
    STATES = "states"
    BOUNDARIES = "boundaries"
    RANDOM = "random"


@dataclass(frozen=True)
class PlanOptions:
    kind: PlanKind = PlanKind.BOUNDARIES
    seed: int = 0
    random_count: int = 0
    torn: bool = False
    torn_progress: tuple[float, ...] = (0.5,)
    torn_seeds: int = 1                      # torn cuts per (operation, progress)
    phases: frozenset[Phase] | None = None   # None: every phase
    depth: int = 1                           # 1: no cuts during recovery
    depth_samples: int = 8                   # most follow-up cuts per recovery run
    # Flash failures instead of power cuts (CutMode.is_fault): the plan's operations get
    # each failure that applies to them, and no cut.
    faults: tuple[CutMode, ...] = ()
    # Not options of the plan itself: the device (its layout and metadata say where the
    # records and phases are), and the flash when the trace started, for `states`.
    device: Device | None = field(default=None, compare=False, repr=False)
    initial_flash: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def the_device(self) -> Device:
        if self.device is None:
            raise ValueError("plan options without a device: the plan needs its layout")
        return self.device

    def describe(self) -> dict[str, object]:
        """The options as plain values, for reports."""
        return {
            "plan": self.kind.value, "seed": self.seed, "random": self.random_count,
            "torn": self.torn, "torn_progress": list(self.torn_progress),
            "torn_seeds": self.torn_seeds,
            "phases": sorted(p.value for p in self.phases) if self.phases else "all",
            "depth": self.depth, "depth_samples": self.depth_samples,
            **({"faults": [f.value for f in self.faults]} if self.faults else {}),
        }


def _before(i: int) -> PowerCut:
    return PowerCut(i, CutMode.BEFORE)


def _after(i: int) -> PowerCut:
    return PowerCut(i, CutMode.AFTER)


def exhaustive(trace: Sequence[FlashOp]) -> list[PowerCut]:
    cuts = [_before(op.index) for op in trace]
    if trace:
        cuts.append(_after(trace[-1].index))
    return cuts


def distinct_states(trace: Sequence[FlashOp], initial: bytes | None, device: Device
                    ) -> list[PowerCut]:
    eff = states.effective_ops(trace, initial, device.layout)
    done_before = []   # effective operations completed before each op
    count = 0
    for e in eff:
        done_before.append(count)
        count += int(e)
    candidates: list[PowerCut] = []
    for b in states.bursts(trace, eff, device.layout):
        if b.kind is FlashOpKind.ERASE:
            candidates += [_before(b.first), _after(b.first)]
        else:
            candidates += [_before(b.first), _after(b.first), _before(b.last), _after(b.last)]
    pos = {op.index: n for n, op in enumerate(trace)}

    def state_of(cut: PowerCut) -> int:
        n = pos[cut.op_index]
        return done_before[n] + (int(eff[n]) if cut.mode is CutMode.AFTER else 0)

    seen: set[int] = set()
    out: list[PowerCut] = []
    for cut in sorted(candidates, key=cut_key):
        s = state_of(cut)
        if s not in seen:
            seen.add(s)
            out.append(cut)
    return out


def _runs(trace: Sequence[FlashOp],
          key: Callable[[FlashOp], int]) -> list[tuple[FlashOp, FlashOp]]:
    """(first, last) of each maximal run of consecutive programs with equal key(op)."""
    runs: list[tuple[FlashOp, FlashOp]] = []
    current: list[FlashOp] = []
    for op in trace:
        if current and (op.kind is not FlashOpKind.PROGRAM or key(op) != key(current[-1])):
            runs.append((current[0], current[-1]))
            current = []
        if op.kind is FlashOpKind.PROGRAM:
            current.append(op)
    if current:
        runs.append((current[0], current[-1]))
    return runs


def boundaries(trace: Sequence[FlashOp], device: Device) -> list[PowerCut]:
    marks: list[int] = [op.index for op in trace if op.kind is FlashOpKind.ERASE]

    def record(op: FlashOp) -> int:
        if metadata.is_metadata(device, op.addr):
            return metadata.record_of(device, op.addr)
        return -1 - op.sector  # outside the metadata: runs by sector

    for first, last in _runs(trace, record) + _runs(trace, lambda op: op.sector):
        marks += [first.index, last.index]
    cuts = [c for i in marks for c in (_before(i), _after(i))]
    if trace:
        cuts.append(_after(trace[-1].index))
    return cuts


def seeded_random(trace: Sequence[FlashOp], count: int, seed: int) -> list[PowerCut]:
    pool = exhaustive(trace)
    rng = random.Random(f"powercut-random:{seed}")
    return rng.sample(pool, min(count, len(pool)))


def torn_cuts(ops: Iterable[int], progress: Sequence[float], per: int,
              seed: int) -> list[PowerCut]:
    """TORN cuts at each operation index; the torn bits' seed comes from the plan seed."""
    out = []
    for i in ops:
        for p in progress:
            for k in range(per):
                s = random.Random(f"powercut-torn:{seed}:{i}:{p}:{k}").randrange(1 << 31)
                out.append(PowerCut(i, CutMode.TORN, p, s))
    return out


# Which operations each flash failure changes (platforms/stm32f4_flash_rules.py).
FAULT_APPLIES = {
    CutMode.SILENT: (FlashOpKind.PROGRAM,),
    CutMode.DROPPED: (FlashOpKind.PROGRAM, FlashOpKind.ERASE),
    CutMode.DISTURB: (FlashOpKind.PROGRAM,),
    CutMode.WEAK_ERASE: (FlashOpKind.ERASE,),
    CutMode.STUCK: (FlashOpKind.PROGRAM, FlashOpKind.ERASE),
}


def fault_cuts(ops: Iterable[FlashOp], faults: Sequence[CutMode], seed: int
               ) -> list[PowerCut]:
    """Each failure that applies at each operation; its bits' seed from the plan seed."""
    out = []
    for op in ops:
        for kind in faults:
            if op.kind in FAULT_APPLIES[kind]:
                s = random.Random(f"powercut-fault:{seed}:{op.index}:{kind.value}"
                                  ).randrange(1 << 31)
                out.append(PowerCut(op.index, kind, seed=s))
    return sorted(out, key=cut_key)


def plan_cuts(trace: Sequence[FlashOp], options: PlanOptions) -> list[PowerCut]:
    """The first-level cuts of a campaign, sorted along the trace, without duplicates."""
    if options.kind is PlanKind.EXHAUSTIVE:
        base = exhaustive(trace)
    elif options.kind is PlanKind.STATES:
        base = distinct_states(trace, options.initial_flash, options.the_device)
    elif options.kind is PlanKind.BOUNDARIES:
        base = boundaries(trace, options.the_device)
    else:
        base = []
    if options.random_count:
        base += seeded_random(trace, options.random_count, options.seed)
    by_index = {op.index: op for op in trace}
    if options.phases is not None:
        lay = options.the_device.layout
        base = [c for c in base if phase_of(by_index[c.op_index], lay) in options.phases]
    if options.faults:
        return fault_cuts([by_index[i] for i in sorted({c.op_index for c in base})],
                          options.faults, options.seed)
    cuts = set(base)
    if options.torn:
        ops = sorted({c.op_index for c in base})
        cuts |= set(torn_cuts(ops, options.torn_progress, options.torn_seeds, options.seed))
    return sorted(cuts, key=cut_key)


def plan_followups(parent: CutPath, recovery: Sequence[FlashOp],
                   options: PlanOptions) -> list[CutPath]:
    """Cuts during the recovery after `parent`, one level deeper, as whole paths.

    The candidates are the options' plan over the recovery trace (boundaries for a
    random plan), sampled down to depth_samples with a seed derived from the plan's
    seed and the parent path, so the same parent always gets the same children.
    """
    if len(parent) >= options.depth or not recovery:
        return []
    kind = PlanKind.BOUNDARIES if options.kind is PlanKind.RANDOM else options.kind
    sub = replace(options, kind=kind, random_count=0, initial_flash=None)
    candidates = plan_cuts(recovery, sub)
    if len(candidates) > options.depth_samples:
        rng = random.Random(f"powercut-depth:{options.seed}:{format_path(parent)}")
        candidates = sorted(rng.sample(candidates, options.depth_samples), key=cut_key)
    return [(*parent, c) for c in candidates]
