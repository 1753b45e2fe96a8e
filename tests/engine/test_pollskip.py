"""Polling loops skipped in virtual time (pollskip.py) must leave the board exactly as
running every instruction would: the same state, at the same time, at every stop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pybench.engine.base import StopReason

MS = 1_000_000


@pytest.fixture(scope="module")
def polling_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    from pybench.engine.builtin.benchmarks import build_polling

    return build_polling(tmp_path_factory.mktemp("polling"), 12)


def _board(elf: Path, skip: bool) -> Any:
    from pybench.engine.builtin.engine import BuiltinEngine
    from pybench.paths import platform_file

    eng = BuiltinEngine()
    eng.load_platform(platform_file())
    eng.machine.poll.enabled = skip
    eng.load_elf(elf)
    eng.power_on()
    return eng


def _trace(eng: Any) -> list[tuple[int, bytes, str]]:
    """Run in steps of 1.3 ms, some with a stop condition: the state after each."""
    out = []
    for i in range(12):
        if i % 2:
            eng.run(13 * MS // 10)
        else:
            eng.run(13 * MS // 10, lambda: False)
        out.append((eng.now_ns, eng.state_digest(), eng.uart().text))
    return out


def test_skipping_is_exact(polling_elf: Path) -> None:
    fast, slow = _board(polling_elf, skip=True), _board(polling_elf, skip=False)
    assert _trace(fast) == _trace(slow)
    poll = fast.machine.poll
    assert poll.skips > 10 and poll.skipped_cycles > fast.machine.cycles // 2
    assert slow.machine.poll.skipped_cycles == 0


def test_a_frame_from_the_bench_ends_the_skip(polling_elf: Path) -> None:
    """A remembered loop is dropped when the bench acts (here: console input), so a
    loop that polls for it sees it at once."""
    eng = _board(polling_elf, skip=True)
    eng.run(3 * MS)
    assert eng.machine.poll.skips > 0
    generation = eng.machine.generation
    eng.uart_send(b"x")
    assert eng.machine.generation == generation + 1 and eng.machine.poll.loop is None


def test_stop_condition_time_is_exact(polling_elf: Path) -> None:
    results = []
    for skip in (True, False):
        eng = _board(polling_elf, skip)
        r = eng.run(50 * MS, lambda e=eng: "t" in e.uart().text)
        results.append((r.reason, r.time_ns, eng.state_digest()))
    assert results[0] == results[1] and results[0][0] == StopReason.CONDITION
