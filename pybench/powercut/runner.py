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

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pybench.device import metadata
from pybench.device.model import Layout
from pybench.engine.base import CutMode, Engine, FlashOp
from pybench.errors import BenchError
from pybench.powercut import oracle, states
from pybench.powercut.cutspec import CutPath, format_path
from pybench.powercut.judged import JudgedStates
from pybench.powercut.oracle import Judgement, UpdateFacts, Verdict
from pybench.powercut.phases import phase_of
from pybench.powercut.plan import PlanOptions, plan_followups
from pybench.powercut.scenario import Scenario, StepFailed
from pybench.powercut.settle import CutEngine, PowerFailed, Spacing, wait_ready

SETTLE = "settle"


# Most snapshots kept inside resumable steps: past this, every other one is dropped and
# the spacing doubles, so a long update keeps between MAX_MARKS / 2 and MAX_MARKS of
# them (each holds a copy of flash and RAM) without knowing its length in advance.
MAX_MARKS = 192
# An engine whose snapshots are slow (Renode saves the whole emulation to a file) gets
# few of them, by virtual time only, at least this far apart.
SLOW_MAX_MARKS = 24
SLOW_EVERY_NS = 50_000_000


@dataclass
class Snap:
    step: int            # index into the steps (len(steps): the final wait for ready)
    trace_len: int       # flash operations done when it was taken
    engine: object
    world: object        # the scenario's state
    mark: bool = False   # taken inside a step (thinned), not at its start


@dataclass
class Golden:
    trace: list[FlashOp]
    snaps: list[Snap]
    initial_flash: bytes
    facts: UpdateFacts
    judgement: Judgement
    uart: str
    commit: int | None          # oracle.commit_point() along the trace

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


def flash_image(engine: Engine, lay: Layout) -> bytes:
    return engine.read_flash(lay.FLASH_BASE_ADDR, lay.FLASH_TOTAL_SIZE)


def committed_in(flash: bytes, facts: UpdateFacts) -> bool:
    return metadata.committed(facts.device, flash, facts.new_image)


def observe(engine: Engine, facts: UpdateFacts, ready: bool, t0: int, bound_ns: int,
            committed: bool) -> oracle.Observation:
    lay = facts.device.layout
    slot_len = max(len(facts.old_image), len(facts.new_image))
    return oracle.Observation(
        boot=engine.read_flash(lay.boot.addr, lay.boot.size),
        slot=engine.read_flash(lay.app_slot.addr, slot_len),
        cpu=engine.cpu_state(), ready=ready, elapsed_ns=engine.now_ns - t0,
        bound_ns=bound_ns, committed=committed,
    )


class CutRunner:
    """One engine, its golden run, and the cuts run on it one after the other."""

    def __init__(self, make_engine: Callable[[], Engine], scenario: Scenario,
                 options: PlanOptions, spacing: Spacing | None = None,
                 flash_dir: Path | None = None, dedup: bool = True) -> None:
        self.engine = CutEngine(make_engine())
        self.scenario = scenario
        self.options = replace(options, device=scenario.device)
        self.layout = lay = scenario.device.layout
        self.spacing = spacing      # where marks start (None: at step starts only)
        self.flash_dir = flash_dir
        self.dedup = dedup          # False: run every recovery (to check the dedup)
        # Each sector as (offset in a flash image, size).
        self.sectors = [(a - lay.FLASH_BASE_ADDR, n)
                        for a, n in zip(lay.sector_addrs, lay.sector_sizes, strict=True)]
        self.judged: JudgedStates[_Outcome | _Passage] = JudgedStates(self.sectors)
        self.golden = self._golden()

    # --- the golden run ---------------------------------------------------------------
    def _golden(self) -> Golden:
        eng, sc = self.engine, self.scenario
        sc.prepare(eng)
        facts = sc.facts(eng)
        initial = flash_image(eng, self.layout)
        eng.reset_trace()
        snaps: list[Snap] = []
        steps = sc.steps()
        judgement: Judgement | None = None
        uart_start = len(eng.uart().text)
        spacing = self.spacing
        max_marks = MAX_MARKS
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
        for i in range(len(steps) + 1):
            snaps.append(Snap(i, eng.flash_op_count(), eng.snapshot(), sc.save()))
            resumable = i == len(steps) or steps[i].resumable
            if resumable and spacing:
                eng.marks(spacing, lambda i=i: mark(i))
            try:
                if i < len(steps):
                    steps[i].run(eng)
                else:
                    ready = wait_ready(eng, sc.state, SETTLE, sc.ready, sc.bound_ns,
                                       sc.run_until(eng))
                    commit = oracle.commit_point(eng.flash_trace(), initial, facts)
                    settled = True
                    obs = observe(eng, facts, ready, int(sc.state[SETTLE]["t0"]), sc.bound_ns,
                                  commit is not None)
                    judgement = oracle.judge(obs, facts)
            except StepFailed as e:
                judgement = Judgement(Verdict.BRICKED, f"step {steps[i].name}: {e}")
            except PowerFailed:
                judgement = Judgement(Verdict.BRICKED, "power failed with no cut armed")
            finally:
                eng.marks(None)
            if judgement is not None:
                break
        assert judgement is not None
        trace = list(eng.flash_trace())
        if not settled:
            commit = oracle.commit_point(trace, initial, facts)
        return Golden(trace, snaps, initial, facts, judgement, eng.uart().text[uart_start:],
                      commit)

    def golden_ok(self) -> bool:
        return self.golden.judgement.verdict is Verdict.RECOVERED_NEW

    def plan_options(self) -> PlanOptions:
        return replace(self.options, initial_flash=self.golden.initial_flash)

    # --- one cut path -----------------------------------------------------------------
    def _nearest(self, op_index: int) -> Snap:
        usable = [s for s in self.golden.snaps if s.trace_len <= op_index]
        return usable[-1] if usable else self.golden.snaps[0]

    def _run_to_first_cut(self, path: CutPath) -> bool:
        """Restore, arm, carry the golden run on until the cut; False if it never came.

        The operations done from the snapshot to the cut must be the golden run's: a
        replay that took another way (the network, say) would cut somewhere else."""
        eng, sc = self.engine, self.scenario
        snap = self._nearest(path[0].op_index)
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

        replayed = self.engine.flash_ops_since(start)
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
                         uart, followups, flash_file, ran=ran)

    def _recover(self, path: CutPath) -> tuple[_Outcome, str, str, bool]:
        """From the board off after path[0]: power-ons, later cuts, the verdict.

        Every level's run is watched: the flash sectors it depended on name its state, and
        a later power-on that agrees on them takes what followed without running: the
        verdict for the last level, the flash the next cut left for the others."""
        eng, facts, judged = self.engine, self.golden.facts, self.judged
        commit = self.golden.commit
        committed = commit is not None and commit < path[0].op_index
        first_state = ""
        uart_parts: list[str] = []
        ran = False
        for level in range(len(path)):
            flash = flash_image(eng, self.layout)
            committed = committed or committed_in(flash, facts)
            rest = format_path(path[level + 1 :])
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
                step, depended = self._run_level(path, level, committed)
                name = judged.add(digests, depended, rest, committed, self._kept(step))
                first_state = first_state or name
            ran = found is None
            if isinstance(step, _Outcome):
                return step, first_state, "".join(uart_parts) + step.uart, ran
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

    def _run_level(self, path: CutPath, level: int, committed: bool
                   ) -> tuple[_Outcome | _Passage, frozenset[int] | None]:
        """Power on and run (watched) until the verdict, or until the next cut fires; what
        followed, and the flash sectors the run depended on."""
        eng, sc, facts = self.engine, self.scenario, self.golden.facts
        sc.power_lost(eng)
        eng.reset_trace()
        nxt = path[level + 1] if level + 1 < len(path) else None
        eng.watch_flash()
        eng.power_on()
        t0, text0 = eng.now_ns, len(eng.uart().text)
        eng.arm_power_cut(nxt)
        state: dict[str, object] = {}
        try:
            ready = wait_ready(eng, state, SETTLE, sc.ready, sc.bound_ns, sc.run_until(eng))
        except PowerFailed:
            depended = eng.flash_depended()
            trace = list(eng.flash_trace())
            if nxt is None or not trace or trace[-1].index != nxt.op_index:
                raise BenchError(f"level {level + 2}: power failed away from its cut") from None
            cut_op = trace[-1]
            done = trace if nxt.mode is CutMode.AFTER else trace[:-1]
            torn = (cut_op.addr, eng.read_flash(cut_op.addr, cut_op.size)) \
                if nxt.mode is CutMode.TORN else None
            return _Passage(eng.uart().text[text0:], done, torn), depended
        finally:
            eng.arm_power_cut(None)
        if nxt is not None:
            judgement = Judgement(Verdict.CUT_MISSED,
                                  f"recovery never reached the cut at level {level + 2}")
        else:
            judgement = oracle.judge(observe(eng, facts, ready, t0, sc.bound_ns, committed),
                                     facts)
        depended = eng.flash_depended()
        return _Outcome(judgement, eng.now_ns - t0, eng.uart().text[text0:],
                        flash_image(eng, self.layout),
                        list(eng.flash_trace())), depended

    def _save_flash(self, path: CutPath, flash: bytes, uart: str) -> str:
        assert self.flash_dir is not None
        name = "cut-" + format_path(path).replace(":", "-").replace(",", "_")
        folder = self.flash_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "flash.bin").write_bytes(flash)
        (folder / "uart.txt").write_text(uart)
        return f"{name}/flash.bin"


def mark_joined(results: Sequence[CutResult]) -> None:
    """The first cut (in cut order) of each state is judged; later ones joined it."""
    seen: set[tuple[str, str]] = set()
    for r in results:
        if not r.state:
            continue
        key = (r.state, format_path(r.path[1:]))
        r.joined = key in seen
        seen.add(key)
