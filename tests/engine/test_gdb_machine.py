"""gdb-multiarch, in batch mode, debugging a real program on the built-in engine.

The program (tests/engine/fw/gdb_target.c) is built here with arm-none-eabi-gcc. The
test breaks at a function, continues, reads registers, flash and RAM, steps, sets a
register, and checks what gdb printed against what the program must have done.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from pybench.engine.builtin import gdbstub
from pybench.paths import platform_file

GDB = shutil.which("gdb-multiarch")
FW = Path(__file__).parent / "fw" / "gdb_target.c"

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb-multiarch not installed")


@pytest.fixture
def target_elf(arm_compile: Callable[..., Path], tmp_path: Path) -> Path:
    return arm_compile(FW, tmp_path / "gdb_target.elf", 0x08000200, [
        "-g", "-Wextra", "-Wl,--section-start=.vectors=0x08000000",
        "-Wl,-Tbss=0x20000000", "-Wl,-e,reset_handler"])


@pytest.fixture
def machine(target_elf: Path):  # type: ignore[no-untyped-def]
    """The core's Machine with the program loaded and powered on, halted at reset."""
    machine_mod = pytest.importorskip("pybench.engine.builtin.machine")
    from pybench.engine.builtin.loader import elf_segments
    from pybench.platform import repl

    m = machine_mod.Machine(repl.load(platform_file()))
    m.load_segments(elf_segments(target_elf), str(target_elf))
    m.power_on()
    return m


def run_gdb(machine, elf: Path, commands: list[str]) -> str:  # type: ignore[no-untyped-def]
    """gdb-multiarch in batch mode against a stub serving `machine` on a free port."""
    assert GDB is not None
    server = gdbstub.GdbServer(gdbstub.debug_target_of(machine), 0)
    thread = threading.Thread(target=server.serve_one, daemon=True)
    thread.start()
    args = [GDB, "-nx", "-batch", "-ex", f"target remote 127.0.0.1:{server.port}"]
    for c in commands:
        args += ["-ex", c]
    args.append(str(elf))
    try:
        # On a timeout gdb is killed, the stub sees the hang-up and returns.
        result = subprocess.run(args, capture_output=True, text=True, timeout=120,
                                check=False)
    finally:
        thread.join(60)
        server.close()
    assert not thread.is_alive(), "the stub did not return after gdb detached"
    return result.stdout + result.stderr


def symbols(elf: Path) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return {f[2]: int(f[0], 16) for f in (line.split() for line in out.splitlines())
            if len(f) == 3}


def values(out: str) -> list[int]:
    """Every `$N = 0x...` gdb printed, in order."""
    return [int(v, 16) for v in re.findall(r"^\$\d+ = 0x([0-9a-f]+)$", out, re.M)]


def test_gdb_breaks_reads_steps_and_writes(machine, target_elf: Path) -> None:  # type: ignore[no-untyped-def]
    syms = symbols(target_elf)
    out = run_gdb(machine, target_elf, [
        "p/x $pc",
        "break add_step",
        "continue",
        "info registers",
        "x/4wx &pattern",
        "x/1wx &counter",
        "stepi",
        "p/x $pc",
        "set $r7 = 0xcafe",
        "p/x $r7",
        "p/x $msp",
        "detach",
    ])
    pc0, pc_step, r7, msp = values(out)
    assert pc0 == syms["reset_handler"], out            # halted at the reset vector
    assert "Breakpoint 1, add_step (x=" in out, out
    assert re.search(rf"^pc\s+0x{syms['add_step']:x}\s", out, re.M), out
    assert re.search(r"^xpsr\s+0x1000000\s", out, re.M), out     # thumb, thread mode
    for name in ("msp", "psp", "primask", "basepri", "faultmask", "control"):
        assert re.search(rf"^{name}\s+0x", out, re.M), out
    assert "0x11111111\t0x22222222\t0x33333333\t0x44444444" in out, out   # flash
    assert f"0x{syms['counter']:08x} <counter>:\t0x00000000" in out, out  # RAM, zeroed
    assert syms["add_step"] < pc_step <= syms["add_step"] + 4, out
    assert r7 == 0xCAFE and machine.debug.read_core_regs()[7] == 0xCAFE
    assert syms["counter"] < msp <= 0x20020000, out


def test_gdb_continue_stops_at_the_breakpoint_again(machine, target_elf: Path) -> None:  # type: ignore[no-untyped-def]
    out = run_gdb(machine, target_elf, [
        "break add_step", "continue", "continue", "continue", "p counter", "detach"])
    assert out.count("Breakpoint 1, ") == 3, out
    assert "$1 = 2" in out, out                         # two calls done between the hits
    from pybench.engine.base import StopReason

    # Detached: no breakpoint of the session is left to stop the board.
    assert machine.debug.cont(10_000_000).reason == StopReason.DEADLINE


def test_breakpoint_reinserted_as_gdb_does_hits_again(machine, target_elf: Path) -> None:  # type: ignore[no-untyped-def]
    """gdb's way past a breakpoint: remove it, step one instruction, insert it, continue.

    Through the debug API directly: with gdb, a missed breakpoint is a run forever.
    """
    from pybench.engine.base import StopReason

    debug, add_step = machine.debug, symbols(target_elf)["add_step"]
    debug.add_breakpoint(add_step)
    assert debug.cont(10_000_000).reason == StopReason.HALTED
    debug.remove_breakpoint(add_step)
    debug.step()
    debug.add_breakpoint(add_step)
    result = debug.cont(10_000_000)       # 10 ms: the loop calls add_step every few cycles
    assert result.reason == StopReason.HALTED, result
    assert debug.read_core_regs()[15] == add_step


def test_gdb_load_programs_flash_and_runs_it(target_elf: Path) -> None:
    """`load` into a blank board: vFlashErase/vFlashWrite, then run what was written."""
    machine_mod = pytest.importorskip("pybench.engine.builtin.machine")
    from pybench.platform import repl

    m = machine_mod.Machine(repl.load(platform_file()))
    m.power_on()
    syms = symbols(target_elf)
    entry = (syms["reset_handler"] | 1).to_bytes(4, "little")
    assert m.debug.read_memory(0x08000004, 4) != entry
    out = run_gdb(m, target_elf, [
        "load",
        "p/x $pc",
        "set $sp = 0x20020000",
        "break add_step",
        "continue",
        "x/4wx &pattern",
        "detach",
    ])
    assert "Transfer rate" in out, out
    assert values(out)[0] == syms["reset_handler"], out     # load sets pc to the entry
    assert "Breakpoint 1, add_step (x=" in out, out
    assert "0x11111111\t0x22222222\t0x33333333\t0x44444444" in out, out
    assert m.debug.read_memory(0x08000004, 4) == entry
