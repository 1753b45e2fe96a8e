"""machine.debug, the API the GDB stub drives: registers, memory, breakpoints, step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from elfsym import symbol

from pybench.engine.base import StopReason
from pybench.layout import load as load_layout

MS = 1_000_000


def test_breakpoint_step_and_continue(board: Any, fw_elf: Callable[..., Path]) -> None:
    elf = fw_elf("systick")
    board.load_elf(elf)
    board.power_on()
    dbg = board.machine.debug
    handler = symbol(elf, "SysTick_Handler") & ~1
    dbg.add_breakpoint(handler)
    result = dbg.cont(10 * MS)
    assert result.reason == StopReason.HALTED
    regs = dbg.read_core_regs()
    assert len(regs) == 23
    assert regs[15] == handler and regs[16] & 0x1FF == 15     # in SysTick, at its start
    assert 1 * MS <= result.time_ns < 1 * MS + 20_000
    again = dbg.cont(10 * MS)                                  # steps off, next tick
    assert again.reason == StopReason.HALTED
    assert 2 * MS <= again.time_ns < 2 * MS + 20_000
    step = dbg.step()
    assert step.reason == StopReason.HALTED
    assert dbg.read_core_regs()[15] != handler
    dbg.remove_breakpoint(handler)
    assert dbg.cont(5 * MS).reason == StopReason.DEADLINE


def test_registers_and_memory(board: Any, fw_elf: Callable[..., Path]) -> None:
    board.load_elf(fw_elf("systick"))
    board.power_on()
    dbg = board.machine.debug
    dbg.write_core_reg(0, 0x12345678)
    assert dbg.read_core_regs()[0] == 0x12345678
    sram = load_layout().SRAM_BASE_ADDR
    dbg.write_memory(sram + 0x100, b"\x01\x02\x03\x04")
    assert dbg.read_memory(sram + 0x100, 4) == b"\x01\x02\x03\x04"
    spare = load_layout().SPARE_ADDR
    dbg.write_memory(spare, b"\xaa\x55")                      # flash download: no rules
    assert board.read_flash(spare, 2) == b"\xaa\x55"
    assert dbg.read_memory(0xE0042000, 4) == (0x10076413).to_bytes(4, "little")
