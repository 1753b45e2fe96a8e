from __future__ import annotations

from dataclasses import replace

from pc_traces import TraceBuilder, erased_flash, update_trace
from sample_device import SAMPLE

from pybench import layout
from pybench.engine.base import CutMode, FlashOpKind, PowerCut
from pybench.powercut.phases import Phase, phase_of
from pybench.powercut.plan import (
    PlanKind,
    PlanOptions,
    plan_cuts,
    plan_followups,
)


def test_exhaustive_cuts_before_every_op_and_after_the_last() -> None:
    trace = update_trace()
    cuts = plan_cuts(trace, PlanOptions(device=SAMPLE, kind=PlanKind.EXHAUSTIVE))
    assert [c.op_index for c in cuts if c.mode is CutMode.BEFORE] == list(range(len(trace)))
    assert [c for c in cuts if c.mode is CutMode.AFTER] == [PowerCut(len(trace) - 1,
                                                                     CutMode.AFTER)]


def test_boundaries_hit_erases_journal_record_edges_and_sector_runs() -> None:
    trace = update_trace(data_words=8)
    cuts = set(plan_cuts(trace, PlanOptions(device=SAMPLE, kind=PlanKind.BOUNDARIES)))
    for op in trace:
        if op.kind is FlashOpKind.ERASE:
            assert PowerCut(op.index, CutMode.BEFORE) in cuts
            assert PowerCut(op.index, CutMode.AFTER) in cuts
    # staging: erase 0, data 1..8; STAGED record 9..24: first and last word of each
    for index in (1, 8, 9, 24):
        assert PowerCut(index, CutMode.BEFORE) in cuts
    # a word in the middle of a record, or of a data run, is not a boundary
    assert PowerCut(15, CutMode.BEFORE) not in cuts
    assert PowerCut(4, CutMode.BEFORE) not in cuts


def test_states_skip_ops_that_change_nothing_and_group_bulk_data() -> None:
    lay = layout.load()
    t = TraceBuilder().erase(lay.APP_SLOT_FIRST_SECTOR)       # already erased: no change
    t.program(lay.APP_SLOT_ADDR, b"\x01\x00\x00\x00" * 6)    # one burst of 6 words
    t.program(lay.APP_SLOT_ADDR + 24, b"\xff" * 4)             # all ones: no change
    opts = PlanOptions(device=SAMPLE, kind=PlanKind.STATES, initial_flash=erased_flash())
    cuts = plan_cuts(t.ops, opts)
    # states: nothing done / 1 word / 5 words / 6 words
    assert cuts == [PowerCut(1, CutMode.BEFORE), PowerCut(1, CutMode.AFTER),
                    PowerCut(6, CutMode.BEFORE), PowerCut(6, CutMode.AFTER)]
    # without the initial flash the erase counts as a change
    assert PowerCut(0, CutMode.AFTER) in plan_cuts(t.ops, replace(opts, initial_flash=None))


def test_states_keep_every_word_of_a_journal_record() -> None:
    trace = update_trace(data_words=16)
    cuts = plan_cuts(trace, PlanOptions(device=SAMPLE, kind=PlanKind.STATES,
                                        initial_flash=erased_flash()))
    journal_ops = {op.index for op in trace
                   if phase_of(op, SAMPLE.layout) is Phase.JOURNAL and op.value != 0xFFFFFFFF}
    cut_ops = {c.op_index for c in cuts}
    assert journal_ops <= cut_ops
    # bulk data is grouped: far fewer cuts than operations
    data_ops = {op.index for op in trace if phase_of(op, SAMPLE.layout) is not Phase.JOURNAL}
    assert len(cut_ops & data_ops) < len(data_ops) // 2


def test_random_is_deterministic_per_seed() -> None:
    trace = update_trace(data_words=64)
    a = plan_cuts(trace, PlanOptions(device=SAMPLE, kind=PlanKind.RANDOM, random_count=10, seed=7))
    b = plan_cuts(trace, PlanOptions(device=SAMPLE, kind=PlanKind.RANDOM, random_count=10, seed=7))
    c = plan_cuts(trace, PlanOptions(device=SAMPLE, kind=PlanKind.RANDOM, random_count=10, seed=8))
    assert a == b and len(a) == 10 and a != c


def test_torn_cuts_at_planned_ops_with_seeded_shapes() -> None:
    trace = update_trace()
    opts = PlanOptions(device=SAMPLE, kind=PlanKind.BOUNDARIES, torn=True,
                       torn_progress=(0.25, 0.75), seed=3)
    cuts = plan_cuts(trace, opts)
    torn = [c for c in cuts if c.mode is CutMode.TORN]
    planned = {c.op_index for c in cuts if c.mode is not CutMode.TORN}
    assert {c.op_index for c in torn} == planned
    assert {c.progress for c in torn} == {0.25, 0.75}
    assert torn == [c for c in plan_cuts(trace, opts) if c.mode is CutMode.TORN]
    other = [c.seed for c in plan_cuts(trace, replace(opts, seed=4)) if c.mode is CutMode.TORN]
    assert other != [c.seed for c in torn]


def test_phase_filter_keeps_only_that_phase() -> None:
    trace = update_trace()
    cuts = plan_cuts(trace, PlanOptions(device=SAMPLE, kind=PlanKind.EXHAUSTIVE,
                                        phases=frozenset({Phase.COPY_DOWN})))
    assert cuts and all(phase_of(trace[c.op_index], SAMPLE.layout) is Phase.COPY_DOWN
                        for c in cuts)


def test_followups_are_sampled_deterministically_and_stop_at_depth() -> None:
    trace = update_trace(data_words=64)
    opts = PlanOptions(device=SAMPLE, kind=PlanKind.EXHAUSTIVE, depth=2, depth_samples=5, seed=1)
    parent = (PowerCut(3),)
    kids = plan_followups(parent, trace, opts)
    assert len(kids) == 5 and all(k[0] == parent[0] and len(k) == 2 for k in kids)
    assert kids == plan_followups(parent, trace, opts)
    assert kids != plan_followups((PowerCut(4),), trace, opts)
    assert plan_followups(kids[0], trace, opts) == []        # depth reached
    assert plan_followups(parent, [], opts) == []            # nothing to cut in
