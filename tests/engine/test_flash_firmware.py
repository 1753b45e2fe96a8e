"""A real program drives the flash interface through its registers, in the built-in engine.

tests/engine/fw/flash_exercise.c unlocks, erases and programs sector 3 and provokes each
error, writing what it read from FLASH_SR and flash into a RAM array; the expected values
are written here from RM0090, independently of the program. The same program then runs
with power cuts armed at its flash operations.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from elftools.elf.elffile import ELFFile

from pybench import layout
from pybench.engine.base import CutMode, FlashOpKind, PowerCut, StopReason
from pybench.paths import platform_file

FW = Path(__file__).parent / "fw" / "flash_exercise.c"
LAYOUT = layout.load()
SPARE = LAYOUT.SPARE_ADDR
SPARE_SIZE = LAYOUT.SPARE_SIZE
PROTECTED = 2                            # the program expects sector 2 write-protected
DONE = 0xD0E5D0E5
RUN_NS = 5_000_000_000                   # two 16 KiB erases take 0.5 s of virtual time

EOP, OPERR, WRPERR, PGPERR, PGSERR = 0x01, 0x02, 0x10, 0x40, 0x80
LOCK = 1 << 31

# What RM0090 says each step of the program must read (see the comments in the C file).
EXPECTED = [
    0,                      # SR at reset
    LOCK,                   # CR at reset
    PGSERR | PGPERR,        # a stray word store while locked (PSIZE x8)
    0,                      # CR after KEY1, KEY2
    0,                      # sector erase
    0xFFFFFFFF,             # erased word
    0,                      # program
    0x12345678,
    0,                      # program over it: bits only clear
    0x12340000,
    PGPERR,                 # half-word with PSIZE x32
    PGPERR,                 # odd half-word: the M4 splits it into byte accesses
    PGSERR,                 # store without PG
    PGPERR | OPERR,         # with ERRIE
    0xFFFFFFFF,             # refused stores changed nothing
    WRPERR,                 # erase of a protected sector
    WRPERR | OPERR,         # the same with ERRIE
    WRPERR,                 # mass erase with a protected sector
    PGSERR,                 # SER with MER
    EOP,                    # erase with EOPIE
    0xFFFFFFFF,
    0,                      # program
    0,                      # SR read right after STRT, from RAM: the read waited for the end
    0,
    0xFFFFFFFF,             # erased
    0,                      # an unaligned word at x16: the M4's two half-words program
    0x3344FFFF,
    0xFFFF1122,
    PGPERR,                 # the same at x8: half-words are not bytes
    0xFFFFFFFF,             # ... and nothing changed
    1,                      # a flash read from RAM during an erase waited for its end
    0xFFFFFFFF,             # erased
    LOCK,                   # LOCK written
    LOCK,                   # a wrong key keeps CR locked even after the right keys
    3,                      # the wrong key and the two after it: bus errors (BusFault)
    1 << 10,                # IMPRECISERR (a buffered write)
    DONE,
]


@pytest.fixture(scope="module")
def exercise_elf(arm_compile: Callable[..., Path], tmp_path_factory: Any) -> Path:
    out = tmp_path_factory.mktemp("flash_fw") / "flash_exercise.elf"
    return arm_compile(FW, out, LAYOUT.FLASH_BASE_ADDR + 0x200, [
        f"-Wl,--section-start=.vectors=0x{LAYOUT.FLASH_BASE_ADDR:08x}",
        f"-Wl,-Tbss=0x{LAYOUT.SRAM_BASE_ADDR:08x}", "-Wl,-e,reset_handler"])


def symbol(elf: Path, name: str) -> int:
    with elf.open("rb") as f:
        sym = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name(name)
    assert sym, f"{elf}: no symbol {name}"
    return int(sym[0]["st_value"])


@pytest.fixture
def board(exercise_elf: Path):  # type: ignore[no-untyped-def]
    mod = pytest.importorskip("pybench.engine.builtin.engine",
                              reason="the built-in engine is not written yet")
    eng = mod.BuiltinEngine()
    eng.load_platform(platform_file())
    eng.load_elf(exercise_elf)
    eng.write_flash(SPARE, bytes(SPARE_SIZE))          # sector 3 all 0x00
    eng.machine.flash_ctrl.set_write_protect(PROTECTED, True)
    yield eng
    eng.close()


def results(eng: Any, elf: Path) -> list[int]:
    raw = eng.machine.read_mem(symbol(elf, "result"), 4 * len(EXPECTED))
    return [int.from_bytes(raw[i : i + 4], "little") for i in range(0, len(raw), 4)]


def run_to_done(eng: Any, elf: Path) -> Any:
    done_at = symbol(elf, "result") + 4 * (len(EXPECTED) - 1)
    return eng.run(RUN_NS, lambda: eng.machine.read_mem(done_at, 4) == DONE.to_bytes(4, "little"))


def test_registers_and_errors_as_rm0090_says(board: Any, exercise_elf: Path) -> None:
    board.power_on()
    result = run_to_done(board, exercise_elf)
    assert result.reason == StopReason.CONDITION, result
    got = results(board, exercise_elf)
    for i, (g, e) in enumerate(zip(got, EXPECTED, strict=True)):
        assert g == e, f"step {i}: read 0x{g:08x}, RM0090 says 0x{e:08x} (all: {got})"
    assert any(e.kind == "bus-error" for e in board.events())


def test_trace_and_virtual_time(board: Any, exercise_elf: Path) -> None:
    board.power_on()
    run_to_done(board, exercise_elf)
    trace = board.flash_trace()
    assert [(op.kind, op.addr, op.value) for op in trace] == [
        (FlashOpKind.ERASE, SPARE, None),
        (FlashOpKind.PROGRAM, SPARE, 0x12345678),
        (FlashOpKind.PROGRAM, SPARE, 0xFFFF0000),
        (FlashOpKind.ERASE, SPARE, None),
        (FlashOpKind.PROGRAM, SPARE, 0),
        (FlashOpKind.ERASE, SPARE, None),
        # The unaligned word at SPARE + 0x12: two half-words, as the M4 splits it.
        (FlashOpKind.PROGRAM, SPARE + 0x12, 0x3344),
        (FlashOpKind.PROGRAM, SPARE + 0x14, 0x1122),
        (FlashOpKind.ERASE, SPARE, None),
    ]
    assert [op.size for op in trace[6:8]] == [2, 2]
    in_boot = [LAYOUT.BOOT_ADDR <= op.pc < LAYOUT.BOOT_ADDR + LAYOUT.BOOT_SIZE for op in trace]
    assert in_boot == [True] * 5 + [False] + [True] * 2 + [False]
    assert LAYOUT.SRAM_BASE_ADDR <= trace[5].pc < LAYOUT.SRAM_BASE_ADDR + LAYOUT.SRAM_TOTAL_SIZE
    # Code in flash stalls for the whole erase; code in RAM ran on until it read SR, which
    # waited for the end: either way the erase time passes.
    erase_ns = trace[1].time_ns - trace[0].time_ns
    assert 250_000_000 <= erase_ns < 250_001_000
    assert board.now_ns >= 3 * 250_000_000


@pytest.mark.parametrize(("op", "mode", "word"), [
    (1, CutMode.BEFORE, 0xFFFFFFFF),
    (1, CutMode.AFTER, 0x12345678),
    (2, CutMode.BEFORE, 0x12345678),
])
def test_power_cut_at_a_program(board: Any, exercise_elf: Path, op: int, mode: CutMode,
                                word: int) -> None:
    board.arm_power_cut(PowerCut(op, mode))
    board.power_on()
    result = board.run(RUN_NS)
    assert result.reason == StopReason.POWER_CUT
    assert len(board.flash_trace()) == op + 1
    assert int.from_bytes(board.read_flash(SPARE, 4), "little") == word


def test_torn_erase_then_power_on_again(board: Any, exercise_elf: Path) -> None:
    board.arm_power_cut(PowerCut(0, CutMode.TORN, progress=0.5, seed=4))
    board.power_on()
    assert board.run(RUN_NS).reason == StopReason.POWER_CUT
    sector = board.read_flash(SPARE, SPARE_SIZE)
    words = [int.from_bytes(sector[i : i + 4], "little") for i in range(0, SPARE_SIZE, 4)]
    assert words.count(0xFFFFFFFF) in (len(words) // 2, len(words) // 2 + 1)
    assert words.count(0) >= len(words) // 2 - 1
    # Power comes back: the program runs to its end, the cut was spent.
    board.power_on()
    assert run_to_done(board, exercise_elf).reason == StopReason.CONDITION
    assert results(board, exercise_elf) == EXPECTED


def test_snapshot_replays_the_same_cut(board: Any, exercise_elf: Path) -> None:
    board.power_on()
    board.run(RUN_NS, lambda: len(board.flash_trace()) >= 1)
    snap = board.snapshot()
    second_erase = 3
    assert len(board.flash_trace()) <= second_erase
    outcomes = []
    for _ in range(2):
        board.restore(snap)
        board.arm_power_cut(PowerCut(second_erase, CutMode.TORN, progress=0.5, seed=3))
        assert board.run(RUN_NS).reason == StopReason.POWER_CUT
        outcomes.append((board.read_flash(SPARE, SPARE_SIZE), list(board.flash_trace()),
                         board.now_ns))
    assert outcomes[0] == outcomes[1]
    sector, trace, _ = outcomes[0]
    assert len(trace) == second_erase + 1 and trace[-1].kind == FlashOpKind.ERASE
    # Only word 0 was programmed since the first erase; torn, it lies between its old
    # value and erased, and the rest of the sector stays erased.
    word0 = int.from_bytes(sector[:4], "little")
    assert word0 & 0x12340000 == 0x12340000
    assert sector[4:] == b"\xff" * (SPARE_SIZE - 4)
