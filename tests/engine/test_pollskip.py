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
        out.append((eng.machine.cycles, eng.now_ns, eng.state_digest(), eng.uart().text))
    return out


def test_skipping_is_exact(polling_elf: Path) -> None:
    fast, slow = _board(polling_elf, skip=True), _board(polling_elf, skip=False)
    assert _trace(fast) == _trace(slow)
    poll = fast.machine.poll
    assert poll.skips > 10 and poll.skipped_cycles > fast.machine.cycles // 2
    assert slow.machine.poll.skipped_cycles == 0
    # Loops found again at a PC seen before were confirmed in one slice, and the wait on
    # the tick counter in RAM went on through TIM6's updates without a new probe.
    assert poll.cached > 0 and poll.kept > 0


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


def _fw_board(elf: Path, skip: bool) -> Any:
    return _board(elf, skip)


def test_a_loop_on_ram_sees_a_bus_master_write_at_once(fw_elf: Any,
                                                        read_results: Any) -> None:
    """A loop that reads only RAM survives events that change no memory (TIM6's
    updates here), but not one that writes RAM as a DMA does: the firmware sees the flag
    at the same cycle as when every instruction runs."""
    from elfsym import symbol

    elf = fw_elf("pollwait", "WAIT_RAM")
    flag = symbol(elf, "flag")
    out = []
    for skip in (True, False):
        eng = _fw_board(elf, skip)
        m = eng.machine
        m.schedule(2_345_678, lambda m=m: m.write_mem(flag, (1).to_bytes(4, "little")))
        eng.run(4 * MS)
        out.append((m.cycles, read_results(eng, elf, 3), eng.state_digest()))
        if skip:
            assert m.poll.kept > 5 and m.poll.skipped_cycles > m.cycles // 2
    assert out[0] == out[1]
    done, cyccnt, _ = out[0][1]
    assert done == 1 and 2_300_000 * 168 // 1000 < cyccnt < 2_400_000 * 168 // 1000


def test_a_loop_that_programs_flash_is_not_skipped(fw_elf: Any) -> None:
    """Each store into flash is a program even when RAM and the registers repeat: the
    probe sees the flash change and the loop runs instruction by instruction."""
    from elfsym import symbol

    elf = fw_elf("pollwait", "STORE_FLASH")
    flag = symbol(elf, "flag")
    out = []
    for skip in (True, False):
        eng = _fw_board(elf, skip)
        m = eng.machine
        m.schedule(MS, lambda m=m: m.write_mem(flag, (1).to_bytes(4, "little")))
        eng.run(MS)
        skipped = m.poll.skipped_cycles
        eng.run(2 * MS)
        out.append((m.cycles, list(eng.flash_trace()), eng.state_digest()))
        if skip:
            # The wait on the flag was skipped; the loop of programs was probed
            # (right after the flag's event) and not.
            assert skipped > m.cycles // 4 and m.poll.skipped_cycles == skipped
    assert out[0] == out[1]
    assert len(out[0][1]) > 50


def test_flash_interface_registers_reach_the_model_directly(board: Any) -> None:
    """Outside a probe unicorn calls the flash interface's own read and write (no
    wrapper on the BSY poll after every programmed word); during a probe the
    functions that tell the probe what the loop read."""
    m = board.machine
    ctrl = m.flash_ctrl
    assert ctrl.read in m._regions.reads and ctrl.write in m._regions.writes
    m.probe_mode(True)
    assert ctrl.read not in m._regions.reads
    m.probe_mode(False)
    assert ctrl.read in m._regions.reads


def test_a_handler_longer_than_the_slice_after_an_event(fw_elf: Any) -> None:
    """The slice after an event starts short; when the handler is longer, the probe
    after it fails and the next slice is longer, until the CPU is back in its loop.
    The board is the same as when every instruction runs."""
    from pybench.engine.builtin.pollskip import AFTER_EVENT_MIN

    elf = fw_elf("pollwait", "LONG_HANDLER")
    out = []
    for skip in (True, False):
        eng = _fw_board(elf, skip)
        eng.run(20 * MS)
        out.append((eng.machine.cycles, eng.state_digest()))
        if skip:
            poll = eng.machine.poll
            assert poll.after_event > AFTER_EVENT_MIN
            assert poll.skipped_cycles > eng.machine.cycles // 2
    assert out[0] == out[1]
