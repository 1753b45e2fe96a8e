"""The scheduler: time order, then scheduling order; cancel; save/load."""

from __future__ import annotations

from pybench.engine.builtin.scheduler import NEVER, Scheduler


def drain(s: Scheduler, now: int) -> None:
    while (cb := s.pop_due(now)) is not None:
        cb()


def test_order_cancel_and_snapshot() -> None:
    s = Scheduler()
    seen: list[str] = []
    s.schedule(30, lambda: seen.append("c"))
    s.schedule(10, lambda: seen.append("a1"))
    s.schedule(10, lambda: seen.append("a2"))
    h = s.schedule(20, lambda: seen.append("b"))
    s.cancel(h)
    assert s.next_at() == 10
    state = s.save()
    drain(s, 25)
    assert seen == ["a1", "a2"]
    assert s.next_at() == 30
    s.load(state)
    seen.clear()
    drain(s, 100)
    assert seen == ["a1", "a2", "c"]
    assert s.next_at() == NEVER
