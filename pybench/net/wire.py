"""The virtual wire: couples a Host to an Engine in virtual time, with no threads.

run_until() runs the engine in steps that end when the board sends a frame, when the
host's next timer is due, or at the deadline; frames go to the host's protocol handlers,
the frames the host wants to send go to the engine, and due timers fire. Same engine
state, same host state, same sequence of runs: same result. The wire itself holds only
the coupling (engine, host, recorder); the host's state is saved and loaded separately,
next to an engine snapshot (see save()/load()).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pybench.engine.base import Engine, RunResult, StopReason
from pybench.net.host import Host
from pybench.net.pcap import PcapRecorder

# Longest single engine run: bounds how late a condition that only the host can see
# (a TCP transfer finished, a ping answered) is noticed after it became true.
MAX_STEP_NS = 50_000_000

_STOPS = (StopReason.POWER_CUT, StopReason.FAULT, StopReason.HALTED)


class BoardStopped(Exception):
    """The board stopped running under the wire: a power cut, a fault or a halt."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(f"board stopped: {result.reason.value} at {result.time_ns} ns"
                         + (f" ({result.detail})" if result.detail else ""))
        self.result = result


@dataclass
class WireSnapshot:
    engine: object
    host: Host


class Wire:
    """One host on one engine's Ethernet port (see the module docstring)."""

    def __init__(self, engine: Engine, host: Host,
                 recorder: PcapRecorder | None = None, max_step_ns: int = MAX_STEP_NS) -> None:
        self.engine = engine
        self.host = host
        self.recorder = recorder
        self.max_step_ns = max_step_ns
        self._pending: list[tuple[int, bytes]] = []

    # --- snapshots ------------------------------------------------------------------
    def save(self) -> WireSnapshot:
        """Engine and host together, e.g. in the middle of an upload."""
        self._collect()
        self._deliver()
        return WireSnapshot(self.engine.snapshot(), self.host.save())

    def load(self, snap: WireSnapshot) -> None:
        self.engine.restore(snap.engine)
        self.host.load(snap.host)
        self._pending.clear()
        self.engine.take_frames()  # frames of the abandoned future

    def drop_in_flight(self) -> None:
        """Forget frames on their way in either direction (the board lost power)."""
        self._pending.clear()
        self.engine.take_frames()
        self.host.take_outbox()

    # --- running --------------------------------------------------------------------
    def run_until(self, cond: Callable[[], bool], timeout_ns: int) -> bool:
        """Run until cond() is true (True) or timeout_ns of virtual time passed (False).

        cond() is called often, and again after it returned true: once true it must stay
        true. Raises BoardStopped when the engine stops for a power cut, a fault or a halt.
        """
        deadline = self.engine.now_ns + timeout_ns
        self.host.advance(self.engine.now_ns)
        self._flush()
        while True:
            if cond():
                return True
            now = self.engine.now_ns
            if now >= deadline:
                return False
            target = min(deadline, now + self.max_step_ns)
            due = self.host.next_timer_ns()
            if due is not None:
                target = min(target, max(due, now))
            if target > now:
                result = self.engine.run(target - now, self._stop_check(cond))
                if result.reason in _STOPS:
                    self._collect()
                    self._deliver()
                    raise BoardStopped(result)
            self._collect()
            self._deliver()
            self.host.fire_timers(self.engine.now_ns)
            self._flush()

    def run_for(self, duration_ns: int) -> None:
        self.run_until(lambda: False, duration_ns)

    def _stop_check(self, cond: Callable[[], bool]) -> Callable[[], bool]:
        def stop() -> bool:
            self._collect()
            return bool(self._pending) or cond()
        return stop

    def _collect(self) -> None:
        self._pending.extend(self.engine.take_frames())

    def _deliver(self) -> None:
        while self._pending:
            time_ns, frame = self._pending.pop(0)
            if self.recorder:
                self.recorder.record(time_ns, frame)
            self.host.receive(frame, time_ns)
            self.host.advance(self.engine.now_ns)
            self._flush()

    def _flush(self) -> None:
        now = self.engine.now_ns
        for frame in self.host.take_outbox():
            if self.recorder:
                self.recorder.record(now, frame)
            self.engine.send_frame(frame)
