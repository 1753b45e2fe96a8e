"""A TEST DOUBLE of an engine with a toy bootloader written in Python, for the runner's
unit tests. It is not an emulator and runs no firmware: at power-on it works out what a
simple journal-driven bootloader would do with the flash it finds (a list of flash
operations and console lines) and plays that list back in virtual time, honouring power
cuts, snapshots and the trace as the Engine interface describes them.

`bug="done-early"` makes its bootloader append DONE before copying, a known-bad design
that the oracle must catch; `bug="never-copies"` ignores a staged update (the golden run
fails); "erase-on-reject" erases the first slot sector when it rejects a staged image;
"rewrite-every-boot" copies the staged image again on every boot; "scribble-on-retry"
writes a word into the bootloader sector when it finds a STAGED update over an erased
slot (a copy that a cut stopped right after its erase).
"""

from __future__ import annotations

import copy
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pybench import journal, layout
from pybench.engine.base import (
    BoardEvent,
    CpuState,
    CutMode,
    Engine,
    FlashOp,
    FlashOpKind,
    PowerCut,
    RunResult,
    StopCondition,
    StopReason,
    UartLog,
)
from pybench.image.format import ImageHeader

OP_NS = 1_000
ERASE_NS = 50_000
BOOT_PC = 0x08000100
HALT_PC = 0x08000200


@dataclass
class _Machine:
    flash: bytearray
    trace: list[FlashOp] = field(default_factory=list)
    actions: list[tuple] = field(default_factory=list)
    pos: int = 0
    now: int = 0
    text: str = ""
    pc: int = 0
    powered: bool = False
    cut: PowerCut | None = None


def _valid_image(flash: bytes, off: int) -> ImageHeader | None:
    lay = layout.load()
    try:
        h = ImageHeader.unpack(flash[off : off + lay.IMAGE_HEADER_SIZE])
    except ValueError:
        return None
    if h.magic != 0x474D4946 or h.header_crc != h.computed_crc() or h.body_size > 0x70000:
        return None
    body = flash[off + lay.IMAGE_HEADER_SIZE : off + lay.IMAGE_HEADER_SIZE + h.body_size]
    return h if hashlib.sha256(body).digest() == h.body_sha256 else None


class _Planner:
    """Works out the toy bootloader's actions on a private copy of flash."""

    def __init__(self, flash: bytes, bug: str | None) -> None:
        self.lay = layout.load()
        self.flash = bytearray(flash)
        self.bug = bug
        self.actions: list[tuple] = [("print", "boot: fake"), ]

    def off(self, addr: int) -> int:
        return addr - self.lay.FLASH_BASE_ADDR

    def erase(self, sector: int) -> None:
        base, size = self.lay.sector_addrs[sector], self.lay.sector_sizes[sector]
        self.actions.append(("erase", base, size, sector))
        self.flash[self.off(base) : self.off(base) + size] = b"\xff" * size

    def program(self, addr: int, data: bytes) -> None:
        for i in range(0, len(data), 4):
            word = int.from_bytes(data[i : i + 4], "little")
            self.actions.append(("program", addr + i, word, self.lay.sector_of(addr + i)))
            o = self.off(addr + i)
            self.flash[o : o + 4] = bytes(a & b for a, b in zip(self.flash[o : o + 4],
                                                                 data[i : i + 4], strict=True))

    def append(self, rec: journal.JournalRecord) -> None:
        a, b = self.lay.journal
        view = journal.scan(bytes(self.flash[self.off(a.addr) : self.off(a.end)]),
                            bytes(self.flash[self.off(b.addr) : self.off(b.end)]))
        cur = view.current
        rec = journal.JournalRecord((cur.seq if cur else 0) + 1, rec.state, rec.copied,
                                    rec.image_size, rec.image_version, rec.digest)
        sector, slot = view.next_sector, view.next_slot
        if slot is None:
            sector, slot = 1 - sector, 0
            self.erase((self.lay.JOURNAL_A_SECTOR, self.lay.JOURNAL_B_SECTOR)[sector])
        base = (a, b)[sector].addr
        self.program(base + slot * self.lay.JOURNAL_RECORD_SIZE, rec.encode())

    def plan(self) -> list[tuple]:
        lay = self.lay
        a, b = lay.journal
        cur = journal.scan(bytes(self.flash[self.off(a.addr) : self.off(a.end)]),
                           bytes(self.flash[self.off(b.addr) : self.off(b.end)])).current
        pending = (journal.State.STAGED, journal.State.COPIED) + (
            (journal.State.DONE,) if self.bug == "rewrite-every-boot" else ())
        if cur is not None and cur.state in pending and self.bug != "never-copies":
            staged = _valid_image(self.flash, self.off(lay.STAGING_ADDR))
            if staged is not None and staged.body_sha256 == cur.digest:
                self.copy_down(cur)
            else:
                if self.bug == "erase-on-reject":
                    self.erase(lay.APP_SLOT_FIRST_SECTOR)
                self.append(journal.JournalRecord(0, journal.State.REJECTED, 0,
                                                  cur.image_size, cur.image_version,
                                                  cur.digest))
        slot = _valid_image(self.flash, self.off(lay.APP_SLOT_ADDR))
        if slot is None:
            self.actions += [("print", "boot: no valid image"), ("halt",)]
        else:
            self.actions += [("jump",), ("print", f"app: mini v{slot.image_version} running")]
        return self.actions

    def copy_down(self, cur: journal.JournalRecord) -> None:
        lay = self.lay
        start = cur.copied if cur.state is journal.State.COPIED else 0
        slot = self.off(lay.APP_SLOT_ADDR)
        if self.bug == "scribble-on-retry" and cur.state is journal.State.STAGED \
                and self.flash[slot : slot + 4] == b"\xff" * 4:
            self.program(lay.BOOT_ADDR + lay.BOOT_SIZE - 4, b"\0\0\0\0")
        if self.bug == "done-early":
            self.append(journal.JournalRecord(0, journal.State.DONE, 0, cur.image_size,
                                              cur.image_version, cur.digest))
        sector, done = lay.APP_SLOT_FIRST_SECTOR, 0
        while done < cur.image_size:
            size = lay.sector_sizes[sector]
            k = sector - lay.APP_SLOT_FIRST_SECTOR
            if k >= start:
                n = min(size, cur.image_size - done)
                src = self.off(lay.STAGING_ADDR + done)
                self.erase(sector)
                self.program(lay.sector_addrs[sector], bytes(self.flash[src : src + n]))
                self.append(journal.JournalRecord(0, journal.State.COPIED, k + 1,
                                                  cur.image_size, cur.image_version,
                                                  cur.digest))
            done += size
            sector += 1
        self.append(journal.JournalRecord(0, journal.State.DONE, 0, cur.image_size,
                                          cur.image_version, cur.digest))


class FakeBoard(Engine):
    """Test double (see the module docstring). Not the built-in engine, not Renode."""

    name = "fake"
    cheap_snapshots = True     # plain Python objects, as the built-in engine's

    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug
        self.m = _Machine(bytearray(b"\xff" * layout.load().FLASH_TOTAL_SIZE))

    def load_platform(self, platform: Path) -> None:
        pass

    def load_elf(self, elf: Path) -> None:
        # The toy bootloader is Python; "programming" it leaves a recognisable sector 0.
        boot = layout.load().boot
        self.write_flash(boot.addr, hashlib.sha256(elf.name.encode()).digest() * 4)

    def power_on(self) -> None:
        m = self.m
        m.actions = _Planner(bytes(m.flash), self.bug).plan()
        m.pos, m.powered, m.pc = 0, True, BOOT_PC

    def arm_power_cut(self, cut: PowerCut | None) -> None:
        self.m.cut = cut

    def _flash_op(self, act: tuple) -> bool:
        """Do one flash action; True when power failed at it."""
        m, lay = self.m, layout.load()
        kind, addr = act[0], act[1]
        index = len(m.trace)
        if kind == "erase":
            op = FlashOp(index, FlashOpKind.ERASE, addr, act[2], act[3], None, m.now, m.pc)
            new = b"\xff" * act[2]
        else:
            op = FlashOp(index, FlashOpKind.PROGRAM, addr, 4, act[3], act[2], m.now, m.pc)
            o = addr - lay.FLASH_BASE_ADDR
            new = bytes(x & y for x, y in zip(m.flash[o : o + 4], act[2].to_bytes(4, "little"),
                                               strict=True))
        m.trace.append(op)
        o = addr - lay.FLASH_BASE_ADDR
        cut = m.cut
        if cut is not None and cut.op_index == index:
            m.cut = None
            if cut.mode is CutMode.AFTER:
                m.flash[o : o + len(new)] = new
            elif cut.mode is CutMode.TORN:
                rng = random.Random(cut.seed)
                old = m.flash[o : o + len(new)]
                m.flash[o : o + len(new)] = bytes(
                    n if rng.random() < cut.progress else x for x, n in zip(old, new,
                                                                           strict=True))
            m.powered = False
            return True
        m.flash[o : o + len(new)] = new
        m.now += ERASE_NS if kind == "erase" else OP_NS
        return False

    def run(self, duration_ns: int, stop: StopCondition | None = None) -> RunResult:
        m = self.m
        end = m.now + duration_ns
        while m.powered and m.pos < len(m.actions) and m.now < end:
            act = m.actions[m.pos]
            m.pos += 1
            if act[0] in ("erase", "program"):
                if self._flash_op(act):
                    return RunResult(StopReason.POWER_CUT, m.now)
            elif act[0] == "print":
                m.text += act[1] + "\r\n"
                m.now += OP_NS
                if stop and stop():
                    return RunResult(StopReason.CONDITION, m.now)
            elif act[0] == "jump":
                m.pc = layout.load().APP_LOAD_ADDR + 0x100
            elif act[0] == "halt":
                m.pc = HALT_PC
        if stop and stop():
            return RunResult(StopReason.CONDITION, m.now)
        m.now = max(m.now, end)
        return RunResult(StopReason.DEADLINE, m.now)

    @property
    def now_ns(self) -> int:
        return self.m.now

    def cpu_state(self) -> CpuState:
        return CpuState(self.m.pc, 0x20020000, 0, False)

    def events(self) -> list[BoardEvent]:
        return []

    def uart(self) -> UartLog:
        return UartLog(self.m.text, self.m.text.splitlines())

    def send_frame(self, frame: bytes) -> None:
        pass

    def take_frames(self) -> list[tuple[int, bytes]]:
        return []

    def read_flash(self, addr: int, size: int) -> bytes:
        o = addr - layout.load().FLASH_BASE_ADDR
        return bytes(self.m.flash[o : o + size])

    def write_flash(self, addr: int, data: bytes) -> None:
        o = addr - layout.load().FLASH_BASE_ADDR
        self.m.flash[o : o + len(data)] = data

    def flash_trace(self) -> Sequence[FlashOp]:
        return self.m.trace

    def reset_trace(self) -> None:
        self.m.trace = []

    def snapshot(self) -> object:
        return copy.deepcopy(self.m)

    def restore(self, snap: object) -> None:
        assert isinstance(snap, _Machine)
        self.m = copy.deepcopy(snap)
