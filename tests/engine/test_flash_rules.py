"""The pure flash rules (platforms/stm32f4_flash_rules.py), without any emulator.

Flash content lives in a bytearray here; the tests play the core's part by storing what
program() returns, as the built-in engine and the Renode wrapper do.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybench import layout
from pybench.engine.base import CutMode
from pybench.engine.builtin.peripherals.flash import rules_module

R: Any = rules_module()
LAYOUT = layout.load()
SECTOR_1 = LAYOUT.sector_addrs[1]   # the 16 KiB sector these tests erase

BASE = LAYOUT.FLASH_BASE_ADDR
SIZES = list(LAYOUT.sector_sizes)
PSIZE_X8, PSIZE_X16, PSIZE_X32, PSIZE_X64 = 0, 1, 2, 3


class Mem:
    """A flash array as the rules see it (read/write at absolute addresses)."""

    def __init__(self, base: int, size: int, fill: int = 0xFF):
        self.base = base
        self.buf = bytearray([fill]) * size

    def read(self, addr: int, n: int) -> bytes:
        return bytes(self.buf[addr - self.base : addr - self.base + n])

    def write(self, addr: int, data: bytes) -> None:
        self.buf[addr - self.base : addr - self.base + len(data)] = data


class Board:
    """Rules + memory + a clock, with the core's side of a store done in store()."""

    def __init__(self, sizes: list[int] | None = None, fill: int = 0xFF, base: int = BASE):
        self.sizes = sizes if sizes is not None else SIZES
        self.mem = Mem(base, sum(self.sizes), fill)
        self.rules = R.FlashRules(base, self.sizes, self.mem)
        self.events: list[tuple[str, str]] = []
        self.rules.on_event = lambda kind, detail: self.events.append((kind, detail))
        self.now = 0

    def w(self, offset: int, value: int) -> None:
        self.rules.write_reg(offset, value, self.now, 0x08000100)

    def r(self, offset: int) -> int:
        return int(self.rules.read_reg(offset, self.now))

    def unlock(self) -> None:
        self.w(R.KEYR, R.KEY1)
        self.w(R.KEYR, R.KEY2)

    def store(self, addr: int, width: int, value: int) -> int:
        old = int.from_bytes(self.mem.read(addr, width), "little")
        new = int(self.rules.program(addr, width, value, old, self.now, 0x08000200))
        self.mem.write(addr, new.to_bytes(width, "little"))
        self.settle()
        return new

    def settle(self) -> None:
        """Let the current operation run to its end."""
        if self.rules.busy:
            self.now = self.rules.busy_until
            self.rules.finish(self.now)

    def program_mode(self, psize: int = PSIZE_X32, extra: int = 0) -> None:
        self.w(R.CR, R.CR_PG | (psize << R.CR_PSIZE_SHIFT) | extra)

    def erase(self, sector: int, psize: int = PSIZE_X32, extra: int = 0) -> None:
        self.w(R.CR, R.CR_SER | (sector << R.CR_SNB_SHIFT) | (psize << R.CR_PSIZE_SHIFT)
               | extra)
        self.w(R.CR, self.r(R.CR) | R.CR_STRT)

    def word(self, addr: int) -> int:
        return int.from_bytes(self.mem.read(addr, 4), "little")


@pytest.fixture
def board() -> Board:
    return Board()


@pytest.fixture
def unlocked() -> Board:
    b = Board()
    b.unlock()
    return b


# --- geometry ---------------------------------------------------------------------------
def test_geometry_of_all_sectors_follows_the_layout() -> None:
    rules = R.FlashRules(BASE, SIZES)
    assert rules.sector_count == LAYOUT.FLASH_SECTOR_COUNT == len(LAYOUT.sector_addrs)
    for i, (addr, size) in enumerate(zip(LAYOUT.sector_addrs, LAYOUT.sector_sizes,
                                         strict=True)):
        assert rules.sector_base(i) == addr
        assert rules.sector_size(i) == size
        assert rules.sector_of(addr) == i
        assert rules.sector_of(addr + size - 1) == i
    assert rules.sector_of(BASE - 1) == -1
    assert rules.sector_of(BASE + LAYOUT.FLASH_TOTAL_SIZE) == -1
    assert rules.sector_of(LAYOUT.APP_SLOT_ADDR) == LAYOUT.APP_SLOT_FIRST_SECTOR
    assert rules.sector_of(LAYOUT.STAGING_ADDR) == LAYOUT.STAGING_FIRST_SECTOR


@pytest.mark.parametrize("sizes", [[], [16, 6], [0], [4] * 17])
def test_bad_geometry_is_refused(sizes: list[int]) -> None:
    with pytest.raises(ValueError):
        R.FlashRules(BASE, sizes)


# --- registers, keys, lock --------------------------------------------------------------
def test_reset_values(board: Board) -> None:
    assert board.r(R.CR) == 0x80000000
    assert board.r(R.SR) == 0
    assert board.r(R.ACR) == 0
    assert board.r(R.OPTCR) == 0x0FFFAAED
    assert board.r(R.KEYR) == 0 and board.r(R.OPTKEYR) == 0
    assert board.rules.read_reg(0x18, 0) is None
    assert board.rules.write_reg(0x18, 1, 0, 0) is False


def test_acr_keeps_only_its_fields(board: Board) -> None:
    board.w(R.ACR, 0xFFFFFFFF)
    assert board.r(R.ACR) == 0x1F07


def test_key_sequence_unlocks_and_lock_bit_locks_again(board: Board) -> None:
    board.unlock()
    assert not board.r(R.CR) & R.CR_LOCK
    board.w(R.CR, R.CR_PG)
    assert board.r(R.CR) == R.CR_PG
    board.w(R.CR, R.CR_LOCK)
    assert board.r(R.CR) & R.CR_LOCK
    board.unlock()      # a locked CR can be opened again with the right keys
    assert not board.r(R.CR) & R.CR_LOCK
    assert board.events == []


def test_locked_cr_ignores_writes(board: Board) -> None:
    board.w(R.CR, R.CR_PG | R.CR_EOPIE)
    assert board.r(R.CR) == R.CR_LOCK


@pytest.mark.parametrize("keys", [
    [R.KEY2],                 # wrong first key
    [R.KEY1, R.KEY1],         # wrong second key
    [0, R.KEY1, R.KEY2],      # anything wrong first
])
def test_wrong_key_sequence_locks_cr_until_reset(board: Board, keys: list[int]) -> None:
    for key in keys:
        board.w(R.KEYR, key)
    assert board.r(R.CR) & R.CR_LOCK
    # The wrong key and every KEYR write after it are bus errors.
    assert {kind for kind, _ in board.events} == {"bus-error"}
    board.unlock()
    assert board.r(R.CR) & R.CR_LOCK, "a wrong sequence must hold until reset"
    board.rules.reset()
    board.unlock()
    assert not board.r(R.CR) & R.CR_LOCK


def test_key_written_while_unlocked_is_a_wrong_sequence(unlocked: Board) -> None:
    unlocked.w(R.KEYR, R.KEY1)
    assert unlocked.r(R.CR) & R.CR_LOCK
    assert unlocked.events and unlocked.events[0][0] == "bus-error"


def test_sr_flags_clear_by_writing_one(unlocked: Board) -> None:
    unlocked.w(R.CR, R.CR_ERRIE | (PSIZE_X8 << R.CR_PSIZE_SHIFT) | R.CR_PG)
    unlocked.store(BASE + 0x4001, 4, 0)            # PGPERR, PGAERR, OPERR
    unlocked.w(R.CR, R.CR_ERRIE)
    unlocked.store(BASE + 0x4000, 4, 0)            # PGSERR
    flags = R.SR_OPERR | R.SR_PGAERR | R.SR_PGPERR | R.SR_PGSERR
    assert unlocked.r(R.SR) == flags
    unlocked.w(R.SR, 0)
    assert unlocked.r(R.SR) == flags, "writing 0 clears nothing"
    for flag in (R.SR_PGAERR, R.SR_OPERR, R.SR_PGSERR, R.SR_PGPERR):
        unlocked.w(R.SR, flag)
        flags &= ~flag
        assert unlocked.r(R.SR) == flags


def test_bsy_is_read_only(unlocked: Board) -> None:
    unlocked.erase(1)
    unlocked.w(R.SR, 0xFFFFFFFF)
    assert unlocked.r(R.SR) & R.SR_BSY


# --- programming ------------------------------------------------------------------------
@pytest.mark.parametrize(("psize", "width"), [(PSIZE_X8, 1), (PSIZE_X16, 2), (PSIZE_X32, 4)])
def test_program_each_parallelism(unlocked: Board, psize: int, width: int) -> None:
    addr = LAYOUT.JOURNAL_A_ADDR + 8
    unlocked.program_mode(psize)
    value = 0x12345678 & ((1 << (8 * width)) - 1)
    unlocked.now = 1000
    assert unlocked.store(addr, width, value) == value
    assert unlocked.r(R.SR) == 0
    (op,) = unlocked.rules.trace
    assert op == (0, "program", addr, width, LAYOUT.JOURNAL_A_SECTOR, value, 1000,
                  0x08000200)
    assert unlocked.now == 1000 + R.PROGRAM_NS


def test_program_only_clears_bits(unlocked: Board) -> None:
    addr = LAYOUT.SPARE_ADDR
    unlocked.program_mode()
    unlocked.store(addr, 4, 0xFF00FF00)
    assert unlocked.store(addr, 4, 0x0F0F0F0F) == 0x0F000F00
    assert unlocked.word(addr) == 0x0F000F00
    assert len(unlocked.rules.trace) == 2


@pytest.mark.parametrize(("psize", "width"), [
    (PSIZE_X32, 1), (PSIZE_X32, 2), (PSIZE_X8, 4), (PSIZE_X16, 4), (PSIZE_X64, 4),
])
def test_width_other_than_psize_is_pgperr(unlocked: Board, psize: int, width: int) -> None:
    unlocked.program_mode(psize)
    addr = LAYOUT.SPARE_ADDR
    assert unlocked.store(addr, width, 0) == (1 << (8 * width)) - 1
    assert unlocked.r(R.SR) == R.SR_PGPERR
    assert unlocked.rules.trace == []


@pytest.mark.parametrize("offset", [1, 2, 3, 14])
def test_unaligned_program_is_pgaerr(unlocked: Board, offset: int) -> None:
    unlocked.program_mode()
    addr = LAYOUT.SPARE_ADDR + offset
    unlocked.store(addr, 4, 0)
    assert unlocked.r(R.SR) == R.SR_PGAERR
    assert unlocked.mem.read(addr, 4) == b"\xff" * 4
    assert unlocked.rules.trace == []


@pytest.mark.parametrize("cr", [0, R.CR_PG | R.CR_SER, R.CR_PG | R.CR_MER, R.CR_SER])
def test_store_without_a_clean_pg_is_pgserr(unlocked: Board, cr: int) -> None:
    unlocked.w(R.CR, cr | (PSIZE_X32 << R.CR_PSIZE_SHIFT))
    unlocked.store(LAYOUT.SPARE_ADDR, 4, 0)
    assert unlocked.r(R.SR) == R.SR_PGSERR
    assert unlocked.word(LAYOUT.SPARE_ADDR) == 0xFFFFFFFF


def test_stray_word_store_after_reset_is_pgserr_and_pgperr(board: Board) -> None:
    board.store(LAYOUT.SPARE_ADDR, 4, 0)      # locked, PSIZE x8 at reset
    assert board.r(R.SR) == R.SR_PGSERR | R.SR_PGPERR
    assert board.word(LAYOUT.SPARE_ADDR) == 0xFFFFFFFF
    assert board.rules.trace == []


def test_program_into_protected_sector_is_wrperr(unlocked: Board) -> None:
    unlocked.rules.set_write_protect(LAYOUT.BOOT_SECTOR, True)
    unlocked.program_mode()
    unlocked.store(LAYOUT.BOOT_ADDR, 4, 0)
    assert unlocked.r(R.SR) == R.SR_WRPERR
    assert unlocked.word(LAYOUT.BOOT_ADDR) == 0xFFFFFFFF
    unlocked.rules.set_write_protect(LAYOUT.BOOT_SECTOR, False)
    unlocked.store(LAYOUT.BOOT_ADDR, 4, 0)
    assert unlocked.word(LAYOUT.BOOT_ADDR) == 0


@pytest.mark.parametrize(("errie", "expected"), [(0, 0), (R.CR_ERRIE, R.SR_OPERR)])
def test_operr_only_with_errie(unlocked: Board, errie: int, expected: int) -> None:
    unlocked.program_mode(PSIZE_X32, errie)
    unlocked.store(LAYOUT.SPARE_ADDR, 2, 0)
    assert unlocked.r(R.SR) & R.SR_OPERR == expected
    assert unlocked.rules.irq_level() == bool(expected)


def test_program_outside_flash_is_a_caller_bug(unlocked: Board) -> None:
    unlocked.program_mode()
    with pytest.raises(ValueError):
        unlocked.rules.program(BASE + LAYOUT.FLASH_TOTAL_SIZE, 4, 0, 0, 0, 0)


# --- erasing ----------------------------------------------------------------------------
@pytest.mark.parametrize("sector", range(len(SIZES)))
def test_sector_erase_touches_exactly_its_sector(sector: int) -> None:
    b = Board(fill=0x00)
    b.unlock()
    b.erase(sector)
    base, size = LAYOUT.sector_addrs[sector], LAYOUT.sector_sizes[sector]
    off = base - BASE
    assert b.mem.buf[off : off + size] == b"\xff" * size
    assert b.mem.buf[:off].count(0xFF) == 0
    assert b.mem.buf[off + size :].count(0xFF) == 0
    assert b.rules.busy and b.r(R.SR) & R.SR_BSY and b.r(R.CR) & R.CR_STRT
    assert b.rules.busy_until == R.erase_time_ns(size, PSIZE_X32)
    assert b.rules.trace == [(0, "erase", base, size, sector, None, 0, 0x08000100)]


@pytest.mark.parametrize(("sector", "table"), [
    (0, "ERASE_16K_NS"), (3, "ERASE_16K_NS"), (4, "ERASE_64K_NS"), (5, "ERASE_128K_NS"),
    (11, "ERASE_128K_NS"),
])
@pytest.mark.parametrize("psize", [PSIZE_X8, PSIZE_X16, PSIZE_X32])
def test_erase_time_follows_sector_size_and_psize(sector: int, table: str, psize: int) -> None:
    b = Board()
    b.unlock()
    b.erase(sector, psize)
    assert b.rules.busy_until == getattr(R, table)[psize]


def test_datasheet_timings_are_ordered() -> None:
    # Bigger sectors take longer; wider parallelism is faster (DS8626).
    for p in range(3):
        assert R.ERASE_16K_NS[p] < R.ERASE_64K_NS[p] < R.ERASE_128K_NS[p] < R.MASS_ERASE_NS[p]
        assert R.ERASE_128K_NS[p] >= R.ERASE_128K_NS[p + 1]
    assert R.ERASE_128K_NS[2] == 1_000_000_000 and R.PROGRAM_NS == 16_000


def test_busy_ends_with_eop_only_when_eopie() -> None:
    for eopie, eop in ((0, 0), (R.CR_EOPIE, R.SR_EOP)):
        b = Board()
        b.unlock()
        b.erase(2, extra=eopie)
        assert not b.rules.finish(b.rules.busy_until - 1)
        assert b.r(R.SR) & R.SR_BSY
        assert b.rules.finish(b.rules.busy_until)
        assert b.r(R.SR) == eop
        assert not b.r(R.CR) & R.CR_STRT
        assert b.rules.irq_level() == bool(eop)


def test_erase_of_protected_sector_is_wrperr(unlocked: Board) -> None:
    unlocked.mem.buf[:] = bytes(len(unlocked.mem.buf))
    unlocked.rules.set_write_protect(3, True)
    unlocked.erase(3)
    assert unlocked.r(R.SR) == R.SR_WRPERR
    assert not unlocked.rules.busy
    assert unlocked.mem.buf.count(0xFF) == 0
    assert unlocked.rules.trace == []


@pytest.mark.parametrize("cr", [R.CR_SER | R.CR_MER, 0, R.CR_SER | (12 << R.CR_SNB_SHIFT)])
def test_bad_erase_requests_are_pgserr(unlocked: Board, cr: int) -> None:
    unlocked.mem.buf[:] = bytes(len(unlocked.mem.buf))
    unlocked.w(R.CR, cr)
    unlocked.w(R.CR, cr | R.CR_STRT)
    assert unlocked.r(R.SR) == R.SR_PGSERR
    assert not unlocked.r(R.CR) & R.CR_STRT
    assert unlocked.mem.buf.count(0xFF) == 0


def test_erase_wins_over_program_when_both_requested(unlocked: Board) -> None:
    unlocked.mem.write(LAYOUT.SPARE_ADDR, b"\0" * 4)
    unlocked.erase(LAYOUT.SPARE_SECTOR, extra=R.CR_PG)
    assert unlocked.word(LAYOUT.SPARE_ADDR) == 0xFFFFFFFF


def test_mass_erase_is_one_operation_per_sector() -> None:
    b = Board(fill=0)
    b.unlock()
    b.w(R.CR, R.CR_MER | (PSIZE_X32 << R.CR_PSIZE_SHIFT))
    b.w(R.CR, b.r(R.CR) | R.CR_STRT)
    assert b.mem.buf == bytearray([0xFF]) * LAYOUT.FLASH_TOTAL_SIZE
    assert [op[4] for op in b.rules.trace] == list(range(len(SIZES)))
    assert b.rules.busy_until == R.MASS_ERASE_NS[PSIZE_X32]


def test_mass_erase_with_a_protected_sector_erases_nothing() -> None:
    b = Board(fill=0)
    b.unlock()
    b.rules.set_write_protect(7, True)
    b.w(R.CR, R.CR_MER)
    b.w(R.CR, R.CR_MER | R.CR_STRT)
    assert b.r(R.SR) == R.SR_WRPERR
    assert b.mem.buf.count(0xFF) == 0


def test_cr_write_and_store_wait_for_the_running_operation(unlocked: Board) -> None:
    unlocked.erase(1, extra=R.CR_EOPIE)
    end = unlocked.rules.busy_until
    assert unlocked.rules.stall_ns(100) == end - 100
    unlocked.w(R.CR, R.CR_PG | (PSIZE_X32 << R.CR_PSIZE_SHIFT))   # the caller stalled first
    assert not unlocked.rules.busy and unlocked.r(R.SR) == R.SR_EOP
    assert unlocked.rules.stall_ns(100) == 0


# --- option bytes -----------------------------------------------------------------------
def test_option_bytes_write_protection_survives_reset(board: Board) -> None:
    board.w(R.OPTKEYR, R.OPTKEY1)
    board.w(R.OPTKEYR, R.OPTKEY2)
    assert not board.r(R.OPTCR) & R.OPTCR_OPTLOCK
    nwrp_all = 0xFFF << R.OPTCR_NWRP_SHIFT
    sector0 = 1 << R.OPTCR_NWRP_SHIFT
    board.w(R.OPTCR, (board.r(R.OPTCR) & ~nwrp_all) | (nwrp_all & ~sector0) | R.OPTCR_OPTSTRT)
    board.rules.reset()
    assert board.rules.write_protected(0) and not board.rules.write_protected(1)
    assert board.r(R.OPTCR) == 0x0FFEAAED
    assert [kind for kind, _ in board.events] == ["flash"]


def test_optcr_locked_and_wrong_option_key_locks_out(board: Board) -> None:
    board.w(R.OPTCR, 0)
    assert board.r(R.OPTCR) == 0x0FFFAAED
    board.w(R.OPTKEYR, R.KEY1)
    board.w(R.OPTKEYR, R.OPTKEY1)
    board.w(R.OPTKEYR, R.OPTKEY2)
    assert board.r(R.OPTCR) & R.OPTCR_OPTLOCK
    assert board.events[0][0] == "bus-error"


def test_set_write_protect_checks_the_sector(board: Board) -> None:
    with pytest.raises(ValueError):
        board.rules.set_write_protect(len(SIZES), True)


# --- property tests against a reference written here --------------------------------------
TINY = [16, 16, 32]   # three sectors: small enough for hypothesis to cover every byte


class ReferenceNor:
    """What NOR flash must do, written as plainly as possible."""

    def __init__(self, size: int):
        self.cells = [0xFF] * size

    def program(self, off: int, data: bytes) -> None:
        for i, byte in enumerate(data):
            self.cells[off + i] &= byte

    def erase(self, off: int, size: int) -> None:
        for i in range(off, off + size):
            self.cells[i] = 0xFF


tiny_ops = st.lists(
    st.one_of(
        st.tuples(st.just("program"), st.integers(0, sum(TINY) // 4 - 1),
                  st.integers(0, 0xFFFFFFFF)),
        st.tuples(st.just("erase"), st.integers(0, len(TINY) - 1), st.just(0)),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(ops=tiny_ops)
def test_program_and_erase_match_the_reference(ops: list[tuple[str, int, int]]) -> None:
    b = Board(sizes=TINY)
    b.unlock()
    ref = ReferenceNor(sum(TINY))
    for kind, where, value in ops:
        if kind == "program":
            b.program_mode()
            b.store(BASE + 4 * where, 4, value)
            ref.program(4 * where, value.to_bytes(4, "little"))
        else:
            b.erase(where)
            b.settle()
            ref.erase(sum(TINY[:where]), TINY[where])
        assert list(b.mem.buf) == ref.cells
    assert b.r(R.SR) & ~R.SR_EOP == 0
    assert len(b.rules.trace) == len(ops)


@given(old=st.integers(0, 0xFFFFFFFF), value=st.integers(0, 0xFFFFFFFF),
       progress=st.floats(0.0, 1.0), seed=st.integers(0, 2**64 - 1))
def test_torn_program_lies_between_old_and_programmed(old: int, value: int,
                                                      progress: float, seed: int) -> None:
    torn = R.torn_program(old, value, 4, progress, seed)
    assert torn & (old & value) == old & value     # what was 0 stays 0 ...
    assert torn | old == old                      # ... and no bit rose to 1
    assert torn == R.torn_program(old, value, 4, progress, seed)


def test_torn_program_ends() -> None:
    assert R.torn_program(0xFFFFFFFF, 0x12345678, 4, 0.0, 5) == 0xFFFFFFFF
    assert R.torn_program(0xFFFFFFFF, 0x12345678, 4, 1.0, 5) == 0x12345678
    shapes = {R.torn_program(0xFFFFFFFF, 0, 4, 0.5, seed) for seed in range(10)}
    assert len(shapes) == 10


@given(nwords=st.integers(1, 300), progress=st.floats(0.0, 1.0),
       seed=st.integers(0, 2**64 - 1))
def test_torn_erase_shape(nwords: int, progress: float, seed: int) -> None:
    erased, partial, mask = R.torn_erase_words(nwords, progress, seed)
    assert len(erased) == int(progress * nwords)
    assert len(set(erased)) == len(erased)
    assert all(0 <= w < nwords for w in erased)
    if len(erased) < nwords:
        assert 0 <= partial < nwords and partial not in erased
        assert 0 <= mask <= 0xFFFFFFFF
    else:
        assert partial == -1
    assert R.torn_erase_words(nwords, progress, seed) == (erased, partial, mask)


def test_torn_erase_differs_across_seeds() -> None:
    shapes = {tuple(R.torn_erase_words(1024, 0.3, seed)[0]) for seed in range(8)}
    assert len(shapes) == 8


# --- power cuts -------------------------------------------------------------------------
def _program_run(b: Board, count: int) -> list[int]:
    """Program `count` words of zeros from the spare sector, stopping at a cut."""
    b.program_mode()
    done = []
    for i in range(count):
        if b.rules.cut:
            break
        b.store(LAYOUT.SPARE_ADDR + 4 * i, 4, 0x0000_0000)
        done.append(i)
    return done


@pytest.mark.parametrize(("mode", "expected"), [("before", 0xFFFFFFFF), ("after", 0)])
def test_cut_at_program_n(unlocked: Board, mode: str, expected: int) -> None:
    unlocked.rules.arm(3, mode)
    assert _program_run(unlocked, 6) == [0, 1, 2, 3]
    assert unlocked.rules.cut
    assert [unlocked.word(LAYOUT.SPARE_ADDR + 4 * i) for i in range(5)] == [
        0, 0, 0, expected, 0xFFFFFFFF]
    assert len(unlocked.rules.trace) == 4
    assert unlocked.rules.armed is None
    assert [kind for kind, _ in unlocked.events] == ["flash"]


def test_cut_torn_program_is_seeded(unlocked: Board) -> None:
    results = []
    for seed in (1, 1, 2):
        b = Board()
        b.unlock()
        b.rules.arm(0, "torn", 0.5, seed)
        _program_run(b, 1)
        results.append(b.word(LAYOUT.SPARE_ADDR))
    assert results[0] == results[1] != results[2]
    assert results[0] not in (0, 0xFFFFFFFF)


def test_after_a_cut_the_board_is_off_until_reset(unlocked: Board) -> None:
    unlocked.rules.arm(0, "before")
    _program_run(unlocked, 1)
    unlocked.store(LAYOUT.SPARE_ADDR + 4, 4, 0)          # refused: no power
    unlocked.w(R.CR, R.CR_LOCK)
    assert unlocked.word(LAYOUT.SPARE_ADDR + 4) == 0xFFFFFFFF
    assert not unlocked.r(R.CR) & R.CR_LOCK
    unlocked.rules.reset()
    assert not unlocked.rules.cut and unlocked.r(R.CR) == R.CR_LOCK
    assert len(unlocked.rules.trace) == 1, "the trace survives a power cycle"


@pytest.mark.parametrize(("mode", "erased"), [("before", 0), ("after", 16384 // 4)])
def test_cut_at_erase(mode: str, erased: int) -> None:
    b = Board(fill=0)
    b.unlock()
    b.rules.arm(0, mode)
    b.erase(1)
    words = [b.word(SECTOR_1 + 4 * i) for i in range(16384 // 4)]
    assert words.count(0xFFFFFFFF) == erased
    assert b.rules.cut


def test_torn_erase_leaves_old_erased_and_one_partial_word() -> None:
    shapes = []
    for seed in (7, 7, 8):
        b = Board(fill=0x00)
        b.unlock()
        b.rules.arm(0, "torn", 0.25, seed)
        b.erase(1)
        words = [b.word(SECTOR_1 + 4 * i) for i in range(4096)]
        assert words.count(0xFFFFFFFF) in (1024, 1025)   # the partial word may be all 1s
        assert len([w for w in words if w not in (0, 0xFFFFFFFF)]) <= 1
        assert b.mem.buf[: SECTOR_1 - BASE].count(0) == 16384
        shapes.append(words)
    assert shapes[0] == shapes[1] != shapes[2]


def test_cut_inside_mass_erase_stops_at_that_sector() -> None:
    b = Board(fill=0)
    b.unlock()
    b.rules.arm(5, "before")
    b.w(R.CR, R.CR_MER)
    b.w(R.CR, R.CR_MER | R.CR_STRT)
    assert b.rules.cut and len(b.rules.trace) == 6
    end4 = LAYOUT.sector_addrs[5] - BASE
    assert b.mem.buf[:end4] == bytearray([0xFF]) * end4
    assert b.mem.buf[end4:].count(0xFF) == 0


@pytest.mark.parametrize(("args", "word"), [
    ((-1, "before"), "op_index"), ((0, "sideways"), "mode"), ((0, "torn", 1.5), "progress"),
])
def test_arm_checks_its_arguments(board: Board, args: tuple[Any, ...], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        board.rules.arm(*args)


def test_arm_takes_the_engine_enum() -> None:
    b = Board()
    b.unlock()
    b.rules.arm(0, CutMode.AFTER)
    assert b.rules.armed == (0, "after", 0.5, 0)
    _program_run(b, 1)
    assert b.rules.cut and b.word(LAYOUT.SPARE_ADDR) == 0


def test_disarm(unlocked: Board) -> None:
    unlocked.rules.arm(0, "before")
    unlocked.rules.disarm()
    _program_run(unlocked, 2)
    assert not unlocked.rules.cut


def test_reset_trace_restarts_the_index(unlocked: Board) -> None:
    _program_run(unlocked, 2)
    unlocked.rules.reset_trace()
    unlocked.rules.arm(0, "before")
    unlocked.store(LAYOUT.SPARE_ADDR + 8, 4, 0)
    assert unlocked.rules.trace[0][0] == 0 and unlocked.rules.cut


# --- snapshots --------------------------------------------------------------------------
def test_save_and_load_give_the_same_future(unlocked: Board) -> None:
    unlocked.rules.set_write_protect(9, True)
    _program_run(unlocked, 3)
    unlocked.erase(2, extra=R.CR_EOPIE)          # left running
    unlocked.rules.arm(4, "torn", 0.5, 11)
    state = unlocked.rules.save()
    futures = []
    for _ in range(2):
        b = Board()
        b.mem.buf[:] = unlocked.mem.buf
        b.rules.load(state)
        assert b.rules.save() == state
        b.settle()
        b.program_mode()
        b.store(LAYOUT.SPARE_ADDR + 64, 4, 0x1234)
        futures.append((bytes(b.mem.buf), b.rules.save()))
    assert futures[0] == futures[1]
    assert futures[0][1][10] is True, "the armed cut fired in the restored rules"


def test_a_saved_trace_outlives_the_operations_after_it(unlocked: Board) -> None:
    """save() keeps the trace list and its length, not a copy: what runs after the save,
    or after a load of it, must not change what a load of it gives back."""
    _program_run(unlocked, 3)
    early = unlocked.rules.save()
    early_trace = list(unlocked.rules.trace)
    _program_run(unlocked, 2)
    late = unlocked.rules.save()
    late_trace = list(unlocked.rules.trace)
    unlocked.rules.load(early)
    assert unlocked.rules.trace == early_trace
    unlocked.store(LAYOUT.SPARE_ADDR + 128, 4, 0x5555AAAA)   # another future
    assert len(unlocked.rules.trace) == len(early_trace) + 1
    assert unlocked.rules.trace[-1] != late_trace[len(early_trace)]
    unlocked.rules.load(late)
    assert unlocked.rules.trace == late_trace
    unlocked.rules.load(early)                  # the same list, shorter: cut back
    assert unlocked.rules.trace == early_trace
    # A save after a load refers to the live list: a later load must not shorten it.
    unlocked.store(LAYOUT.SPARE_ADDR + 132, 4, 0x0F0F0F0F)
    branch = unlocked.rules.save()
    branch_trace = list(unlocked.rules.trace)
    unlocked.rules.load(early)
    assert unlocked.rules.trace == early_trace
    unlocked.rules.load(branch)
    assert unlocked.rules.trace == branch_trace


# --- the same file must run in Renode's IronPython 2.7 ----------------------------------
RULES_PATH = Path(R.__file__)


def test_rules_file_uses_only_python2_compatible_syntax() -> None:
    tree = ast.parse(RULES_PATH.read_text(), str(RULES_PATH))
    banned = (ast.JoinedStr, ast.AnnAssign, ast.Nonlocal, ast.AsyncFunctionDef, ast.Await,
              ast.YieldFrom, ast.NamedExpr, ast.Import, ast.ImportFrom, ast.Starred)
    problems = [f"line {n.lineno}: {type(n).__name__}" for n in ast.walk(tree)
                if isinstance(n, banned)]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            a = node.args
            if node.returns or a.kwonlyargs or a.posonlyargs or any(
                    x.annotation for x in [*a.args, *a.kwonlyargs]):
                problems.append(f"line {node.lineno}: {node.name} has py3-only arguments")
        if isinstance(node, ast.ClassDef) and not node.bases:
            problems.append(f"line {node.lineno}: class {node.name} must derive from object")
    assert problems == []


PY2_PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
import stm32f4_flash_rules as r
out = []
for seed in (0, 3, 2**63 + 7):
    e, part, mask = r.torn_erase_words(4096, 0.37, seed)
    out.append("%d %d %d %d" % (len(e), sum(e), part, mask))
    out.append("%d" % r.torn_program(0xFFFFFFFF, 0x12345678, 4, 0.5, seed))
print(";".join(out))
"""


def _python2() -> str | None:
    for name in ("python2.7", "python2", "ipy"):
        exe = shutil.which(name)
        if exe and subprocess.run([exe, "-c", "pass"], capture_output=True,
                                  check=False).returncode == 0:
            return exe
    return None


def test_torn_shapes_are_the_same_under_python2() -> None:
    exe = _python2()
    if exe is None:
        pytest.skip("no working python2 or ipy interpreter")
    here = subprocess.run([exe, "-c", PY2_PROBE, str(RULES_PATH.parent)], capture_output=True,
                          text=True, check=True).stdout.strip()
    expected = []
    for seed in (0, 3, 2**63 + 7):
        e, part, mask = R.torn_erase_words(4096, 0.37, seed)
        expected.append(f"{len(e)} {sum(e)} {part} {mask}")
        expected.append(f"{R.torn_program(0xFFFFFFFF, 0x12345678, 4, 0.5, seed)}")
    assert here == ";".join(expected)
