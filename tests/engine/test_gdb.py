"""The GDB stub: packet layer and commands (pure), the socket loop, and gdb-multiarch.

The protocol is checked against a scripted DebugTarget (a toy CPU: memory regions, a
register file, a pc that moves 2 bytes per instruction). test_gdb_machine.py runs gdb
against the real built-in engine once it runs code.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import pytest

from pybench import layout
from pybench.chip import CHIPS
from pybench.engine.base import RunResult, StopReason
from pybench.engine.builtin import gdbstub
from pybench.engine.builtin.gdbstub import (
    REG_NAMES,
    Finish,
    GdbServer,
    GdbSession,
    Packet,
    PacketReader,
    Resume,
    escape,
    frame_packet,
    memory_map_xml,
    target_xml,
    unescape,
)

FLASH, RAM = 0x08000000, 0x20000000
PC = REG_NAMES.index("pc")


@dataclass
class ToyTarget:
    """A DebugTarget without a CPU: each instruction moves pc by 2, time by 6 ns."""

    flash: bytearray = field(default_factory=lambda: bytearray(b"\xff" * 0x100000))
    ram: bytearray = field(default_factory=lambda: bytearray(0x20000))
    regs: list[int] = field(default_factory=lambda: [0] * len(REG_NAMES))
    breakpoints: set[int] = field(default_factory=set)
    now_ns: int = 0
    halt_at_ns: int | None = None      # a power cut at that time, for stop reasons

    def __post_init__(self) -> None:
        self.regs[PC] = FLASH + 0x100
        self.regs[REG_NAMES.index("xpsr")] = 0x01000000
        self.regs[REG_NAMES.index("sp")] = self.regs[REG_NAMES.index("msp")] = RAM + 0x20000

    def _region(self, addr: int, n: int) -> tuple[bytearray, int]:
        for base, mem in ((FLASH, self.flash), (RAM, self.ram)):
            if base <= addr and addr + n <= base + len(mem):
                return mem, addr - base
        raise ValueError(f"unmapped 0x{addr:08x}")

    def read_core_regs(self) -> list[int]:
        return list(self.regs)

    def write_core_reg(self, index: int, value: int) -> None:
        self.regs[index] = value

    def read_memory(self, addr: int, n: int) -> bytes:
        mem, off = self._region(addr, n)
        return bytes(mem[off:off + n])

    def write_memory(self, addr: int, data: bytes) -> None:
        mem, off = self._region(addr, len(data))
        mem[off:off + len(data)] = data

    def add_breakpoint(self, addr: int) -> None:
        self.breakpoints.add(addr)

    def remove_breakpoint(self, addr: int) -> None:
        self.breakpoints.discard(addr)

    def step(self) -> RunResult:
        self.regs[PC] += 2
        self.now_ns += 6
        return RunResult(StopReason.HALTED, self.now_ns)

    def cont(self, max_ns: int) -> RunResult:
        end = self.now_ns + max_ns
        while self.now_ns < end:
            self.regs[PC] += 2
            self.now_ns += 6
            if self.halt_at_ns is not None and self.now_ns >= self.halt_at_ns:
                return RunResult(StopReason.POWER_CUT, self.now_ns)
            if self.regs[PC] in self.breakpoints:
                return RunResult(StopReason.HALTED, self.now_ns)
        return RunResult(StopReason.DEADLINE, self.now_ns)


# --- packets -------------------------------------------------------------------------
def test_packet_reader_splits_acks_packets_and_interrupts() -> None:
    reader = PacketReader()
    items = list(reader.feed(b"+$g#67$m0,4#f"))
    assert items == ["+", Packet(b"g", True)]
    items = list(reader.feed(b"d\x03$x#00"))
    assert items == [Packet(b"m0,4", True), "interrupt", Packet(b"x", False)]


def test_frame_and_escape_round_trip() -> None:
    assert frame_packet(b"OK") == b"$OK#9a"
    data = bytes(range(256))
    escaped = escape(data)
    assert not any(c in escaped for c in b"#$*") and unescape(escaped) == data


def test_target_xml_is_m_profile_with_system_registers() -> None:
    root = ET.fromstring(target_xml())
    features = {f.get("name"): [r.get("name") for r in f] for f in root.iter("feature")}
    assert features["org.gnu.gdb.arm.m-profile"][-1] == "xpsr"
    assert features["org.gnu.gdb.arm.m-system"] == ["msp", "psp", "primask", "basepri",
                                                    "faultmask", "control"]
    nums = [int(r.get("regnum", "-1")) for r in root.iter("reg")]
    assert nums == list(range(len(REG_NAMES)))


def test_memory_map_covers_every_sector_with_its_size() -> None:
    lay = layout.load()
    root = ET.fromstring(memory_map_xml(CHIPS["stm32f407vg"]))
    blocks = []
    for m in root.iter("memory"):
        if m.get("type") == "flash":
            start, length = int(m.get("start", ""), 16), int(m.get("length", ""), 16)
            block = int(m.find("property").text or "", 16)  # type: ignore[union-attr]
            blocks += [(start + k * block, block) for k in range(length // block)]
    assert blocks == list(zip(lay.sector_addrs, lay.sector_sizes, strict=True))
    rams = {int(m.get("start", ""), 16) for m in root.iter("memory") if m.get("type") == "ram"}
    assert {lay.SRAM_BASE_ADDR, lay.CCM_BASE_ADDR} <= rams


# --- commands ------------------------------------------------------------------------
@pytest.fixture
def toy() -> ToyTarget:
    return ToyTarget()


@pytest.fixture
def session(toy: ToyTarget) -> GdbSession:
    return GdbSession(toy)


def test_registers_read_and_write(session: GdbSession, toy: ToyTarget) -> None:
    reply = session.handle(b"g")
    assert isinstance(reply, bytes) and len(reply) == 8 * len(REG_NAMES)
    assert reply[8 * PC:8 * PC + 8] == (FLASH + 0x100).to_bytes(4, "little").hex().encode()
    assert session.handle(b"P0=78563412") == b"OK" and toy.regs[0] == 0x12345678
    assert session.handle(b"p0") == b"78563412"
    assert session.handle(f"p{len(REG_NAMES):x}".encode()) == b"E45"
    regs = bytes(range(4 * len(REG_NAMES))).hex().encode()
    assert session.handle(b"G" + regs) == b"OK"
    assert toy.regs[1] == int.from_bytes(bytes(range(4, 8)), "little")


def test_memory_read_write_binary_and_errors(session: GdbSession, toy: ToyTarget) -> None:
    assert session.handle(b"M20000010,4:deadbeef") == b"OK"
    assert session.handle(b"m20000010,4") == b"deadbeef"
    assert session.handle(b"X20000020,0:") == b"OK"
    assert session.handle(b"X20000020,3:" + escape(b"#}*")) == b"OK"
    assert toy.ram[0x20:0x23] == b"#}*"
    assert session.handle(b"m30000000,4") == b"E01"


def test_breakpoints_and_continue(session: GdbSession, toy: ToyTarget) -> None:
    assert session.handle(b"Z0,8000120,2") == b"OK"
    assert session.handle(b"Z1,8000130,2") == b"OK"
    assert toy.breakpoints == {0x08000120, 0x08000130}
    assert session.handle(b"z1,8000130,2") == b"OK"
    assert session.wanted == {0x08000120}
    assert session.handle(b"Z2,20000000,4") == b""       # watchpoints: unsupported
    assert isinstance(session.handle(b"c"), Resume)
    assert isinstance(session.handle(b"vCont;c:1"), Resume)
    assert isinstance(session.handle(b"C20"), Resume)
    assert isinstance(session.handle(b"vCont;C20:1"), Resume)
    assert session.handle(b"s") == b"T05thread:1;"
    assert toy.regs[PC] == FLASH + 0x102
    assert session.handle(b"vCont;s:1") == b"T05thread:1;"


def test_removed_breakpoint_stays_in_target_and_is_run_through(session: GdbSession,
                                                              toy: ToyTarget) -> None:
    session.handle(b"Z0,8000110,2")
    session.handle(b"z0,8000110,2")
    assert toy.breakpoints == {0x08000110}            # left in the target
    toy.regs[PC] = 0x08000110
    assert session.stale_stop(RunResult(StopReason.HALTED, 0))
    session.handle(b"Z0,8000110,2")                    # wanted again: a real stop
    assert not session.stale_stop(RunResult(StopReason.HALTED, 0))
    session.release()
    assert toy.breakpoints == set()


def test_queries(session: GdbSession) -> None:
    supported = session.handle(b"qSupported:multiprocess+;swbreak+")
    assert isinstance(supported, bytes)
    assert b"qXfer:features:read+" in supported and b"QStartNoAckMode+" in supported
    assert session.handle(b"qAttached") == b"1"
    assert session.handle(b"qC") == b"QC1"
    assert session.handle(b"qfThreadInfo") == b"m1"
    assert session.handle(b"qsThreadInfo") == b"l"
    assert session.handle(b"vCont?") == b"vCont;c;C;s;S"
    assert session.handle(b"?") == b"T05thread:1;"
    assert session.handle(b"qNoSuchThing") == b""
    assert session.handle(b"") == b""
    assert session.handle(b"QStartNoAckMode") == b"OK" and session.no_ack


def test_xfer_reads_in_chunks(session: GdbSession) -> None:
    doc, off = b"", 0
    while True:
        reply = session.handle(f"qXfer:features:read:target.xml:{off:x},40".encode())
        assert isinstance(reply, bytes)
        doc += unescape(reply[1:])
        off += 0x40
        if reply[:1] == b"l":
            break
        assert reply[:1] == b"m"
    assert doc == target_xml().encode()
    assert session.handle(b"qXfer:features:read:other.xml:0,40") == b"E00"
    mm = session.handle(b"qXfer:memory-map:read::0,4000")
    assert isinstance(mm, bytes) and mm.startswith(b"l<?xml")


def test_flash_download_packets(session: GdbSession, toy: ToyTarget) -> None:
    toy.flash[0:4] = b"\0\0\0\0"
    assert session.handle(b"vFlashErase:08000000,4000") == b"OK"
    assert toy.flash[:0x4000] == b"\xff" * 0x4000
    assert session.handle(b"vFlashWrite:8000000:" + escape(b"\x01}#\x02")) == b"OK"
    assert session.handle(b"vFlashDone") == b"OK"
    assert toy.flash[:4] == b"\x01}#\x02"


def test_detach_and_kill_finish(session: GdbSession) -> None:
    assert session.handle(b"D") == Finish(b"OK")
    assert session.handle(b"k") == Finish(None)


# --- the socket ----------------------------------------------------------------------
class RawClient:
    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.reader = PacketReader()
        self.pending: list[Packet | str] = []

    def send(self, payload: bytes) -> None:
        self.sock.sendall(frame_packet(payload))

    def next_packet(self) -> bytes:
        while True:
            while self.pending:
                item = self.pending.pop(0)
                if isinstance(item, Packet):
                    assert item.ok
                    return item.payload
            data = self.sock.recv(4096)
            assert data, "stub closed the connection"
            self.pending += list(self.reader.feed(data))

    def ask(self, payload: bytes) -> bytes:
        self.send(payload)
        return self.next_packet()


def serve_in_thread(target: ToyTarget, **kw: int) -> tuple[GdbServer, threading.Thread]:
    server = GdbServer(target, 0, **kw)
    thread = threading.Thread(target=server.serve_one, daemon=True)
    thread.start()
    return server, thread


def test_socket_ctrl_c_interrupts_a_running_target(toy: ToyTarget) -> None:
    server, thread = serve_in_thread(toy, slice_ns=600)
    client = RawClient(server.port)
    assert client.ask(b"QStartNoAckMode") == b"OK"
    client.send(b"c")
    client.sock.sendall(b"\x03")
    assert client.next_packet() == b"T02thread:1;"
    assert toy.now_ns > 0
    client.send(b"D")
    assert client.next_packet() == b"OK"
    thread.join(10)
    assert not thread.is_alive()
    server.close()


def test_socket_continue_runs_through_a_removed_breakpoint(toy: ToyTarget) -> None:
    server, thread = serve_in_thread(toy)
    client = RawClient(server.port)
    for packet in (b"Z0,8000110,2", b"z0,8000110,2", b"Z0,8000120,2"):
        assert client.ask(packet) == b"OK"
    assert client.ask(b"c") == b"T05thread:1;"
    assert toy.regs[PC] == 0x08000120                  # not stopped at 0x8000110
    client.send(b"k")
    thread.join(10)
    assert not thread.is_alive() and toy.breakpoints == set()
    server.close()


def test_socket_power_cut_reported_as_sigpwr(toy: ToyTarget) -> None:
    toy.halt_at_ns = 60
    server, thread = serve_in_thread(toy)
    client = RawClient(server.port)
    assert client.ask(b"c") == b"T20thread:1;"
    assert client.ask(b"?") == b"T20thread:1;"
    client.send(b"k")
    thread.join(10)
    assert not thread.is_alive()
    server.close()


def test_serve_refuses_a_busy_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        with pytest.raises(gdbstub.BenchError, match=f"gdb port {port}"):
            GdbServer(ToyTarget(), port)


def test_debug_target_of_rejects_an_engine_without_debug() -> None:
    class Renode:
        name = "renode"

    with pytest.raises(gdbstub.BenchError, match="renode engine has no debug interface"):
        gdbstub.debug_target_of(Renode())


# --- a real gdb ----------------------------------------------------------------------
GDB = shutil.which("gdb-multiarch")


def run_gdb(port: int, commands: list[str], elf: str | None = None) -> str:
    assert GDB is not None
    args = [GDB, "-nx", "-batch", "-ex", "set architecture armv7e-m",
            "-ex", f"target remote 127.0.0.1:{port}"]
    for c in commands:
        args += ["-ex", c]
    if elf:
        args.append(elf)
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    return result.stdout + result.stderr


@pytest.mark.skipif(GDB is None, reason="gdb-multiarch not installed")
def test_gdb_multiarch_against_toy_target(toy: ToyTarget) -> None:
    toy.flash[0x200:0x210] = bytes(range(0x10, 0x20))
    toy.ram[0:8] = bytes.fromhex("efbeadde0df0ad0b")
    server, thread = serve_in_thread(toy)
    out = run_gdb(server.port, [
        "info registers",
        "x/4wx 0x08000200",
        "x/2wx 0x20000000",
        "set $r3 = 0x1234",
        "p/x $r3",
        "break *0x08000140",
        "continue",
        "p/x $pc",
        "stepi",
        "p/x $pc",
        "p/x $msp",
        "detach",
    ])
    thread.join(30)
    server.close()
    assert "xpsr" in out and "msp" in out and "control" in out, out
    assert "0x13121110\t0x17161514\t0x1b1a1918\t0x1f1e1d1c" in out, out
    assert "0xdeadbeef\t0x0badf00d" in out, out
    assert "$1 = 0x1234" in out and toy.regs[3] == 0x1234, out
    assert "$2 = 0x8000140" in out, out
    assert "$3 = 0x8000142" in out, out
    assert f"$4 = 0x{RAM + 0x20000:x}" in out, out
    assert not thread.is_alive()
