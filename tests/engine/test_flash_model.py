"""The FlashInterface adapter (pybench/engine/builtin/flash.py) with a fake bus and memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pybench import layout
from pybench.engine.base import CutMode, FlashOp, FlashOpKind, PowerCut
from pybench.engine.builtin.peripherals.flash import (
    STORE_AS_IS,
    FlashInterface,
    StoreOutcome,
    rules_module,
)
from pybench.errors import BenchError

R: Any = rules_module()
LAYOUT = layout.load()
SECTOR_1 = LAYOUT.sector_addrs[1]   # the 16 KiB sector these tests erase

FLASH_CTRL = 0x40023C00
CODE_IN_FLASH = LAYOUT.BOOT_ADDR + 0x100
CODE_IN_RAM = LAYOUT.SRAM_BASE_ADDR + 0x100
PSIZE_X32 = 2 << R.CR_PSIZE_SHIFT


class FakeBus:
    """The machine as the model sees it: a clock, a scheduler, IRQ lines, events."""

    def __init__(self) -> None:
        self.now = 0
        self.pc = CODE_IN_FLASH
        self.stalls: list[int] = []
        self.irqs: list[tuple[int, bool]] = []
        self.events: list[tuple[str, str]] = []
        self.stops: list[str] = []
        self.timers: dict[int, tuple[int, Callable[[], None]]] = {}
        self._next = 0

    @property
    def now_ns(self) -> int:
        return self.now

    def cpu_pc(self) -> int:
        return self.pc

    def advance(self, ns: int) -> None:
        self.stalls.append(ns)
        self.now += ns

    def schedule(self, at_ns: int, callback: Callable[[], None]) -> object:
        self._next += 1
        self.timers[self._next] = (at_ns, callback)
        return self._next

    def cancel(self, handle: object) -> None:
        assert isinstance(handle, int)
        del self.timers[handle]

    def run_to(self, at_ns: int) -> None:
        """Time passes with the CPU busy elsewhere: due timers fire."""
        self.now = at_ns
        for handle, (when, callback) in sorted(self.timers.items()):
            if when <= at_ns:
                del self.timers[handle]
                callback()

    def set_irq(self, irq: int, level: bool) -> None:
        self.irqs.append((irq, level))

    def event(self, kind: str, detail: str) -> None:
        self.events.append((kind, detail))

    def request_stop(self, reason: str) -> None:
        self.stops.append(reason)

    def read_mem(self, addr: int, size: int) -> bytes:
        raise AssertionError("the flash interface is no bus master")

    def write_mem(self, addr: int, data: bytes) -> None:
        raise AssertionError("the flash interface is no bus master")

    def frame_out(self, frame: bytes) -> None:
        raise AssertionError("not a network model")


class FakeFlashMemory:
    """The core's FlashMemory: a host buffer, read and written directly."""

    def __init__(self, fill: int = 0xFF) -> None:
        self.base = LAYOUT.FLASH_BASE_ADDR
        self.size = LAYOUT.FLASH_TOTAL_SIZE
        self.buf = bytearray([fill]) * self.size
        self.writes = 0

    def read(self, addr: int, n: int) -> bytes:
        return bytes(self.buf[addr - self.base : addr - self.base + n])

    def write(self, addr: int, data: bytes) -> None:
        self.writes += 1
        self.buf[addr - self.base : addr - self.base + len(data)] = data


class Rig:
    def __init__(self, fill: int = 0xFF) -> None:
        self.bus = FakeBus()
        self.mem = FakeFlashMemory(fill)
        self.flash = FlashInterface("flash_controller", FLASH_CTRL, 0x400, self.bus,
                                    {"size": 0x400, "filename": "flash_controller.py"})
        self.flash.attach_memory(self.mem)

    def unlock(self) -> None:
        self.flash.write(R.KEYR, 4, R.KEY1)
        self.flash.write(R.KEYR, 4, R.KEY2)

    def store(self, addr: int, value: int, size: int = 4) -> StoreOutcome:
        """A CPU store as the core performs it: let it land, then apply `final`."""
        outcome = self.flash.cpu_store(addr, size, value, self.bus.pc)
        self.mem.write(addr, value.to_bytes(size, "little"))
        if outcome.final is not None:
            self.mem.write(addr, outcome.final)
        return outcome

    def erase(self, sector: int, extra: int = 0) -> None:
        cr = R.CR_SER | (sector << R.CR_SNB_SHIFT) | PSIZE_X32 | extra
        self.flash.write(R.CR, 4, cr)
        self.flash.write(R.CR, 4, cr | R.CR_STRT)

    def word(self, addr: int) -> int:
        return int.from_bytes(self.mem.read(addr, 4), "little")


@pytest.fixture
def rig() -> Rig:
    r = Rig()
    r.unlock()
    return r


def test_repl_type_and_filename() -> None:
    assert "Python.PythonPeripheral" in FlashInterface.repl_types
    with pytest.raises(BenchError, match=r"other\.py"):
        FlashInterface("x", FLASH_CTRL, 0x400, FakeBus(), {"filename": "other.py"})


def test_attach_memory_checks_the_layout() -> None:
    r = Rig()
    wrong = FakeFlashMemory()
    wrong.size //= 2
    with pytest.raises(BenchError, match=r"match the STM32F407's"):
        r.flash.attach_memory(wrong)


# --- StoreOutcome -----------------------------------------------------------------------
def test_correct_program_is_the_fast_path(rig: Rig) -> None:
    rig.flash.write(R.CR, 4, R.CR_PG | PSIZE_X32)
    outcome = rig.store(LAYOUT.SPARE_ADDR, 0x12345678)
    assert outcome is STORE_AS_IS
    assert rig.word(LAYOUT.SPARE_ADDR) == 0x12345678


def test_store_that_would_raise_bits_gets_the_nor_result(rig: Rig) -> None:
    rig.flash.write(R.CR, 4, R.CR_PG | PSIZE_X32)
    rig.store(LAYOUT.SPARE_ADDR, 0x0000FFFF)
    outcome = rig.store(LAYOUT.SPARE_ADDR, 0x00FF00FF)
    assert outcome == StoreOutcome((0x000000FF).to_bytes(4, "little"), False)
    assert rig.word(LAYOUT.SPARE_ADDR) == 0x000000FF


def test_refused_store_keeps_the_old_content() -> None:
    r = Rig(fill=0xA5)
    outcome = r.store(LAYOUT.SPARE_ADDR, 0)        # locked: PGSERR
    assert outcome.final == b"\xa5" * 4 and not outcome.cut
    assert r.word(LAYOUT.SPARE_ADDR) == 0xA5A5A5A5
    assert r.flash.read(R.SR, 4) == R.SR_PGSERR | R.SR_PGPERR


def test_refused_store_with_errie_raises_the_flash_irq(rig: Rig) -> None:
    rig.flash.write(R.CR, 4, R.CR_PG | PSIZE_X32 | R.CR_ERRIE)
    rig.store(LAYOUT.SPARE_ADDR, 0, size=2)
    assert rig.bus.irqs == [(R.FLASH_IRQ, True)]
    rig.flash.write(R.SR, 4, R.SR_OPERR)
    rig.flash.read(R.SR, 4)
    rig.flash.write(R.CR, 4, R.CR_PG | PSIZE_X32)   # any access re-evaluates the line
    assert rig.bus.irqs[-1] == (R.FLASH_IRQ, False)


# --- time -------------------------------------------------------------------------------
def test_program_from_flash_stalls_for_the_program_time(rig: Rig) -> None:
    rig.flash.write(R.CR, 4, R.CR_PG | PSIZE_X32)
    rig.store(LAYOUT.SPARE_ADDR, 0)
    rig.store(LAYOUT.SPARE_ADDR + 4, 0)
    assert rig.bus.stalls == [R.PROGRAM_NS, R.PROGRAM_NS]
    assert not rig.flash.read(R.SR, 4) & R.SR_BSY


def test_erase_from_flash_stalls_for_the_erase_time(rig: Rig) -> None:
    rig.erase(5, R.CR_EOPIE)
    assert rig.bus.stalls == [R.erase_time_ns(LAYOUT.sector_sizes[5], 2)]
    assert rig.bus.now == R.ERASE_128K_NS[2]
    assert rig.flash.read(R.SR, 4) == R.SR_EOP
    assert rig.bus.irqs == [(R.FLASH_IRQ, True)]
    assert rig.bus.timers == {}


def test_erase_from_ram_runs_behind_the_cpu_until_sr_is_read() -> None:
    r = Rig(fill=0)
    r.unlock()
    r.bus.pc = CODE_IN_RAM
    r.erase(1)
    assert r.bus.stalls == []
    assert r.flash.rules.busy
    (when, _), = r.bus.timers.values()
    assert when == R.ERASE_16K_NS[2]
    r.bus.now = 1000
    assert r.flash.read(R.SR, 4) == 0               # the poll waited for the end
    assert r.bus.stalls == [R.ERASE_16K_NS[2] - 1000]
    assert r.bus.timers == {}
    assert r.word(SECTOR_1) == 0xFFFFFFFF


def test_erase_from_ram_ends_by_itself_with_eop_interrupt() -> None:
    r = Rig()
    r.unlock()
    r.bus.pc = CODE_IN_RAM
    r.erase(2, R.CR_EOPIE)
    r.bus.run_to(R.ERASE_16K_NS[2] - 1)
    assert r.bus.irqs == []
    r.bus.run_to(R.ERASE_16K_NS[2])
    assert r.bus.irqs == [(R.FLASH_IRQ, True)]
    assert r.flash.read(R.SR, 4) == R.SR_EOP
    assert r.bus.stalls == []
    r.flash.write(R.SR, 4, R.SR_EOP)
    assert r.bus.irqs[-1] == (R.FLASH_IRQ, False)


def test_cr_write_during_an_erase_stalls(rig: Rig) -> None:
    rig.bus.pc = CODE_IN_RAM
    rig.erase(3)
    rig.bus.now = 500
    rig.flash.write(R.CR, 4, R.CR_LOCK)
    assert rig.bus.stalls == [R.ERASE_16K_NS[2] - 500]
    assert rig.flash.read(R.CR, 4) == R.CR_LOCK     # a whole-register write


# --- sub-word register accesses -----------------------------------------------------------
def test_byte_writes_merge_into_registers(rig: Rig) -> None:
    rig.flash.write(R.CR, 4, R.CR_SER | (2 << R.CR_SNB_SHIFT) | PSIZE_X32)
    rig.flash.write(R.CR + 2, 1, 0x01)              # STRT is bit 16
    assert len(rig.flash.trace) == 1
    assert rig.flash.read(R.CR + 1, 1) == PSIZE_X32 >> 8
    rig.flash.write(R.CR, 4, R.CR_PG | R.CR_ERRIE | PSIZE_X32)
    rig.store(LAYOUT.SPARE_ADDR + 4, 0, size=2)     # PGPERR, OPERR
    rig.flash.write(R.SR, 1, R.SR_PGPERR)          # only that flag
    assert rig.flash.read(R.SR, 4) == R.SR_OPERR


def _unaligned(rig: Rig, addr: int, value: int, size: int) -> StoreOutcome:
    """An unaligned store as unicorn reports it: whole, then byte by byte."""
    whole = rig.store(addr, value, size=size)
    for i in range(size):
        rig.store(addr + i, (value >> (8 * i)) & 0xFF, size=1)
    return whole


def test_unaligned_half_word_is_two_bytes(rig: Rig) -> None:
    """The M4 splits a half-word at an odd address into bytes: programmed at x8."""
    rig.flash.write(R.CR, 4, R.CR_PG)                          # PSIZE x8
    whole = _unaligned(rig, LAYOUT.SPARE_ADDR + 1, 0x1234, 2)
    assert whole == StoreOutcome(b"\x34\x12", False)
    assert rig.word(LAYOUT.SPARE_ADDR) == 0xFF1234FF
    assert [(op.addr, op.size) for op in rig.flash.trace] == [
        (LAYOUT.SPARE_ADDR + 1, 1), (LAYOUT.SPARE_ADDR + 2, 1)]


@pytest.mark.parametrize(("psize", "programs", "sr"), [
    (1 << R.CR_PSIZE_SHIFT, True, 0),               # x16: the half-words program
    (0, False, R.SR_PGPERR),                        # x8: half-words are refused
])
def test_unaligned_word_is_two_half_words(rig: Rig, psize: int, programs: bool,
                                          sr: int) -> None:
    rig.flash.write(R.CR, 4, R.CR_PG | psize)
    _unaligned(rig, LAYOUT.SPARE_ADDR + 2, 0x11223344, 4)
    assert rig.flash.read(R.SR, 4) == sr
    if programs:
        assert rig.word(LAYOUT.SPARE_ADDR) == 0x3344FFFF
        assert rig.word(LAYOUT.SPARE_ADDR + 4) == 0xFFFF1122
        assert [(op.addr, op.size) for op in rig.flash.trace] == [
            (LAYOUT.SPARE_ADDR + 2, 2), (LAYOUT.SPARE_ADDR + 4, 2)]
    else:
        assert rig.word(LAYOUT.SPARE_ADDR) == rig.word(LAYOUT.SPARE_ADDR + 4) == 0xFFFFFFFF
        assert rig.flash.trace == []


def test_unaligned_word_at_an_odd_address_is_byte_half_byte(rig: Rig) -> None:
    rig.flash.write(R.CR, 4, R.CR_PG)                          # x8: only the bytes pass
    _unaligned(rig, LAYOUT.SPARE_ADDR + 1, 0x11223344, 4)
    assert rig.flash.read(R.SR, 4) == R.SR_PGPERR
    assert [(op.addr, op.size) for op in rig.flash.trace] == [
        (LAYOUT.SPARE_ADDR + 1, 1), (LAYOUT.SPARE_ADDR + 4, 1)]
    assert rig.word(LAYOUT.SPARE_ADDR) == 0xFFFF44FF
    assert rig.word(LAYOUT.SPARE_ADDR + 4) == 0xFFFFFF11


def test_erase_from_ram_guards_flash_until_it_ends(rig: Rig) -> None:
    """While an erase runs behind code in RAM, flash accesses wait for its end: the
    adapter asks the machine to hold them, and wait_for_operation() is that wait."""
    guards: list[bool] = []
    rig.bus.guard_flash = guards.append  # type: ignore[attr-defined]
    rig.bus.pc = CODE_IN_RAM
    rig.erase(3)
    assert guards == [True] and rig.flash.rules.busy
    t0 = rig.bus.now
    rig.flash.wait_for_operation()                  # a flash read from RAM code
    assert guards == [True, False] and not rig.flash.rules.busy
    assert rig.bus.now - t0 == rig.flash.rules.busy_until - t0 > 200_000_000
    rig.erase(3)
    rig.bus.run_to(rig.flash.rules.busy_until)      # nobody read flash: the end lifts it
    assert guards == [True, False, True, False]


def test_unknown_register_is_reported_once(rig: Rig) -> None:
    assert rig.flash.read(0x20, 4) == 0
    rig.flash.write(0x20, 4, 1)
    rig.flash.read(0x20, 4)
    unmapped = [d for k, d in rig.bus.events if k == "unmodelled"]
    assert len(unmapped) == 1 and "0x40023c20" in unmapped[0]


def test_wrong_key_is_a_bus_error_event() -> None:
    r = Rig()
    r.flash.write(R.KEYR, 4, 0x1234)
    assert r.bus.events[0][0] == "bus-error"
    assert "flash_controller" in r.bus.events[0][1]


def test_wrong_key_is_a_bus_fault_on_a_machine_that_takes_it() -> None:
    r = Rig()
    errors: list[str] = []
    r.bus.bus_error = errors.append  # type: ignore[attr-defined]
    r.unlock()
    r.flash.write(R.KEYR, 4, R.KEY1)                 # unlocked: a wrong sequence too
    r.flash.write(R.KEYR, 4, R.KEY2)                 # and every KEYR write after it
    assert len(errors) == 2 and "unlocked" in errors[0]


# --- trace and power cut ----------------------------------------------------------------
def test_trace_is_flashop_records(rig: Rig) -> None:
    rig.erase(4)
    t_prog = rig.bus.now
    rig.flash.write(R.CR, 4, R.CR_PG | PSIZE_X32)
    rig.store(LAYOUT.APP_SLOT_ADDR, 0xAB)
    assert rig.flash.trace == [
        FlashOp(0, FlashOpKind.ERASE, LAYOUT.APP_SLOT_ADDR, LAYOUT.sector_sizes[4], 4, None,
                0, CODE_IN_FLASH),
        FlashOp(1, FlashOpKind.PROGRAM, LAYOUT.APP_SLOT_ADDR, 4, 4, 0xAB, t_prog,
                CODE_IN_FLASH),
    ]
    rig.flash.reset_trace()
    assert rig.flash.trace == []
    rig.store(LAYOUT.APP_SLOT_ADDR + 4, 0)
    assert [op.index for op in rig.flash.trace] == [0]


def test_cut_at_a_store(rig: Rig) -> None:
    rig.flash.arm(PowerCut(1, CutMode.BEFORE))
    rig.flash.write(R.CR, 4, R.CR_PG | PSIZE_X32)
    assert rig.store(LAYOUT.SPARE_ADDR, 0) is STORE_AS_IS
    outcome = rig.store(LAYOUT.SPARE_ADDR + 4, 0)
    assert outcome == StoreOutcome(b"\xff" * 4, True)
    assert rig.word(LAYOUT.SPARE_ADDR + 4) == 0xFFFFFFFF
    assert rig.flash.cut
    assert [k for k, _ in rig.bus.events] == ["flash"]


def test_cut_after_a_store_is_reported_even_when_the_value_lands(rig: Rig) -> None:
    rig.flash.arm(PowerCut(0, CutMode.AFTER))
    rig.flash.write(R.CR, 4, R.CR_PG | PSIZE_X32)
    outcome = rig.store(LAYOUT.SPARE_ADDR, 0x55)
    assert outcome.cut and outcome.final == (0x55).to_bytes(4, "little")


def test_cut_at_an_erase_stops_the_cpu() -> None:
    r = Rig(fill=0)
    r.unlock()
    r.flash.arm(PowerCut(0, CutMode.TORN, progress=0.5, seed=9))
    r.erase(1)
    assert r.bus.stops == ["power-cut"]
    assert r.bus.stalls == [] and r.bus.timers == {}
    words = [r.word(SECTOR_1 + 4 * i) for i in range(4096)]
    assert 2048 <= words.count(0xFFFFFFFF) <= 2049
    detail = next(d for k, d in r.bus.events if k == "flash")
    assert "operation 0" in detail and "seed 9" in detail


def test_arm_rejects_bad_cuts(rig: Rig) -> None:
    with pytest.raises(BenchError, match="progress"):
        rig.flash.arm(PowerCut(0, CutMode.TORN, progress=2.0))
    rig.flash.arm(PowerCut(0))
    rig.flash.arm(None)
    rig.flash.write(R.CR, 4, R.CR_PG | PSIZE_X32)
    assert not rig.store(LAYOUT.SPARE_ADDR, 0).cut


def test_write_protect_setter(rig: Rig) -> None:
    rig.flash.set_write_protect(LAYOUT.BOOT_SECTOR, True)
    rig.erase(LAYOUT.BOOT_SECTOR)
    assert rig.flash.read(R.SR, 4) == R.SR_WRPERR
    with pytest.raises(BenchError, match="sector"):
        rig.flash.set_write_protect(99, True)


def test_reset_lowers_the_irq_and_locks(rig: Rig) -> None:
    rig.erase(1, R.CR_EOPIE)
    assert rig.bus.irqs == [(R.FLASH_IRQ, True)]
    rig.flash.reset()
    assert rig.bus.irqs[-1] == (R.FLASH_IRQ, False)
    assert rig.flash.read(R.CR, 4) == R.CR_LOCK
    assert rig.flash.read(R.SR, 4) == 0
    assert len(rig.flash.trace) == 1


# --- snapshots --------------------------------------------------------------------------
def test_snapshot_restores_registers_trace_and_running_erase() -> None:
    r = Rig()
    r.unlock()
    r.bus.pc = CODE_IN_RAM
    r.flash.write(R.CR, 4, R.CR_PG | PSIZE_X32)
    r.store(LAYOUT.SPARE_ADDR, 0)
    r.bus.now = R.PROGRAM_NS
    r.erase(2, R.CR_EOPIE)
    r.flash.arm(PowerCut(3, CutMode.AFTER))
    snap = r.flash.save()
    mem = bytes(r.mem.buf)
    timers = dict(r.bus.timers)      # the machine snapshots its scheduler too
    trace = r.flash.trace

    r.bus.run_to(R.PROGRAM_NS + R.ERASE_16K_NS[2])
    r.flash.reset_trace()
    r.flash.reset()

    r.mem.buf[:] = mem
    r.bus.now = R.PROGRAM_NS
    r.bus.timers = dict(timers)
    r.flash.load(snap)
    assert r.flash.save() == snap
    assert r.flash.trace == trace
    assert r.flash.rules.busy
    r.bus.run_to(R.PROGRAM_NS + R.ERASE_16K_NS[2])
    assert r.bus.irqs[-1] == (R.FLASH_IRQ, True), "the restored erase ends with EOP"
    r.flash.write(R.CR, 4, R.CR_PG | PSIZE_X32)
    assert not r.store(LAYOUT.SPARE_ADDR + 4, 0).cut
    assert r.store(LAYOUT.SPARE_ADDR + 8, 0).cut, "the armed cut came back with the snapshot"
