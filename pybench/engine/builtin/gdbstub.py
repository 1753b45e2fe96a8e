"""A GDB remote serial protocol stub over the built-in engine's debug API.

`serve(engine, port)` listens on 127.0.0.1, takes one debugger (gdb-multiarch, `target
remote :PORT`) and answers it until it detaches or kills: registers (an M-profile target
description, so gdb shows xpsr, msp, psp and the mask registers), memory (flash included;
gdb's `load` erases and writes flash through the memory map), breakpoints, step, continue
and ctrl-C. The board's virtual time runs only while the CPU runs, in slices between
which the stub looks for the debugger's interrupt.

Layers: packet framing (PacketReader, frame_packet: pure), the command dispatcher
(GdbSession.handle: pure over a DebugTarget), and the socket loop (GdbServer).
"""

from __future__ import annotations

import contextlib
import select
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pybench.chip import CHIPS, Chip
from pybench.engine.base import RunResult, StopReason
from pybench.errors import BenchError

# The registers in the order of the debug API and of the 'g' packet.
REG_NAMES = ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12",
             "sp", "lr", "pc", "xpsr", "msp", "psp", "primask", "basepri", "faultmask",
             "control")
_PROFILE_REGS = 17          # r0..xpsr: org.gnu.gdb.arm.m-profile; the rest: m-system

# GDB's own signal numbers (gdb/signals.def), not the host's.
SIGINT, SIGTRAP, SIGSEGV, SIGPWR = 2, 5, 11, 32
_STOP_SIGNALS = {StopReason.HALTED: SIGTRAP, StopReason.FAULT: SIGSEGV,
                 StopReason.POWER_CUT: SIGPWR, StopReason.CONDITION: SIGTRAP}

# Fixed by the ARMv7-M architecture (peripheral and private peripheral bus regions),
# not by the board: gdb may read them, e.g. `x/wx 0x40023c10` or SCB registers.
_ARCH_IO_REGIONS = ((0x40000000, 0x20000000), (0xE0000000, 0x00100000))

SLICE_NS = 1_000_000        # virtual time run between two looks for ctrl-C
PACKET_SIZE = 0x4000


class DebugTarget(Protocol):
    """machine.debug as the CORE engineer provides it (see the engine split)."""

    def read_core_regs(self) -> list[int]: ...

    def write_core_reg(self, index: int, value: int) -> None: ...

    def read_memory(self, addr: int, n: int) -> bytes: ...

    def write_memory(self, addr: int, data: bytes) -> None: ...

    def add_breakpoint(self, addr: int) -> None: ...

    def remove_breakpoint(self, addr: int) -> None: ...

    def step(self) -> RunResult: ...

    def cont(self, max_ns: int) -> RunResult: ...


# --- packets -------------------------------------------------------------------------
def checksum(payload: bytes) -> int:
    return sum(payload) & 0xFF


def escape(data: bytes) -> bytes:
    """Binary data in a reply: '#', '$', '}' and '*' go as '}' then the byte xor 0x20."""
    out = bytearray()
    for b in data:
        if b in b"#$}*":
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    out, it = bytearray(), iter(data)
    for b in it:
        out.append(next(it, 0) ^ 0x20 if b == 0x7D else b)
    return bytes(out)


def frame_packet(payload: bytes) -> bytes:
    return b"$" + payload + b"#" + f"{checksum(payload):02x}".encode()


@dataclass(frozen=True)
class Packet:
    payload: bytes
    ok: bool                # checksum matched


INTERRUPT = "interrupt"     # the debugger's ctrl-C (0x03 outside a packet)


class PacketReader:
    """Bytes from the debugger in, packets, acks and interrupts out."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[Packet | str]:
        self._buf += data
        while self._buf:
            head = self._buf[0]
            if head == 0x03:
                del self._buf[0]
                yield INTERRUPT
            elif head in b"+-":
                del self._buf[0]
                yield chr(head)
            elif head == ord("$"):
                end = self._buf.find(b"#")
                if end < 0 or len(self._buf) < end + 3:
                    return            # wait for the rest
                payload = bytes(self._buf[1:end])
                try:
                    ok = int(self._buf[end + 1:end + 3], 16) == checksum(payload)
                except ValueError:
                    ok = False
                del self._buf[:end + 3]
                yield Packet(payload, ok)
            else:
                del self._buf[0]      # noise between packets


# --- XML documents -------------------------------------------------------------------
def target_xml() -> str:
    def reg(name: str, num: int) -> str:
        kind = {"sp": "data_ptr", "msp": "data_ptr", "psp": "data_ptr", "pc": "code_ptr",
                "lr": "code_ptr"}.get(name, "uint32")
        return f'    <reg name="{name}" bitsize="32" regnum="{num}" type="{kind}"/>\n'

    profile = "".join(reg(n, i) for i, n in enumerate(REG_NAMES[:_PROFILE_REGS]))
    system = "".join(reg(n, i) for i, n in enumerate(REG_NAMES) if i >= _PROFILE_REGS)
    return ('<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n'
            '<target version="1.0">\n  <architecture>arm</architecture>\n'
            f'  <feature name="org.gnu.gdb.arm.m-profile">\n{profile}  </feature>\n'
            f'  <feature name="org.gnu.gdb.arm.m-system">\n{system}  </feature>\n'
            '</target>\n')


def memory_map_xml(chip: Chip | None = None) -> str:
    """Flash as runs of equal sectors (gdb erases by blocksize), RAM, the I/O regions."""
    lay = chip or CHIPS["stm32f407vg"]
    rows = []
    runs: list[tuple[int, int, int]] = []          # (start, length, sector size)
    for addr, size in zip(lay.sector_addrs, lay.sector_sizes, strict=True):
        if runs and runs[-1][2] == size and runs[-1][0] + runs[-1][1] == addr:
            start, length, _ = runs[-1]
            runs[-1] = (start, length + size, size)
        else:
            runs.append((addr, size, size))
    for start, length, block in runs:
        rows.append(f'  <memory type="flash" start="0x{start:08x}" length="0x{length:x}">'
                    f'<property name="blocksize">0x{block:x}</property></memory>')
    rams = [lay.sram, lay.ccm, *_ARCH_IO_REGIONS]
    rows += [f'  <memory type="ram" start="0x{a:08x}" length="0x{n:x}"/>' for a, n in rams]
    return ('<?xml version="1.0"?>\n<!DOCTYPE memory-map PUBLIC "+//IDN gnu.org//DTD GDB Memory'
            ' Map V1.0//EN" "http://sourceware.org/gdb/gdb-memory-map.dtd">\n<memory-map>\n'
            + "\n".join(rows) + "\n</memory-map>\n")


# --- commands ------------------------------------------------------------------------
@dataclass(frozen=True)
class Resume:
    """The debugger asked the CPU to run (c, vCont;c); the server runs it in slices."""


@dataclass(frozen=True)
class Finish:
    """The debugger detached or killed: reply (if any), then close the session."""

    reply: bytes | None


def _hex32(value: int) -> str:
    return (value & 0xFFFFFFFF).to_bytes(4, "little").hex()


def stop_reply(result: RunResult | None, signal: int | None = None) -> bytes:
    sig = signal if signal is not None else (
        _STOP_SIGNALS.get(result.reason, SIGTRAP) if result else SIGTRAP)
    return f"T{sig:02x}thread:1;".encode()


class GdbSession:
    """The debugger's commands against a DebugTarget: pure, no sockets."""

    def __init__(self, target: DebugTarget, memory_map: str | None = None,
                 on_monitor: Callable[[str], str] | None = None):
        self.target = target
        # Breakpoints gdb wants, and those set in the target. gdb removes every breakpoint
        # at each stop and inserts them again to resume; the stub leaves them in the
        # target (a code hook added on already-translated code may be missed) and steps
        # over stops at ones gdb no longer wants (see stale_stop).
        self.wanted: set[int] = set()
        self.inserted: set[int] = set()
        self.no_ack = False
        self.last_stop: bytes = stop_reply(None)
        self._xfer = {"features": {"target.xml": target_xml().encode()},
                      "memory-map": {"": (memory_map or memory_map_xml()).encode()}}
        self._on_monitor = on_monitor

    def handle(self, payload: bytes) -> bytes | Resume | Finish:
        """The reply to one packet, or what the server must do for it."""
        text = payload.decode("latin-1")
        cmd = text[:1]
        if not cmd:
            return b""
        try:
            if cmd == "?":
                return self.last_stop
            if cmd == "g":
                return "".join(_hex32(v) for v in self.target.read_core_regs()).encode()
            if cmd == "G":
                return self._write_all_regs(text[1:])
            if cmd == "p":
                return self._read_reg(int(text[1:], 16))
            if cmd == "P":
                num, value = text[1:].split("=")
                self.target.write_core_reg(int(num, 16),
                                           int.from_bytes(bytes.fromhex(value), "little"))
                return b"OK"
            if cmd in "mMX":
                return self._memory(cmd, payload)
            if cmd in "Zz":
                return self._breakpoint(text)
            if cmd == "c":
                return self._resume(text[1:])
            if cmd == "s":
                return self._step(text[1:])
            if cmd in "CS":
                # With a signal to deliver: there are no signals on a bare board, drop it.
                _, _, addr = text[1:].partition(";")
                return self._resume(addr) if cmd == "C" else self._step(addr)
            if cmd == "k":
                return Finish(None)
            if cmd == "D":
                return Finish(b"OK")
            if cmd in "HT":
                return b"OK"
            if cmd == "q":
                return self._query(text)
            if cmd == "Q":
                if text == "QStartNoAckMode":
                    self.no_ack = True
                    return b"OK"
                return b""
            if cmd == "v":
                return self._v_packet(text, payload)
        except (ValueError, IndexError):
            return b"E01"
        return b""                    # unsupported: the empty reply says so

    def _write_all_regs(self, hexdata: str) -> bytes:
        raw = bytes.fromhex(hexdata)
        for i in range(min(len(raw) // 4, len(REG_NAMES))):
            self.target.write_core_reg(i, int.from_bytes(raw[4 * i:4 * i + 4], "little"))
        return b"OK"

    def _read_reg(self, num: int) -> bytes:
        regs = self.target.read_core_regs()
        return _hex32(regs[num]).encode() if num < len(regs) else b"E45"

    def _memory(self, cmd: str, payload: bytes) -> bytes:
        head, _, data = payload[1:].partition(b":")
        addr_s, len_s = head.decode().split(",")
        addr, length = int(addr_s, 16), int(len_s, 16)
        try:
            if cmd == "m":
                return self.target.read_memory(addr, length).hex().encode()
            if length == 0:
                return b"OK"             # gdb probing for X support
            blob = bytes.fromhex(data.decode()) if cmd == "M" else unescape(data)
            self.target.write_memory(addr, blob[:length])
            return b"OK"
        except Exception:  # any failed access (unmapped, bus fault) is an E reply
            return b"E01"

    def _breakpoint(self, text: str) -> bytes:
        kind, addr_s, _ = text[1:].split(",", 2)
        if kind not in ("0", "1"):
            return b""                   # watchpoints are not supported
        addr = int(addr_s, 16) & ~1
        if text[0] == "z":
            self.wanted.discard(addr)
            return b"OK"
        self.wanted.add(addr)
        if addr not in self.inserted:
            self.target.add_breakpoint(addr)
            self.inserted.add(addr)
        return b"OK"

    def stale_stop(self, result: RunResult) -> bool:
        """A halt at a breakpoint left in the target that gdb has removed: run on."""
        if result.reason != StopReason.HALTED:
            return False
        pc = self.target.read_core_regs()[REG_NAMES.index("pc")] & ~1
        return pc in self.inserted and pc not in self.wanted

    def release(self) -> None:
        """The debugger is gone: take every breakpoint out of the target."""
        for addr in sorted(self.inserted):
            self.target.remove_breakpoint(addr)
        self.inserted.clear()
        self.wanted.clear()

    def _resume(self, addr: str) -> Resume:
        if addr:
            self._set_pc(int(addr, 16))
        return Resume()

    def _step(self, addr: str) -> bytes:
        if addr:
            self._set_pc(int(addr, 16))
        result = self.target.step()     # one instruction: a stale breakpoint is moot
        self.last_stop = stop_reply(result, SIGTRAP if result.reason in (
            StopReason.DEADLINE, StopReason.HALTED) else None)
        return self.last_stop

    def _set_pc(self, pc: int) -> None:
        self.target.write_core_reg(REG_NAMES.index("pc"), pc)

    def _query(self, text: str) -> bytes:
        if text.startswith("qSupported"):
            return (f"PacketSize={PACKET_SIZE:x};qXfer:features:read+;qXfer:memory-map:read+;"
                    "QStartNoAckMode+;vContSupported+").encode()
        if text.startswith("qXfer:"):
            return self._xfer_read(text)
        if text == "qAttached":
            return b"1"
        if text == "qC":
            return b"QC1"
        if text == "qfThreadInfo":
            return b"m1"
        if text == "qsThreadInfo":
            return b"l"
        if text.startswith("qSymbol"):
            return b"OK"
        if text.startswith("qRcmd,") and self._on_monitor:
            answer = self._on_monitor(bytes.fromhex(text[6:]).decode())
            return answer.encode().hex().encode() if answer else b"OK"
        return b""

    def _xfer_read(self, text: str) -> bytes:
        # qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH
        parts = text.split(":")
        if len(parts) != 5 or parts[2] != "read":
            return b""
        docs = self._xfer.get(parts[1])
        if docs is None:
            return b""
        doc = docs.get(parts[3])
        if doc is None:
            return b"E00"
        off_s, len_s = parts[4].split(",")
        off, length = int(off_s, 16), int(len_s, 16)
        chunk = doc[off:off + length]
        return (b"l" if off + length >= len(doc) else b"m") + escape(chunk)

    def _v_packet(self, text: str, payload: bytes) -> bytes | Resume | Finish:
        if text == "vCont?":
            return b"vCont;c;C;s;S"
        if text.startswith("vCont;"):
            action = text[6:].split(";")[0].split(":")[0]
            if action[:1] in ("c", "C"):
                return Resume()
            if action[:1] in ("s", "S"):
                return self._step("")
            return b""
        if text.startswith("vKill"):
            return Finish(b"OK")
        if text.startswith("vFlashErase:"):
            addr_s, len_s = text[12:].split(",")
            self.target.write_memory(int(addr_s, 16), b"\xff" * int(len_s, 16))
            return b"OK"
        if text.startswith("vFlashWrite:"):
            head, _, data = payload[12:].partition(b":")
            self.target.write_memory(int(head, 16), unescape(data))
            return b"OK"
        if text == "vFlashDone":
            return b"OK"
        return b""


# --- the socket ----------------------------------------------------------------------
class GdbServer:
    """One debugger over TCP on 127.0.0.1; port 0 picks a free port (see .port)."""

    def __init__(self, target: DebugTarget, port: int, *,
                 on_monitor: Callable[[str], str] | None = None, slice_ns: int = SLICE_NS,
                 log: Callable[[str], None] | None = None):
        self.session = GdbSession(target, on_monitor=on_monitor)
        self.slice_ns = slice_ns
        self._log = log
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._listener.bind(("127.0.0.1", port))
        except OSError as e:
            self._listener.close()
            raise BenchError(f"gdb port {port}: cannot listen on 127.0.0.1: {e.strerror}"
                             ) from None
        self._listener.listen(1)
        self.port: int = self._listener.getsockname()[1]
        self._reader = PacketReader()

    def close(self) -> None:
        self._listener.close()

    def serve_one(self) -> None:
        """Accept one debugger and answer it until it detaches, kills or hangs up."""
        conn, _ = self._listener.accept()
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                with contextlib.suppress(ConnectionError):
                    self._converse(conn)
            finally:
                self.session.release()

    def _converse(self, conn: socket.socket) -> None:
        session = self.session
        while True:
            data = conn.recv(PACKET_SIZE)
            if not data:
                return
            for item in self._reader.feed(data):
                if not isinstance(item, Packet):
                    continue          # acks; a ctrl-C while halted changes nothing
                if not session.no_ack:
                    conn.sendall(b"+" if item.ok else b"-")
                if not item.ok:
                    continue
                if self._log:
                    self._log(f"<- {item.payload[:80]!r}")
                answer = session.handle(item.payload)
                if isinstance(answer, Finish):
                    if answer.reply is not None:
                        self._send(conn, answer.reply)
                    return
                if isinstance(answer, Resume):
                    answer = self._run(conn)
                self._send(conn, answer)

    def _send(self, conn: socket.socket, payload: bytes) -> None:
        if self._log:
            self._log(f"-> {payload[:80]!r}")
        conn.sendall(frame_packet(payload))

    def _run(self, conn: socket.socket) -> bytes:
        """Continue in slices of virtual time until a stop or the debugger's ctrl-C."""
        target, session = self.session.target, self.session
        while True:
            readable, _, _ = select.select([conn], [], [], 0)
            if readable:
                data = conn.recv(PACKET_SIZE)
                if not data:
                    raise ConnectionError("debugger hung up while the target ran")
                if any(item == INTERRUPT for item in self._reader.feed(data)):
                    session.last_stop = stop_reply(None, SIGINT)
                    return session.last_stop
            result = target.cont(self.slice_ns)
            if result.reason != StopReason.DEADLINE and not session.stale_stop(result):
                session.last_stop = stop_reply(result)
                return session.last_stop


def debug_target_of(engine: Any) -> DebugTarget:
    """The debug API of a built-in engine (engine.machine.debug), or the target itself."""
    for candidate in (getattr(getattr(engine, "machine", None), "debug", None),
                      getattr(engine, "debug", None)):
        if candidate is not None:
            return candidate  # type: ignore[no-any-return]
    if hasattr(engine, "read_core_regs"):
        return engine  # type: ignore[no-any-return]
    raise BenchError(f"{getattr(engine, 'name', engine)!s} engine has no debug interface;"
                     " --gdb needs the built-in engine")


def serve(engine: Any, port: int, announce: Callable[[str], None] | None = None) -> None:
    """Serve one debugger on 127.0.0.1:port, blocking until it detaches or kills."""
    target = debug_target_of(engine)

    def monitor(command: str) -> str:
        if command.strip() == "reset" and hasattr(engine, "power_on"):
            engine.power_on()
            return "target reset: CPU at its reset vector\n"
        return f"unknown monitor command {command.strip()!r}; known: reset\n"

    server = GdbServer(target, port, on_monitor=monitor)
    try:
        if announce:
            announce(f"waiting for gdb on 127.0.0.1:{server.port}"
                     f" (gdb-multiarch ELF -ex 'target remote :{server.port}')")
        server.serve_one()
    finally:
        server.close()
