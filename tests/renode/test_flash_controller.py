"""platforms/flash_controller.py, the Renode PythonPeripheral script, run under CPython.

The script is executed the way Renode executes it (the whole file per request, one scope
kept between requests) with small stand-ins for the objects Renode puts in that scope:
`request`, `sysbus` (ReadBytes/WriteBytes/GetCPUs) and `machine`. This tests our script
and its use of the shared flash rules; it does not pretend that Renode ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pybench import layout
from pybench.paths import repo_root

SCRIPT = repo_root() / "platforms" / "flash_controller.py"
KEYR, SR, CR = 0x04, 0x0C, 0x10
KEY1, KEY2 = 0x45670123, 0xCDEF89AB
CR_PG, CR_SER, CR_STRT, CR_LOCK = 1 << 0, 1 << 1, 1 << 16, 1 << 31
PSIZE_X32 = 2 << 8
SR_BSY, SR_PGSERR = 1 << 16, 1 << 7


@dataclass(slots=True)
class Request:
    """Renode 1.16's PythonRequest: capitalised names, and (slots) no others, as a .NET
    object raises AttributeError for a name it does not have."""

    IsInit: bool = False
    IsRead: bool = False
    IsWrite: bool = False
    IsUser: bool = False
    Offset: int = 0
    Value: int = 0
    Length: int = 4


@dataclass
class Cpu:
    PC: int = 0x08000400
    hook: Callable[..., None] | None = None

    def SetHookAtMemoryAccess(self, hook: Callable[..., None] | None) -> None:
        self.hook = hook


@dataclass
class Sysbus:
    base: int
    mem: bytearray
    cpu: Cpu = field(default_factory=Cpu)

    def ReadBytes(self, addr: int, n: int) -> bytes:
        return bytes(self.mem[addr - self.base : addr - self.base + n])

    def WriteBytes(self, data: bytes, addr: int) -> None:
        self.mem[addr - self.base : addr - self.base + len(data)] = data

    def GetCPUs(self) -> list[Cpu]:
        return [self.cpu]


class Machine:
    def __init__(self) -> None:
        self.pauses = 0

    def PauseAndRequestEmulationPause(self) -> None:
        self.pauses += 1


class Board:
    """The script in one kept scope, driven like Renode drives a PythonPeripheral."""

    def __init__(self, mailbox: Path) -> None:
        lay = layout.load()
        self.base = lay.FLASH_BASE_ADDR
        self.mailbox = mailbox
        self.bus = Sysbus(self.base, bytearray(b"\xff" * lay.FLASH_TOTAL_SIZE))
        self.machine = Machine()
        self.scope: dict[str, Any] = {"sysbus": self.bus, "machine": self.machine,
                                      "self": object(), "size": 0x400}
        self.code = compile(SCRIPT.read_text(), str(SCRIPT), "exec")

    def request(self, req: Request) -> int:
        self.scope["request"] = req
        exec(self.code, self.scope)
        return req.Value

    def init(self) -> None:
        self.request(Request(IsInit=True))

    def read(self, offset: int) -> int:
        return self.request(Request(IsRead=True, Offset=offset))

    def write(self, offset: int, value: int, length: int = 4) -> None:
        self.request(Request(IsWrite=True, Offset=offset, Value=value, Length=length))

    def control(self, cmd: int, value: int = 0) -> int:
        return self.request(Request(IsUser=True, Offset=cmd, Value=value))

    def unlock(self) -> None:
        self.write(KEYR, KEY1)
        self.write(KEYR, KEY2)

    def cpu_store(self, addr: int, value: int) -> None:
        """What the CPU does: the raw store lands, then the hook (if any) is told."""
        self.bus.mem[addr - self.base : addr - self.base + 4] = value.to_bytes(4, "little")
        hook = self.bus.cpu.hook
        if hook is not None:
            hook(0x20000100, "MemoryWrite", addr, addr - self.base, 4, value)

    def word(self, addr: int) -> int:
        return int.from_bytes(self.bus.mem[addr - self.base : addr - self.base + 4], "little")

    def dump(self) -> list[str]:
        self.control(6)
        return (self.mailbox / "flash-dump.txt").read_text().splitlines()


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Board:
    monkeypatch.setenv("PYBENCH_PLATFORM_DIR", str(repo_root() / "platforms"))
    monkeypatch.setenv("PYBENCH_RENODE_MAILBOX", str(tmp_path))
    monkeypatch.delenv("PYBENCH_FLASH_LAYOUT", raising=False)
    b = Board(tmp_path)
    b.init()
    return b


def test_the_script_compiles_as_python3() -> None:
    compile(SCRIPT.read_text(), str(SCRIPT), "exec")


def test_cr_starts_locked_and_the_key_sequence_opens_it(board: Board) -> None:
    assert board.read(CR) & CR_LOCK
    board.unlock()
    assert not board.read(CR) & CR_LOCK


def test_program_applies_the_one_to_zero_rule_and_is_traced(board: Board) -> None:
    addr = layout.load().STAGING_ADDR
    board.unlock()
    board.write(CR, CR_PG | PSIZE_X32)
    assert board.bus.cpu.hook is not None, "PG set: the store hook must be installed"
    board.cpu_store(addr, 0x12345678)
    board.cpu_store(addr, 0xFFFF0000)      # programming can only clear bits
    assert board.word(addr) == 0x12340000
    board.write(CR, PSIZE_X32)
    assert board.bus.cpu.hook is None, "PG clear: the hook must be removed"
    ops = [line for line in board.dump() if line.startswith("op ")]
    assert ops[0].split()[:6] == ["op", "0", "program", f"0x{addr:08x}", "4", "8"]
    assert len(ops) == 2


def test_store_while_locked_is_not_hooked(board: Board) -> None:
    board.write(CR, CR_PG | PSIZE_X32)     # ignored: CR is locked
    assert board.bus.cpu.hook is None


def test_wrong_width_store_is_refused_and_flash_keeps_its_value(board: Board) -> None:
    addr = layout.load().STAGING_ADDR
    board.unlock()
    board.write(CR, CR_PG)                 # PSIZE x8, but the store is 32-bit
    board.cpu_store(addr, 0)
    assert board.word(addr) == 0xFFFFFFFF
    assert board.read(SR) & (1 << 6)       # PGPERR


def test_sector_erase_erases_the_sector_and_completes(board: Board) -> None:
    lay = layout.load()
    sector = lay.STAGING_FIRST_SECTOR
    base = lay.sector_addrs[sector]
    board.bus.mem[base - board.base : base - board.base + 8] = bytes(8)
    board.unlock()
    board.write(CR, CR_SER | PSIZE_X32 | (sector << 3))
    board.write(CR, CR_SER | PSIZE_X32 | (sector << 3) | CR_STRT)
    assert board.word(base) == 0xFFFFFFFF
    assert not board.read(SR) & SR_BSY
    fields = board.dump()[0].split()
    assert fields[2:4] == ["erase", f"0x{base:08x}"]
    assert fields[8] == "0x08000400", "the trace names the CPU's PC at the STRT write"


def test_byte_write_to_cr_is_merged(board: Board) -> None:
    board.unlock()
    board.write(CR, PSIZE_X32)
    board.write(CR, CR_PG, length=1)       # STRB to the low byte keeps PSIZE
    assert board.read(CR) & (CR_PG | PSIZE_X32) == CR_PG | PSIZE_X32


def test_power_cut_before_a_program_keeps_flash_and_pauses(board: Board) -> None:
    addr = layout.load().JOURNAL_A_ADDR
    (board.mailbox / "arm.txt").write_text("0 before 0.5 0\n")
    board.control(3)
    board.unlock()
    board.write(CR, CR_PG | PSIZE_X32)
    board.cpu_store(addr, 0x4C4E524A)
    assert board.word(addr) == 0xFFFFFFFF
    assert board.machine.pauses == 1
    assert board.control(2) & 1
    assert board.bus.cpu.hook is None
    assert any(line.startswith("event ") and "power cut" in line for line in board.dump())
    board.init()                           # machine Reset: a power cycle
    assert board.control(2) == 0
    assert board.read(CR) & CR_LOCK


def test_sync_rereads_flash_written_from_outside(board: Board) -> None:
    addr = layout.load().STAGING_ADDR
    board.bus.mem[addr - board.base : addr - board.base + 4] = bytes(4)  # a WriteBytes
    board.control(1)
    board.unlock()
    board.write(CR, CR_PG | PSIZE_X32)
    board.cpu_store(addr, 0xFFFFFFFF)      # over zeros, flash stays zero
    assert board.word(addr) == 0


def test_save_and_load_restore_trace_and_registers(board: Board) -> None:
    addr = layout.load().STAGING_ADDR
    board.unlock()
    board.write(CR, CR_PG | PSIZE_X32)
    board.control(7, 1)
    board.cpu_store(addr, 0)
    assert len(board.dump()) == 1
    board.control(8, 1)
    assert board.dump() == []
    assert board.read(CR) == CR_PG | PSIZE_X32
    assert board.bus.cpu.hook is not None


def test_unknown_control_command_is_an_error(board: Board) -> None:
    with pytest.raises(ValueError, match="unknown control command 99"):
        board.control(99)


def test_power_cut_leaves_a_marker_file_for_the_bench(board: Board) -> None:
    (board.mailbox / "arm.txt").write_text("0 after 0.5 0\n")
    board.control(3)
    board.unlock()
    board.write(CR, CR_SER | PSIZE_X32 | (1 << 3))
    board.write(CR, CR_SER | PSIZE_X32 | (1 << 3) | CR_STRT)
    assert (board.mailbox / "power-cut.txt").read_text() == "1\n"


def test_read_and_write_through_the_mailbox(board: Board) -> None:
    addr = layout.load().SPARE_ADDR
    (board.mailbox / "write.txt").write_text(f"0x{addr:x}\n")
    (board.mailbox / "flash-write.bin").write_bytes(b"\x01\x02\x03\x04")
    assert board.control(12) == 4
    assert board.word(addr) == 0x04030201
    (board.mailbox / "read.txt").write_text(f"0x{addr:x} 6\n")
    assert board.control(11) == 6
    assert (board.mailbox / "flash-read.bin").read_bytes() == b"\x01\x02\x03\x04\xff\xff"


def test_init_before_registration_defers_the_model(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Renode may send INIT while loading the platform, before `sysbus` is in scope."""
    monkeypatch.setenv("PYBENCH_PLATFORM_DIR", str(repo_root() / "platforms"))
    monkeypatch.setenv("PYBENCH_RENODE_MAILBOX", str(tmp_path))
    b = Board(tmp_path)
    bus = b.scope.pop("sysbus")
    b.scope.pop("machine")
    b.init()
    assert b.scope["flash_controller"] is None
    b.scope["sysbus"] = bus
    assert b.read(CR) & CR_LOCK


@dataclass(slots=True)
class OldRequest:
    """The request as Renode releases before the 2025 reformat spelled it."""

    isInit: bool = False
    isRead: bool = False
    isWrite: bool = False
    isUser: bool = False
    offset: int = 0
    value: int = 0
    length: int = 4


def test_older_lower_case_request_attributes_are_understood(board: Board) -> None:
    req = OldRequest(isRead=True, offset=CR)
    board.scope["request"] = req
    exec(board.code, board.scope)
    assert req.value & CR_LOCK
