"""Waiting for the application's ready line, resumably, and the proxy engine that turns
a power cut into an exception and takes snapshots every K flash operations."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pybench.engine.base import (
    BoardEvent,
    CpuState,
    Engine,
    FlashOp,
    PowerCut,
    RunResult,
    StopCondition,
    StopReason,
    UartLog,
)
from pybench.errors import BenchError

DEFAULT_BOUND_NS = 30_000_000_000


@dataclass(frozen=True)
class Spacing:
    """How often the golden run keeps a snapshot inside a resumable step: after this much
    virtual time or this many flash operations since the last one (0: not counted),
    whichever first."""

    every_ns: int
    every_ops: int


class PowerFailed(Exception):
    """The armed cut fired: the board is off. Raised out of whatever scenario code ran."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(f"power cut at {result.time_ns} ns")
        self.result = result


RunUntil = Callable[[Callable[[], bool], int], object]


def wait_ready(engine: Engine, state: dict[str, Any], key: str,
               pattern: str, bound_ns: int = DEFAULT_BOUND_NS,
               run_until: RunUntil | None = None,
               give_up: Callable[[], bool] | None = None) -> bool:
    """Run until a console line matching `pattern` appears after the first call with
    this `key` (kept in `state`, so a restored machine carries on), or the bound passes.

    run_until(cond, timeout_ns) runs the board (default: engine.run); the network
    scenario passes its wire's, so the host answers the board meanwhile. give_up() ends
    the wait early (a boot loop already seen, say)."""
    resumed = key in state
    mark = state.setdefault(key, {"line": len(engine.uart().lines), "t0": engine.now_ns})
    rx = re.compile(pattern)
    # A wait resumed on a restored machine has checked every complete line up to the
    # snapshot already; and the engine may restore only the console's length, not what
    # a run since then wrote in its place, so those lines are not read again.
    checked = [max(int(mark["line"]), len(engine.uart().lines)) if resumed
               else int(mark["line"])]

    def seen() -> bool:
        lines = engine.uart().lines
        for line in lines[checked[0]:]:
            if rx.search(line):
                return True
        checked[0] = len(lines)
        return False

    def done() -> bool:
        return seen() or (give_up is not None and give_up())

    if not seen():
        remaining = int(mark["t0"]) + bound_ns - engine.now_ns
        if remaining > 0:
            if run_until is None:
                result = engine.run(remaining, done)
                if result.reason is StopReason.FAULT:
                    mark["fault"] = result.detail
            else:
                try:
                    run_until(done, remaining)
                except PowerFailed:
                    raise
                except Exception as e:  # the wire's BoardStopped: a fault, a halt
                    mark["fault"] = str(e)
    ready = seen()
    mark["ready"] = ready
    return ready


class CutEngine(Engine):
    """An Engine that forwards to another one, with two additions for campaigns:

    - a run that ends in a power cut raises PowerFailed, so the scenario code above it
      (an HTTP upload, say) stops where power failed;
    - with marks(spacing, callback), the callback runs each time `spacing.every_ns` more
      of virtual time has passed or `spacing.every_ops` more flash operations were done
      (to keep snapshots along the golden run), as seen by the stop condition, which
      runs at least every 100 us of virtual time.
    """

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.name = inner.name
        self.cheap_snapshots = inner.cheap_snapshots
        self._spacing: Spacing | None = None
        self._on_mark: Callable[[], None] | None = None
        self._mark_ns = self._mark_ops = 0

    def marks(self, spacing: Spacing | None, on_mark: Callable[[], None] | None = None) -> None:
        self._spacing, self._on_mark = spacing, on_mark
        if spacing is not None:
            self._next_mark(spacing)

    def _next_mark(self, spacing: Spacing) -> None:
        # Kept across run() calls: the wire runs the board in short steps while the host
        # talks, and each of them must count towards the next mark.
        self._mark_ns = self.inner.now_ns + spacing.every_ns
        self._mark_ops = self.inner.flash_op_count() + spacing.every_ops \
            if spacing.every_ops else 0

    def _mark_due(self) -> bool:
        inner = self.inner
        return inner.now_ns >= self._mark_ns or (
            self._mark_ops > 0 and inner.flash_op_count() >= self._mark_ops)

    def run(self, duration_ns: int, stop: StopCondition | None = None) -> RunResult:
        inner = self.inner
        end = inner.now_ns + duration_ns
        due = self._mark_due

        def stop_or_mark() -> bool:
            return bool(stop and stop()) or due()

        while True:
            on_mark = self._on_mark
            if self._spacing is None or on_mark is None:
                result = inner.run(max(0, end - inner.now_ns), stop)
                if result.reason is StopReason.POWER_CUT:
                    raise PowerFailed(result)
                return result
            result = inner.run(max(0, min(end, self._mark_ns + 1) - inner.now_ns),
                               stop_or_mark)
            if result.reason is StopReason.POWER_CUT:
                raise PowerFailed(result)
            if not due():
                return result
            on_mark()      # it may change the spacing (marks())
            if self._spacing is not None:
                self._next_mark(self._spacing)
            if stop and stop():
                return RunResult(StopReason.CONDITION, inner.now_ns)
            if inner.now_ns >= end:
                return RunResult(StopReason.DEADLINE, inner.now_ns)
            if result.reason not in (StopReason.CONDITION, StopReason.DEADLINE):
                return result

    # --- everything else goes straight through --------------------------------------
    def load_platform(self, platform: Path) -> None:
        self.inner.load_platform(platform)

    def load_elf(self, elf: Path) -> None:
        self.inner.load_elf(elf)

    def power_on(self) -> None:
        self.inner.power_on()

    def system_reset(self) -> None:
        """A reset with power kept (SYSRESETREQ: RAM survives) where the engine offers
        one (the built-in machine's request_system_reset), else a power-on. The reset
        happens as the next run starts."""
        machine = getattr(self.inner, "machine", None)
        request = getattr(machine, "request_system_reset", None)
        if callable(request):
            request()
        else:
            self.inner.power_on()

    def arm_power_cut(self, cut: PowerCut | None) -> None:
        self.inner.arm_power_cut(cut)

    @property
    def now_ns(self) -> int:
        return self.inner.now_ns

    def cpu_state(self) -> CpuState:
        return self.inner.cpu_state()

    def events(self) -> list[BoardEvent]:
        return self.inner.events()

    def uart(self) -> UartLog:
        return self.inner.uart()

    def set_input(self, pin: str, level: int) -> None:
        self.inner.set_input(pin, level)

    def set_vbat_held(self, held: bool) -> None:
        setter = getattr(self.inner, "set_vbat_held", None)
        if setter is None:
            raise BenchError(f"the {self.inner.name} engine cannot keep the backup domain "
                             "across power cuts")
        setter(held)

    def send_frame(self, frame: bytes) -> None:
        self.inner.send_frame(frame)

    def take_frames(self) -> list[tuple[int, bytes]]:
        return self.inner.take_frames()

    def read_flash(self, addr: int, size: int) -> bytes:
        return self.inner.read_flash(addr, size)

    def write_flash(self, addr: int, data: bytes) -> None:
        self.inner.write_flash(addr, data)

    def flash_trace(self) -> Sequence[FlashOp]:
        return self.inner.flash_trace()

    def reset_trace(self) -> None:
        self.inner.reset_trace()

    def flash_op_count(self) -> int:
        return self.inner.flash_op_count()

    def flash_ops_since(self, start: int) -> list[FlashOp]:
        return self.inner.flash_ops_since(start)

    def snapshot(self) -> object:
        return self.inner.snapshot()

    def restore(self, snap: object) -> None:
        self.inner.restore(snap)

    def state_digest(self) -> bytes:
        return self.inner.state_digest()

    def watch_flash(self) -> bool:
        return self.inner.watch_flash()

    def flash_depended(self) -> frozenset[int] | None:
        return self.inner.flash_depended()
