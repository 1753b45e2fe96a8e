"""The Cortex-M4 core with test programs from fw/: reset, SysTick, NVIC, FPU context,
VTOR, SYSRESETREQ, faults, console, determinism and snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pybench.engine.base import StopReason
from pybench.layout import load as load_layout

MS = 1_000_000
Build = Callable[..., Path]


def boot(board: Any, elf: Path) -> Any:
    board.load_elf(elf)
    board.power_on()
    return board


def test_reset_takes_sp_and_pc_from_the_vector_table(board: Any, fw_elf: Build) -> None:
    boot(board, fw_elf("systick"))
    base = load_layout().FLASH_BASE_ADDR
    sp = int.from_bytes(board.read_flash(base, 4), "little")
    pc = int.from_bytes(board.read_flash(base + 4, 4), "little")
    state = board.cpu_state()
    assert (state.sp, state.pc, state.ipsr) == (sp, pc & ~1, 0)
    assert [e.kind for e in board.events()][-1] == "reset"


def test_systick_ticks_over_virtual_time(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("systick")
    boot(board, elf)
    result = board.run(50 * MS + MS // 2)
    assert result.reason == StopReason.DEADLINE
    assert result.time_ns == 50 * MS + MS // 2
    ticks, cpuid, idcode = read_results(board, elf, 3)
    assert ticks == 50
    assert cpuid == 0x410FC241
    assert idcode == 0x10076413
    assert board.uart().lines == ["hello from systick", "tick 10", "tick 20", "tick 30",
                                  "tick 40", "tick 50"]


def test_nvic_preemption_nesting_tail_chaining_and_masking(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("nvic")
    boot(board, elf)
    board.run(MS)
    count, *log = read_results(board, elf, 11)
    # IRQ0 entered, IRQ1 preempts it, IRQ0 resumes and ends, IRQ2 tail-chains; then
    # with BASEPRI 0xC0, IRQ3 (0xC0) and PendSV wait until BASEPRI is cleared.
    assert log[:count] == [0x10, 0x20, 0x11, 0x12, 0x30, 0x01, 0x02, 0x40, 0x50, 0x03]


def test_fp_registers_survive_an_interrupt(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("fpu")
    boot(board, elf)
    board.run(MS)
    s0, s1, s2, s15, exc_return, done = read_results(board, elf, 6)
    assert done == 1
    assert (s0, s1, s2, s15) == (0x3F800000, 0x40000000, 0x40400000, 0x41700000)
    assert exc_return == 0xFFFFFFE9              # thread, MSP, extended (FP) frame


def test_vtor_relocation(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("vtor")
    boot(board, elf)
    board.run(MS)
    handler, vtor, done = read_results(board, elf, 3)
    assert done == 1
    assert vtor % 512 == 0 and vtor >= load_layout().SRAM_BASE_ADDR
    assert handler == 0xA2                       # the RAM table's PendSV ran


def test_sysresetreq_resets_and_keeps_ram(board: Any, fw_elf: Build) -> None:
    boot(board, fw_elf("reset"))
    board.run(5 * MS)
    assert board.uart().lines == ["boot 1", "boot 2", "done 3"]
    resets = [e.detail for e in board.events() if e.kind == "reset"]
    assert resets == ["power-on", "SYSRESETREQ", "SYSRESETREQ"]
    board.power_on()                             # power-on clears RAM: counting restarts
    board.run(5 * MS)
    assert board.uart().lines[-3:] == ["boot 1", "boot 2", "done 3"]


def test_undefined_instruction_is_a_hardfault_event(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("fault")
    boot(board, elf)
    result = board.run(5 * MS)
    assert result.reason == StopReason.DEADLINE
    faults = [e.detail for e in board.events() if e.kind == "fault"]
    assert len(faults) == 1 and "undefined instruction" in faults[0]
    assert "-> HardFault; CFSR=0x00010000 HFSR=0x40000000" in faults[0]
    state = board.cpu_state()
    assert state.in_fault_handler and state.ipsr == 3 and not state.lockup
    cfsr, hfsr, _ = read_results(board, elf, 3)
    assert cfsr == 1 << 16 and hfsr == 1 << 30   # UNDEFINSTR, escalated (FORCED)
    assert "not reached" not in board.uart().lines


def test_unmapped_read_is_a_precise_busfault(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("fault", "UNMAPPED")
    boot(board, elf)
    board.run(5 * MS)
    cfsr, _, bfar = read_results(board, elf, 3)
    assert cfsr == (1 << 9) | (1 << 15)          # PRECISERR, BFARVALID
    assert bfar == 0x60000000
    assert any("0x60000000" in e.detail for e in board.events() if e.kind == "fault")


def test_bad_exc_return_is_invpc(board: Any, fw_elf: Build, read_results: Any) -> None:
    elf = fw_elf("fault", "BADRETURN")
    boot(board, elf)
    board.run(5 * MS)
    cfsr, hfsr, _ = read_results(board, elf, 3)
    assert cfsr == 1 << 18 and hfsr == 1 << 30   # INVPC, escalated
    faults = [e.detail for e in board.events() if e.kind == "fault"]
    assert len(faults) == 1 and "EXC_RETURN 0xfffffff5" in faults[0]


def test_fault_in_hardfault_locks_up(board: Any, fw_elf: Build) -> None:
    boot(board, fw_elf("fault", "LOCKUP"))
    result = board.run(5 * MS)
    assert result.reason == StopReason.FAULT
    assert board.cpu_state().lockup
    assert board.run(MS).reason == StopReason.FAULT  # stays locked until power-on


def test_vector_fetch_from_unmapped_table_locks_up(board: Any, fw_elf: Build) -> None:
    boot(board, fw_elf("fault", "BADVTOR"))
    result = board.run(5 * MS)
    assert result.reason == StopReason.FAULT and board.cpu_state().lockup
    assert any("vector fetch" in e.detail for e in board.events() if e.kind == "fault")


def test_uart_lines_and_input(board: Any, fw_elf: Build) -> None:
    boot(board, fw_elf("echo"))
    assert board.run_until_uart("echo ready", MS).reason == StopReason.CONDITION
    board.uart_send(b"hi there\r")
    result = board.run_until_uart(r"^echo: ", 10 * MS)
    assert result.reason == StopReason.CONDITION
    assert board.uart().lines == ["echo ready", "echo: hi there"]
    assert board.uart().text == "echo ready\r\necho: hi there\r\n"


def test_restore_brings_back_the_console_of_its_own_run(board: Any, fw_elf: Build) -> None:
    """Back to an earlier snapshot, a different run, then to a later snapshot: the later
    snapshot's console comes back, not the other run's lines of the same count."""
    boot(board, fw_elf("echo"))
    assert board.run_until_uart("echo ready", MS).reason == StopReason.CONDITION
    early = board.snapshot()
    board.uart_send(b"one\r")
    assert board.run_until_uart(r"^echo: ", 10 * MS).reason == StopReason.CONDITION
    late = board.snapshot()
    board.restore(early)
    board.uart_send(b"two\r")
    assert board.run_until_uart(r"^echo: ", 10 * MS).reason == StopReason.CONDITION
    assert board.uart().lines == ["echo ready", "echo: two"]
    board.restore(late)
    assert board.uart().lines == ["echo ready", "echo: one"]
    assert board.uart().text == "echo ready\r\necho: one\r\n"


def test_snapshots_share_what_did_not_change(board: Any, fw_elf: Build) -> None:
    """Two snapshots with a flash word programmed between them hold the same chunk
    objects but the one with that word; restoring the first writes back that chunk."""
    boot(board, fw_elf("systick"))
    board.run(2 * MS)
    flash_at = board._machine.memories.index(board._machine.flash_mem)
    chunk = board._machine.flash_mem.chunk
    addr = load_layout().SPARE_ADDR + 3 * chunk + 8
    first = board.snapshot()
    board.write_flash(addr, b"\x12\x34\x56\x78")
    second = board.snapshot()
    old, new = first.memories[flash_at], second.memories[flash_at]
    changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a is not b]
    base = board._machine.flash_mem.base
    assert changed == [(addr - base) // chunk]
    assert new[changed[0]] != old[changed[0]]
    board.restore(first)
    assert board.read_flash(addr, 4) == old[changed[0]][8:12]
    board.restore(second)
    assert board.read_flash(addr, 4) == b"\x12\x34\x56\x78"


def test_memory_load_writes_and_reports_only_changed_chunks() -> None:
    from pybench.engine.builtin.machine import SNAP_CHUNK, Memory

    mem = Memory("ram", 0x2000_0000, 5 * SNAP_CHUNK + 100, True)   # a short last chunk
    assert mem.chunk == SNAP_CHUNK
    assert Memory("flash", 0x0800_0000, 1 << 20, False).chunk == 16 * 1024
    mem.view[:] = bytes(range(256)) * (mem.size // 256) + bytes(mem.size % 256)
    saved = mem.save()
    assert len(saved) == 6 and len(saved[-1]) == 100
    assert mem.save(saved) == saved and all(
        a is b for a, b in zip(mem.save(saved), saved, strict=True))
    mem.view[SNAP_CHUNK + 1] ^= 0xFF
    mem.view[2 * SNAP_CHUNK] ^= 0xFF
    mem.view[mem.size - 1] ^= 0xFF
    assert mem.load(saved) == [(0x2000_0000 + SNAP_CHUNK, 0x2000_0000 + 3 * SNAP_CHUNK),
                               (0x2000_0000 + 5 * SNAP_CHUNK, 0x2000_0000 + mem.size)]
    assert b"".join(saved) == bytes(mem.view)
    assert mem.load(saved) == []


def _trace(board: Any, elf: Path) -> tuple[list[str], int, bytes]:
    boot(board, elf)
    board.run(30 * MS)
    return board.uart().lines, board.now_ns, board.state_digest()


def test_two_runs_are_identical(fw_elf: Build) -> None:
    from pybench.engine.builtin.engine import BuiltinEngine
    from pybench.paths import platform_file

    outcomes = []
    for _ in range(2):
        eng = BuiltinEngine()
        eng.load_platform(platform_file())
        outcomes.append(_trace(eng, fw_elf("systick")))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0][-1] == "tick 20"


def test_snapshot_restore_then_run_gives_the_same(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("systick")
    boot(board, elf)
    board.run(7 * MS + 1234)
    snap = board.snapshot()
    board.run(16 * MS)
    first = (board.uart().lines, board.now_ns, board.state_digest(),
             read_results(board, elf, 1))
    board.run(5 * MS)                            # move on, then go back
    board.restore(snap)
    assert board.uart().lines == ["hello from systick"]
    board.run(16 * MS)
    second = (board.uart().lines, board.now_ns, board.state_digest(),
              read_results(board, elf, 1))
    assert first == second
    assert first[3] == [22]                     # 23.001 ms, SysTick started after boot


def test_power_cut_state_and_power_on_again(board: Any, fw_elf: Build) -> None:
    boot(board, fw_elf("systick"))
    board.run(2 * MS)
    board.machine.power_off("test")
    assert board.run(MS).reason == StopReason.POWER_CUT
    board.power_on()
    assert board.run(MS).reason == StopReason.DEADLINE


def test_thread_on_psp_interrupt_uses_msp(board: Any, fw_elf: Build,
                                          read_results: Any) -> None:
    elf = fw_elf("psp")
    boot(board, elf)
    board.run(MS)
    done, exc_return, handler_sp, psp_in_handler, sp, control, r7, top = \
        read_results(board, elf, 8)
    assert done == 1
    assert exc_return == 0xFFFFFFFD               # back to thread mode, PSP, basic frame
    assert psp_in_handler == top - 0x20           # the frame went onto the process stack
    assert not top - 0x400 <= handler_sp <= top   # the handler ran on the main stack
    assert sp == top and control & 2 and r7 == 77


def test_svc_and_its_escalation(board: Any, fw_elf: Build, read_results: Any) -> None:
    elf = fw_elf("svc")
    boot(board, elf)
    board.run(MS)
    state, calls, hfsr, calls_seen = read_results(board, elf, 4)
    assert (calls, calls_seen) == (1, 1)
    assert state == 2 and hfsr == 1 << 30          # the masked SVC became a HardFault
    assert [e.kind for e in board.events()].count("fault") == 1


def test_jump_to_erased_vector_is_memmanage_iaccviol(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("fault", "ERASED")
    boot(board, elf)
    board.run(5 * MS)
    cfsr, hfsr, _ = read_results(board, elf, 3)
    assert cfsr == 1 and hfsr == 1 << 30          # IACCVIOL, escalated (MemManage off)
    faults = [e.detail for e in board.events() if e.kind == "fault"]
    assert len(faults) == 1 and faults[0].startswith(
        "MemManage: instruction fetch from execute-never 0xfffffffe -> HardFault")


def test_system_memory_reads_and_refuses_stores(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("fault", "ROMSTORE")
    boot(board, elf)
    board.run(5 * MS)
    cfsr, _, bfar, _, uid0, fsize, ob, otp = read_results(board, elf, 8)
    assert uid0 == 0x0035002A and fsize == 1024 and ob == 0xAAEC and otp == 0xFFFFFFFF
    assert cfsr == (1 << 9) | (1 << 15) and bfar == 0x1FFF7800


def test_unmodelled_registers_read_zero_once_each_with_pc(board: Any, fw_elf: Build,
        read_results: Any) -> None:
    elf = fw_elf("fault", "UNMODELLED")
    boot(board, elf)
    board.run(5 * MS)
    assert "went on" in board.uart().lines
    notes = [e.detail for e in board.events() if e.kind == "unmodelled"]
    assert len(notes) == 2                       # CR1 read twice: one event
    assert notes[0].startswith("TIM8+0x000 (0x40010400): read at pc 0x080")
    assert notes[1].startswith("TIM8+0x004 (0x40010404): write at pc 0x080")
    assert read_results(board, elf, 5)[3:] == [0, 0]


def test_strict_mode_unmodelled_register_is_a_busfault(fw_elf: Build,
        read_results: Any) -> None:
    from pybench.engine.builtin.engine import BuiltinEngine
    from pybench.paths import platform_file

    eng = BuiltinEngine(strict=True)
    eng.load_platform(platform_file())
    elf = fw_elf("fault", "UNMODELLED")
    boot(eng, elf)
    eng.run(5 * MS)
    assert "went on" not in eng.uart().lines
    cfsr, _, bfar = read_results(eng, elf, 3)
    assert cfsr == (1 << 9) | (1 << 15) and bfar == 0x40010400
