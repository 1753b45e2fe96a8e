"""A campaign on one engine: the golden run with its snapshots, then one cut path at a
time (restore, cut, power on, recover, judge), with the verdicts of flash states
already judged reused.

Dedup: after a cut, power-on clears RAM and resets the CPU, so what happens next is
determined by flash (plus the cuts still to come and whether the update had been
committed). A recovery run is watched for the flash sectors it depends on, and a later
power-on whose flash agrees on those sectors takes its outcome without running
(judged.py).
"""

from __future__ import annotations

import bisect
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from pybench.device import metadata
from pybench.device.model import Layout, MetadataKind
from pybench.engine.base import CutMode, Engine, FlashOp, PowerCut
from pybench.errors import BenchError
from pybench.powercut import oracle, rules, states
from pybench.powercut.cutspec import CutPath, format_path
from pybench.powercut.judged import JudgedStates
from pybench.powercut.oracle import Judgement, UpdateFacts, Verdict
from pybench.powercut.phases import phase_of
from pybench.powercut.plan import PlanKind, PlanOptions, plan_followups
from pybench.powercut.scenario import Scenario, StepFailed
from pybench.powercut.settle import CutEngine, PowerFailed, Spacing, wait_ready

SETTLE = "settle"


# Most snapshots kept inside resumable steps: past this, every other one is dropped and
# the spacing doubles, so a long update keeps between MAX_MARKS / 2 and MAX_MARKS of
# them without knowing its length in advance. A cut replays the golden run from the
# snapshot before it: the closer they are, the less it replays (a 256 KiB update has
# 131,000 flash operations: 4096 keeps one every 64 of them, and a cut of its staging
# costs 3 ms instead of 14 with 192). The built-in engine's snapshots share what did
# not change (the flash chunks, the flash trace), so a snapshot of an upload costs
# about 0.1 MiB: mostly RAM, and the host's copy of the transfer.
MAX_MARKS = 4096
# A snapshot costs the golden run 1-3 ms: a plan of N random cuts keeps at most 2N of
# them (at least FEW_MARKS), or the golden run of a short campaign of a long update
# would cost more than its cuts save.
FEW_MARKS = 192
# An engine whose snapshots are slow (Renode saves the whole emulation to a file) gets
# few of them, by virtual time only, at least this far apart.
SLOW_MAX_MARKS = 24
SLOW_EVERY_NS = 50_000_000


@dataclass(frozen=True)
class Checks:
    """What is checked after a recovery besides the image it ends on (rules.py)."""

    reboots: bool = True       # boot again (reset, power cycle): nothing written, same image
    soak_ns: int = 0           # after the power cycle's ready line, run this long: no reset
    repair: str = ""           # regex of console lines that show a repair path ("": none)
    repair_fails: bool = False  # a recovery through a repair path is a failure (repaired)


@dataclass
class Snap:
    step: int            # index into the steps (len(steps): the final wait for ready)
    trace_len: int       # flash operations done when it was taken
    engine: object
    world: object        # the scenario's state
    mark: bool = False   # taken inside a step (thinned), not at its start


@dataclass(frozen=True)
class LinkFacts:
    """One update of a chain (chain.py; a campaign without --chain has one): from which
    flash operation of the golden trace on its cuts are its own, what it must do, and
    where along the trace it became committed (oracle.commit_point)."""

    start: int
    facts: UpdateFacts
    commit: int | None


@dataclass
class Golden:
    trace: list[FlashOp]
    snaps: list[Snap]
    initial_flash: bytes
    facts: UpdateFacts
    judgement: Judgement
    uart: str
    commit: int | None          # oracle.commit_point() along the trace
    links: list[LinkFacts] = field(default_factory=list)

    def nearest_snap(self, op_index: int) -> Snap:
        """The last snapshot taken at or before this operation (the snapshots are in
        trace order: a cut's replay starts there)."""
        at = bisect.bisect_right(self._snap_lens, op_index) - 1
        return self.snaps[max(at, 0)]

    @cached_property
    def _snap_lens(self) -> list[int]:
        return [s.trace_len for s in self.snaps]

    def link_of(self, op_index: int) -> int:
        """The link a cut at this operation belongs to."""
        k = 0
        for i, link in enumerate(self.links):
            if link.start <= op_index:
                k = i
        return k

    @property
    def ok(self) -> bool:
        """Ended as the update must: the new image installed, or the old one kept."""
        return self.judgement.verdict is oracle.expected(self.facts)

    @property
    def digest(self) -> str:
        """Identifies the trace, so that workers can check they replayed the same run."""
        h = hashlib.sha256()
        for op in self.trace:
            h.update(f"{op.kind.value}{op.addr}{op.size}{op.value}".encode())
        return h.hexdigest()[:16]


@dataclass
class CutResult:
    path: CutPath
    verdict: Verdict
    reason: str
    phase: str                 # phase of the golden operation of the first cut
    op: dict[str, object]      # that operation: kind, addr, sector
    recovery_ns: int           # virtual time of the last recovery (power-on to verdict)
    wall_s: float
    state: str                 # name of the state at the first power-on after the first
                               # cut (judged.py; "+c": the update was committed by then)
    uart: str                  # console from that power-on on
    followups: list[CutPath] = field(default_factory=list)
    flash_file: str | None = None
    repaired: str = ""         # the console line of a repair path the recovery took
    joined: bool = False       # an earlier cut judged the same state (set by the campaign)
    ran: bool = False          # its last recovery was run here, not taken from a judged
                               # state this worker had seen (depends on -j: speed only)


@dataclass
class _Passage:
    """What a recovery that ended in the next cut did: its console, the flash operations
    it completed, and what the cut operation left when it was torn (address, bytes: they
    depend only on flash the run depended on, or wrote itself)."""

    uart: str
    ops: list[FlashOp]
    torn: tuple[int, bytes] | None

    def apply(self, flash: bytes, lay: Layout) -> bytes:
        """The flash this recovery left, run from `flash` (an equal state)."""
        after = bytearray(flash)
        for _, _, now in states.replay(self.ops, flash, lay):
            after = now
        if self.torn is not None:
            addr, data = self.torn
            off = addr - lay.FLASH_BASE_ADDR
            after[off : off + len(data)] = data
        return bytes(after)


@dataclass
class _Outcome:
    """What follows a power-on when no cut comes any more (or the next one never came)."""

    judgement: Judgement
    recovery_ns: int
    uart: str
    final_flash: bytes
    recovery_trace: list[FlashOp]   # of the level where the path ended
    repaired: str = ""              # a console line of the bootloader's repair path


def flash_image(engine: Engine, lay: Layout) -> bytes:
    return engine.read_flash(lay.FLASH_BASE_ADDR, lay.FLASH_TOTAL_SIZE)


def committed_in(flash: bytes, facts: UpdateFacts) -> bool:
    return metadata.committed(facts.device, flash, facts.new_image)


def observe(engine: Engine, facts: UpdateFacts, ready: bool, t0: int, bound_ns: int,
            committed: bool, slot_written: bool = False) -> oracle.Observation:
    lay = facts.device.layout
    slot_len = max(len(facts.old_image), len(facts.new_image))
    return oracle.Observation(
        boot=engine.read_flash(lay.boot.addr, lay.boot.size),
        slot=engine.read_flash(lay.app_slot.addr, slot_len),
        cpu=engine.cpu_state(), ready=ready, elapsed_ns=engine.now_ns - t0,
        bound_ns=bound_ns, committed=committed, slot_written=slot_written,
    )


class CutRunner:
    """One engine, its golden run, and the cuts run on it one after the other."""

    def __init__(self, make_engine: Callable[[], Engine], scenario: Scenario,
                 options: PlanOptions, spacing: Spacing | None = None,
                 flash_dir: Path | None = None, dedup: bool = True,
                 checks: Checks | None = None) -> None:
        self.engine = CutEngine(make_engine())
        self.scenario = scenario
        self.options = replace(options, device=scenario.device)
        self.layout = lay = scenario.device.layout
        self.spacing = spacing      # where marks start (None: at step starts only)
        self.flash_dir = flash_dir
        self.dedup = dedup          # False: run every recovery (to check the dedup)
        self.checks = checks or Checks()
        # Each sector as (offset in a flash image, size).
        self.sectors = [(a - lay.FLASH_BASE_ADDR, n)
                        for a, n in zip(lay.sector_addrs, lay.sector_sizes, strict=True)]
        self.judged: JudgedStates[_Outcome | _Passage] = JudgedStates(self.sectors)
        self.cut_flash = b""            # the flash at the last power-on after a cut
        self.golden = self._golden()
        self.link = 0
        self.commit = self.golden.commit

    # --- the golden run ---------------------------------------------------------------
    def _golden(self) -> Golden:
        eng, sc = self.engine, self.scenario
        sc.prepare(eng)
        facts = sc.facts(eng)
        self.golden_facts = facts
        initial = flash_image(eng, self.layout)
        eng.reset_trace()
        ev0 = self.golden_ev0 = len(eng.events())
        trace: list[FlashOp] | None = None
        snaps: list[Snap] = []
        steps = sc.steps()
        judgement: Judgement | None = None
        uart_start = len(eng.uart().text)
        spacing = self.spacing
        max_marks = MAX_MARKS
        if self.options.kind is PlanKind.RANDOM:
            max_marks = min(MAX_MARKS, max(FEW_MARKS, 2 * self.options.random_count))
        if spacing is not None and not eng.cheap_snapshots:
            spacing = Spacing(max(spacing.every_ns, SLOW_EVERY_NS), 0)
            max_marks = SLOW_MAX_MARKS

        def mark(step: int) -> None:
            nonlocal spacing
            snaps.append(Snap(step, eng.flash_op_count(), eng.snapshot(), sc.save(), True))
            marks = [s for s in snaps if s.mark]
            if len(marks) > max_marks and spacing is not None:
                dropped = {id(s) for s in marks[1::2]}
                snaps[:] = [s for s in snaps if id(s) not in dropped]
                spacing = Spacing(2 * spacing.every_ns, 2 * spacing.every_ops)
                eng.marks(spacing, lambda: mark(step))

        commit: int | None = None
        settled = False
        starts: dict[int, tuple[int, bytes]] = {}   # link -> (first operation, flash)
        for i in range(len(steps) + 1):
            if i < len(steps) and steps[i].link is not None:
                starts[steps[i].link] = (eng.flash_op_count(), flash_image(eng, self.layout))
            snaps.append(Snap(i, eng.flash_op_count(), eng.snapshot(), sc.save()))
            resumable = i == len(steps) or steps[i].resumable
            if resumable and spacing:
                eng.marks(spacing, lambda i=i: mark(i))
            try:
                if i < len(steps):
                    steps[i].run(eng)
                else:
                    ready = wait_ready(eng, sc.state, SETTLE, sc.ready, sc.bound_ns,
                                       sc.run_until(eng), self._looping(len(eng.events())))
                    trace = list(eng.flash_trace())
                    commit = oracle.commit_point(trace, initial, facts)
                    settled = True
                    eng.marks(None)
                    last = starts.get(len(sc.links) - 1, (0, b""))[0]
                    judgement = self.judge_run(ready, int(sc.state[SETTLE]["t0"]), ev0,
                                               commit is not None, initial, trace, since=last,
                                               segments=_segments(initial, trace, starts))
                    if judgement.verdict.ok and self.checks.reboots:
                        judgement, _ = self._reboots(judgement)
            except StepFailed as e:
                judgement = Judgement(Verdict.BRICKED, f"step {steps[i].name}: {e}")
            except PowerFailed:
                judgement = Judgement(Verdict.BRICKED, "power failed with no cut armed")
            finally:
                eng.marks(None)
            if judgement is not None:
                break
        assert judgement is not None
        if trace is None:
            trace = list(eng.flash_trace())
        if not settled:
            commit = oracle.commit_point(trace, initial, facts)
        links = [LinkFacts(0, facts, commit)]
        if len(sc.links) > 1:
            links = []
            for k in range(len(sc.links)):
                if k not in starts:   # the golden run ended before this link
                    break
                start, flash = starts[k]
                link_facts = sc.link_facts(eng, k)
                links.append(LinkFacts(start, link_facts, oracle.commit_point(
                    [op for op in trace if op.index >= start], flash, link_facts)))
        return Golden(trace, snaps, initial, facts, judgement, eng.uart().text[uart_start:],
                      commit, links)

    def _select_link(self, op_index: int) -> int:
        """Judge the cuts at this operation by its link's facts; returns the link."""
        k = self.golden.link_of(op_index)
        link = self.golden.links[k]
        self.golden_facts, self.commit = link.facts, link.commit
        return k

    def golden_ok(self) -> bool:
        return self.golden.ok

    def plan_options(self) -> PlanOptions:
        return replace(self.options, initial_flash=self.golden.initial_flash)

    # --- one cut path -----------------------------------------------------------------
    def _run_to_first_cut(self, path: CutPath) -> bool:
        """Restore, arm, carry the golden run on until the cut; False if it never came.

        The operations done from the snapshot to the cut must be the golden run's: a
        replay that took another way (the network, say) would cut somewhere else."""
        eng, sc = self.engine, self.scenario
        snap = self.golden.nearest_snap(path[0].op_index)
        sc.restore(eng, snap.engine, snap.world)
        eng.arm_power_cut(path[0])
        steps = sc.steps()
        try:
            for step in steps[snap.step :]:
                step.run(eng)
            wait_ready(eng, sc.state, SETTLE, sc.ready, sc.bound_ns, sc.run_until(eng))
        except PowerFailed:
            self._check_replay(snap.trace_len, path[0].op_index)
            return True
        except StepFailed:
            return False
        finally:
            eng.arm_power_cut(None)
        return False

    def _check_replay(self, start: int, cut: int) -> None:
        def what(op: FlashOp) -> tuple[object, ...]:
            return (op.kind, op.addr, op.size, op.value)

        replayed = self.engine.flash_ops_since(start)[: cut + 1 - start]
        golden = self.golden.trace[start : cut + 1]
        for op, want in zip(replayed, golden, strict=False):
            if what(op) != what(want):
                raise BenchError(f"the replay left the golden run at flash operation "
                                 f"{op.index}: {op.kind.value} at 0x{op.addr:08x} instead of "
                                 f"{want.kind.value} at 0x{want.addr:08x}")
        if len(replayed) != len(golden):
            raise BenchError(f"the replay did {len(replayed)} flash operations up to the cut, "
                             f"the golden run {len(golden)}")

    def run(self, path: CutPath) -> CutResult:
        started = time.perf_counter()
        golden_op = self.golden.trace[path[0].op_index] if path[0].op_index < len(
            self.golden.trace) else None
        phase = phase_of(golden_op, self.layout).value if golden_op else "?"
        op_info: dict[str, object] = {} if golden_op is None else {
            "kind": golden_op.kind.value, "addr": golden_op.addr, "sector": golden_op.sector}
        self.link = self._select_link(path[0].op_index)
        if path[0].mode.is_fault:
            return self._run_fault(path, phase, op_info, started)
        try:
            if golden_op is None or not self._run_to_first_cut(path):
                return CutResult(path, Verdict.CUT_MISSED, "the cut's operation never happened",
                                 phase, op_info, 0, time.perf_counter() - started, "", "")
            outcome, state, uart, ran = self._recover(path)
        except (BenchError, ValueError, RuntimeError, AssertionError) as e:
            # The emulator broke, not the firmware: say so rather than guess a verdict.
            return CutResult(path, Verdict.ENGINE_ERROR, f"{type(e).__name__}: {e}", phase,
                             op_info, 0, time.perf_counter() - started, "",
                             self.engine.uart().text[-4000:])
        flash_file = None
        if not outcome.judgement.verdict.ok and self.flash_dir is not None:
            flash_file = self._save_flash(path, outcome.final_flash, uart)
        followups = plan_followups(path, outcome.recovery_trace, self.options)
        return CutResult(path, outcome.judgement.verdict, outcome.judgement.reason, phase,
                         op_info, outcome.recovery_ns, time.perf_counter() - started, state,
                         uart, followups, flash_file, outcome.repaired, ran=ran)

    # --- a flash failure -------------------------------------------------------------
    def _run_fault(self, path: CutPath, phase: str, op_info: dict[str, object],
                   started: float) -> CutResult:
        """Restore, arm the failure, and carry the whole update on to its end (the board
        stays on): the steps left, the wait for ready, then the same judgement as the
        golden run's. A step that fails (the device refused the upload: it noticed) is
        followed by a power cycle, and the board is judged after it."""
        eng, sc, fault = self.engine, self.scenario, path[0]
        facts = self.golden_facts

        def result(judgement: Judgement, uart: str, ns: int = 0, flash: bytes = b"",
                   repaired: str = "") -> CutResult:
            flash_file = None
            if not judgement.verdict.ok and flash and self.flash_dir is not None:
                flash_file = self._save_flash(path, flash, uart)
            return CutResult(path, judgement.verdict, judgement.reason, phase, op_info, ns,
                             time.perf_counter() - started, "", uart, [], flash_file,
                             repaired, ran=True)

        if fault.op_index >= len(self.golden.trace):
            return result(Judgement(Verdict.CUT_MISSED, "the failure's operation never "
                                    "happened"), "")
        snap = self.golden.nearest_snap(fault.op_index)
        try:
            sc.restore(eng, snap.engine, snap.world)
            text0 = len(eng.uart().text)
            eng.arm_power_cut(fault)
            refused = ""
            try:
                try:
                    for step in sc.steps()[snap.step :]:
                        step.run(eng)
                except StepFailed as e:
                    refused = str(e)
                if refused:
                    # The device refused the update: a user powers it off and on again.
                    sc.power_lost(eng)
                    eng.power_on()
                    sc.state.pop(SETTLE, None)
                ready = wait_ready(eng, sc.state, SETTLE, sc.ready, sc.bound_ns,
                                   sc.run_until(eng), self._looping(self.golden_ev0))
            finally:
                eng.arm_power_cut(None)
            t0 = int(sc.state[SETTLE]["t0"])
            trace = list(eng.flash_trace())
            if len(trace) <= fault.op_index:
                return result(Judgement(Verdict.CUT_MISSED, "the failure's operation never "
                                        "happened"), eng.uart().text[text0:])
            self._check_replay(snap.trace_len, fault.op_index)
            golden_commit = self.commit
            final = self.cut_flash = flash_image(eng, self.layout)   # for --export
            committed = (golden_commit is not None and golden_commit < fault.op_index) \
                or committed_in(final, facts)
            judgement = self.judge_run(ready, t0, self.golden_ev0, committed,
                                       self.golden.initial_flash, trace, fault=True,
                                       since=self.golden.links[self.link].start)
            uart = eng.uart().text[text0:]
            if judgement.verdict.ok and self.checks.reboots:
                judgement, more = self._reboots(judgement)
                uart += more
        except PowerFailed:
            return result(Judgement(Verdict.ENGINE_ERROR, "power failed with no cut armed"),
                          eng.uart().text[-4000:])
        except (BenchError, ValueError, RuntimeError, AssertionError) as e:
            return result(Judgement(Verdict.ENGINE_ERROR, f"{type(e).__name__}: {e}"),
                          eng.uart().text[-4000:])
        if refused and judgement.verdict.ok:
            judgement = replace(judgement, reason=f"{judgement.reason} (after the device "
                                                  f"refused the update: {refused})")
        repaired = self._repair_line(uart)
        judgement = fault_verdict(judgement, fault, uart, facts)
        return result(judgement, uart, eng.now_ns - t0, final if not judgement.verdict.ok
                      else b"", repaired)

    def _repair_line(self, uart: str) -> str:
        if not self.checks.repair:
            return ""
        rx = re.compile(self.checks.repair)
        return next((line for line in uart.splitlines() if rx.search(line)), "")

    def _recover(self, path: CutPath) -> tuple[_Outcome, str, str, bool]:
        """From the board off after path[0]: power-ons, later cuts, the verdict.

        Every level's run is watched: the flash sectors it depended on name its state, and
        a later power-on that agrees on them takes what followed without running: the
        verdict for the last level, the flash the next cut left for the others."""
        eng, facts, judged = self.engine, self.golden_facts, self.judged
        commit = self.commit
        committed = commit is not None and commit < path[0].op_index
        first_state = ""
        uart_parts: list[str] = []
        ran = False
        slot_written = False     # by an earlier level of this path
        for level in range(len(path)):
            flash = flash_image(eng, self.layout)
            self.cut_flash = flash      # what the last cut left, for --export
            committed = committed or committed_in(flash, facts)
            rest = f"{self.link}|" + format_path(path[level + 1 :])
            digests = judged.digests(flash)
            found = judged.find(digests, rest, committed) if self.dedup else None
            if found is not None and isinstance(found[1], _Outcome) \
                    and not found[1].judgement.verdict.ok:
                # A failure keeps its own console and flash.bin: flash the judged run
                # never read (staging, say) may differ, and whoever debugs it needs this
                # cut's. Failures are few; their recoveries run.
                found = None
            if found is not None:
                first_state = first_state or found[0]
                step = found[1]
            else:
                step, depended = self._run_level(path, level, committed, flash)
                name = judged.add(digests, depended, rest, committed, self._kept(step))
                first_state = first_state or name
            ran = found is None
            if isinstance(step, _Outcome):
                if slot_written and facts.expect == "old" and step.judgement.verdict.ok:
                    step = replace(step, judgement=Judgement(
                        Verdict.SLOT_ERASED, "application slot erased or programmed for an "
                        "update that must be refused (by a recovery that power cut short)"))
                return step, first_state, "".join(uart_parts) + step.uart, ran
            slot_written = slot_written or oracle.writes_slot(step.ops, facts)
            if found is not None:      # the flash the next cut left, as the judged run did
                after = step.apply(flash, self.layout)
                base = self.layout.FLASH_BASE_ADDR
                for off, size in self.sectors:
                    if after[off : off + size] != flash[off : off + size]:
                        eng.write_flash(base + off, after[off : off + size])
            uart_parts.append(step.uart + "\n--- power cut ---\n")
        raise BenchError(f"cut {format_path(path)}: no recovery was run")

    def _kept(self, step: _Outcome | _Passage) -> _Outcome | _Passage | None:
        """What the table keeps of a run: not a failure (never reused), not the final
        flash (only a failure's is saved), the recovery's trace only for follow-ups.
        A campaign on a bad bootloader may judge thousands of states."""
        if not isinstance(step, _Outcome):
            return step
        if not step.judgement.verdict.ok:
            return None
        return replace(step, final_flash=b"",
                       recovery_trace=step.recovery_trace if self.options.depth > 1 else [])

    def _run_level(self, path: CutPath, level: int, committed: bool, flash: bytes
                   ) -> tuple[_Outcome | _Passage, frozenset[int] | None]:
        """Power on and run (watched) until the verdict, or until the next cut fires; what
        followed, and the flash sectors the run depended on."""
        eng, sc = self.engine, self.scenario
        sc.power_lost(eng)
        eng.reset_trace()
        nxt = path[level + 1] if level + 1 < len(path) else None
        eng.watch_flash()
        ev0 = len(eng.events())
        eng.power_on()
        t0, text0 = eng.now_ns, len(eng.uart().text)
        eng.arm_power_cut(nxt)
        state: dict[str, object] = {}
        try:
            ready = wait_ready(eng, state, SETTLE, sc.ready, sc.bound_ns, sc.run_until(eng),
                               self._looping(ev0))
        except PowerFailed:
            depended = eng.flash_depended()
            trace = list(eng.flash_trace())
            if nxt is None or not trace or trace[-1].index != nxt.op_index:
                raise BenchError(f"level {level + 2}: power failed away from its cut") from None
            cut_op = trace[-1]
            done = trace if nxt.mode is CutMode.AFTER else trace[:-1]
            uart = eng.uart().text[text0:]
            # The rules hold for a recovery that a cut interrupts too: what it did up to
            # the cut may already break one (a protected write, a refused operation).
            found = rules.event_rules(eng.events()[ev0:], True) \
                or rules.trace_rules(done, flash, self.layout)
            if found is not None:
                found = replace(found, reason=f"{found.reason} (in the recovery the cut at "
                                              f"level {level + 2} interrupted)")
                return _Outcome(found, eng.now_ns - t0, uart, flash_image(eng, self.layout),
                                trace), depended
            torn = (cut_op.addr, eng.read_flash(cut_op.addr, cut_op.size)) \
                if nxt.mode is CutMode.TORN else None
            return _Passage(uart, done, torn), depended
        finally:
            eng.arm_power_cut(None)
        trace = list(eng.flash_trace())
        recovery_ns, uart = eng.now_ns - t0, eng.uart().text[text0:]
        if nxt is not None:
            judgement = Judgement(Verdict.CUT_MISSED,
                                  f"recovery never reached the cut at level {level + 2}")
        else:
            judgement = self.judge_run(ready, t0, ev0, committed, flash, trace)
            if judgement.verdict.ok and self.checks.reboots:
                judgement, more = self._reboots(judgement)
                uart += more
        depended = eng.flash_depended()
        repaired = self._repair_line(uart)
        if repaired and self.checks.repair_fails and judgement.verdict.ok:
            judgement = Judgement(Verdict.REPAIRED, f"recovered through the bootloader's "
                                                    f"repair path: {repaired!r}")
        return _Outcome(judgement, recovery_ns, uart, flash_image(eng, self.layout), trace,
                        repaired), depended

    def _looping(self, ev0: int) -> Callable[[], bool]:
        """A stop condition: the board has reset often enough to call it a boot loop, or
        touched memory the chip lacks (either verdict is settled: rules.event_rules)."""
        eng = self.engine

        def looping() -> bool:
            events = eng.events()[ev0:]
            return sum(e.kind == "reset" for e in events) > rules.LOOP_RESETS or any(
                e.kind == "fault" and "unmapped" in e.detail for e in events)

        return looping

    def judge_run(self, ready: bool, t0: int, ev0: int, committed: bool, flash: bytes,
                  trace: Sequence[FlashOp], fault: bool = False, since: int = 0,
                  segments: list[tuple[bytes, list[FlashOp]]] | None = None) -> Judgement:
        """The verdict of a run from power-on (flash: what it powered on with; ev0: the
        number of board events before it): the stricter rules first, then the oracle,
        then the journal. After a flash failure (`fault`) the trace rules are not asked:
        the flash the trace replays is not the flash the board had. `since`: the first
        operation of the update being judged (a chain's last link), for the slot rule.
        `segments`: the trace in parts, each with the flash it started from (a chain whose
        bench wrote flash between its links), for the trace rules."""
        eng, sc, facts = self.engine, self.scenario, self.golden_facts
        found = rules.event_rules(eng.events()[ev0:], ready)
        if found is None and not fault:
            for start, ops in segments or [(flash, list(trace))]:
                found = found or rules.trace_rules(ops, start, self.layout)
        if found is not None:
            cpu = eng.cpu_state()
            if cpu.lockup or cpu.in_fault_handler:   # where it ended, as the oracle says it
                what = "locked up" if cpu.lockup else f"in fault handler (IPSR {cpu.ipsr})"
                found = replace(found, reason=f"{found.reason}; CPU {what} at pc "
                                              f"0x{cpu.pc:08x}")
            return found
        ours = [op for op in trace if op.index >= since] if since else trace
        judgement = oracle.judge(observe(eng, facts, ready, t0, sc.bound_ns, committed,
                                         oracle.writes_slot(ours, facts)), facts)
        meta = facts.device.metadata
        if judgement.verdict.ok and meta.kind is MetadataKind.JOURNAL:
            # Only the journal's regions: a read here counts for the flash watch (dedup),
            # and the recovery has read them anyway.
            a, b = (eng.read_flash(r.addr, r.size)
                    for r in (self.layout.region(n) for n in meta.regions))
            return rules.journal_rule(a, b) or judgement
        return judgement

    def _reboots(self, first: Judgement) -> tuple[Judgement, str]:
        """Boot a recovered board again, by a reset and by a power cycle: nothing is
        pending, so no flash may be written, and the same image must start (and, after
        the power cycle, keep running for the soak time without a reset)."""
        eng, sc, facts = self.engine, self.scenario, self.golden_facts
        uart = ""
        for how in ("reset", "power cycle"):
            n0, ev0, text0 = eng.flash_op_count(), len(eng.events()), len(eng.uart().text)
            if how == "reset":
                eng.system_reset()
            else:
                sc.power_lost(eng)
                eng.power_on()
            t0 = eng.now_ns
            state: dict[str, object] = {}
            ready = wait_ready(eng, state, SETTLE, sc.ready, sc.bound_ns, sc.run_until(eng),
                               self._looping(ev0))
            t_ready = eng.now_ns
            if ready and how == "power cycle" and self.checks.soak_ns:
                run = sc.run_until(eng) or (lambda cond, ns: eng.run(ns, cond))
                run(lambda: False, self.checks.soak_ns)
            events = eng.events()[ev0:]
            uart += f"\n--- {how} ---\n" + eng.uart().text[text0:]
            now = rules.event_rules(events, ready) or oracle.judge(
                observe(eng, facts, ready, t0, sc.bound_ns, first.running == "new"), facts)
            resets = sum(e.kind == "reset" and e.time_ns > t_ready for e in events)
            found = rules.reboot_rule(how, first, now, eng.flash_ops_since(n0), resets)
            if found is not None:
                return found, uart
        return first, uart

    def _save_flash(self, path: CutPath, flash: bytes, uart: str) -> str:
        assert self.flash_dir is not None
        name = "cut-" + format_path(path).replace(":", "-").replace(",", "_")
        folder = self.flash_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "flash.bin").write_bytes(flash)
        (folder / "uart.txt").write_text(uart)
        return f"{name}/flash.bin"


def _segments(initial: bytes, trace: Sequence[FlashOp],
              starts: dict[int, tuple[int, bytes]]) -> list[tuple[bytes, list[FlashOp]]]:
    """A chain's golden trace cut at its links' starts, each part with the flash it
    started from (the bench may have written flash before a link: backdoor staging)."""
    bounds = sorted((start, flash) for k, (start, flash) in starts.items() if k > 0)
    parts = [(initial, 0)] + [(flash, start) for start, flash in bounds]
    out = []
    for i, (flash, start) in enumerate(parts):
        end = parts[i + 1][1] if i + 1 < len(parts) else None
        out.append((flash, [op for op in trace if op.index >= start
                            and (end is None or op.index < end)]))
    return out


# Flash failures a bootloader must survive: transient ones, which reading back what was
# written and writing it again repairs. A bit stuck at 0 may leave no image installable:
# the device may only report it (docs/powercut.md, "Flash failures").
MUST_SURVIVE = (CutMode.SILENT, CutMode.DROPPED, CutMode.DISTURB, CutMode.WEAK_ERASE)


def fault_verdict(judgement: Judgement, fault: PowerCut, uart: str, facts: UpdateFacts
                  ) -> Judgement:
    """A failure verdict after a stuck bit becomes REPORTED when the device said so (its
    console's flash_failed line); every other verdict stands."""
    pattern = facts.device.console.flash_failed
    if judgement.verdict.ok or fault.mode in MUST_SURVIVE or not pattern:
        return judgement
    if judgement.verdict in (Verdict.BOOT_DAMAGED, Verdict.UNEXPECTED_NEW,
                             Verdict.PROTECTED_WRITE, Verdict.BAD_ACCESS):
        return judgement     # no stuck bit excuses these
    rx = re.compile(pattern)
    said = next((line for line in uart.splitlines() if rx.search(line)), "")
    if not said:
        return judgement
    return Judgement(Verdict.REPORTED, f"{judgement.verdict.value} after a bit stuck at 0, "
                                       f"reported by the device: {said.strip()!r}",
                     judgement.running)


def mark_joined(results: Sequence[CutResult]) -> None:
    """The first cut (in cut order) of each state is judged; later ones joined it."""
    seen: set[tuple[str, str]] = set()
    for r in results:
        if not r.state:
            continue
        key = (r.state, format_path(r.path[1:]))
        r.joined = key in seen
        seen.add(key)
