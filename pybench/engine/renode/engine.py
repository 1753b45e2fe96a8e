"""RenodeEngine: pybench's Engine interface over a Renode process and its monitor socket.

Renode is started as `renode --disable-gui --plain --port N`; the engine sends monitor
commands (board_script.py builds them) and reads three side channels:
- the console and the frames the board sends: hooks on USART1 and the MAC write them to
  the mailbox (recorders.py, console.py),
- the flash model: platforms/flash_controller.py, driven with ControlRead commands and
  mailbox files (mailbox.py).
Snapshots are a power-on plus a replayed journal (replay.py): Renode's own Save fails
once a Python peripheral is in the machine.
Virtual time advances in `emulation RunFor` steps; `stop` conditions, frames and the
console are looked at between steps. docs/renode.md says what differs from the built-in
engine and why.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pybench import layout
from pybench.chip import F407
from pybench.engine import pins
from pybench.engine.base import (
    BoardEvent,
    CpuState,
    Engine,
    FlashOp,
    PowerCut,
    RunResult,
    StopCondition,
    StopReason,
    UartLog,
)
from pybench.engine.builtin.loader import elf_segments
from pybench.engine.renode import board_script as bs
from pybench.engine.renode import inprocess, protocol, replay
from pybench.engine.renode.console import ConsoleFile
from pybench.engine.renode.inprocess import InProcessMonitor
from pybench.engine.renode.mailbox import Mailbox
from pybench.engine.renode.monitor import Monitor
from pybench.engine.renode.process import RenodeProcess, find_renode, free_port, private_env
from pybench.errors import BenchError
from pybench.platform import repl

RECORDERS = Path(__file__).with_name("recorders.py")
# Smallest and largest RunFor step. Each step is a monitor round trip (tens of ms of host
# time), so quiet stretches are run in growing steps and any console or network activity
# drops back to the smallest one, where `stop` is checked every 100 us as Engine.run says.
MIN_STEP_NS = 100_000
MAX_STEP_NS = 10_000_000
FAULT_IPSR = {3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault"}
START_TIMEOUT_S = 60.0


class RenodeEngine(Engine):
    name = "renode"

    def __init__(self, renode: str | None = None) -> None:
        # BenchError when Renode is not installed (in-process: pyrenode3 finds Renode).
        self.exe = renode or ("" if inprocess.available() else find_renode())
        self._work = Path(tempfile.mkdtemp(prefix="pybench-renode-"))
        self.mailbox = Mailbox(self._work)
        self._process: RenodeProcess | None = None
        self._monitor: Monitor | InProcessMonitor | None = None
        self._console: ConsoleFile | None = None
        self._platform: repl.Platform | None = None
        self._platform_dir = Path(".")
        self._now_ns = 0
        self._epoch_ns = 0       # Renode's virtual time minus the bench's (restores move it)
        self._off = False
        self._armed: PowerCut | None = None
        self._frames_offset = 0
        self._dropped_offset = 0
        self._frames: list[tuple[int, bytes]] = []
        self._events: list[BoardEvent] = []
        self._saves = 0
        self._uart = UartLog()
        self._inputs: dict[tuple[int, int], int] = {}   # GPIO inputs held (set_input)
        self._journal = replay.Journal()
        self.replayed_ns = 0     # virtual time run again by restores (for the bench's figures)

    # --- plumbing ---------------------------------------------------------------------
    @property
    def monitor(self) -> Monitor | InProcessMonitor:
        if self._monitor is None:
            raise BenchError("Renode engine: load_platform() first")
        return self._monitor

    def command(self, cmd: str) -> str:
        """One monitor command; a dead Renode is reported with its own last words."""
        try:
            return self.monitor.run(cmd)
        except BenchError as e:
            if self._process is not None and not self._process.alive():
                why = self._process.reason() or repr(self._process.tail())
                raise BenchError(f"Renode exited during {cmd!r}: {why}") from None
            if self._process is not None and "Renode:" in str(e):
                why = self._process.reason()
                if why and why not in str(e):
                    raise BenchError(f"{e} (Renode's log: {why})") from None
            raise

    def _control(self, cmd: int, value: int = 0) -> int:
        return protocol.parse_int(self.command(bs.control(cmd, value)), "flash controller")

    def _start(self) -> None:
        port = free_port()
        env = {
            "PYBENCH_RENODE_MAILBOX": str(self._work),
            "PYBENCH_PLATFORM_DIR": str(self._platform_dir),
            "PYBENCH_FLASH_LAYOUT": str(layout.header_path()),
            **private_env(self._work),
        }
        if inprocess.available():
            # Renode in this process reads our environment; one engine at a time.
            os.environ.update({k: v for k, v in env.items() if k.startswith("PYBENCH_")})
            self._monitor = InProcessMonitor()
            return
        self._process = RenodeProcess(self.exe, port, env, self._work / "renode.log")
        self._monitor = Monitor("127.0.0.1", port)
        try:
            self._monitor.connect(START_TIMEOUT_S)
        except BenchError as e:
            raise BenchError(f"{e}; Renode log: {self._process.tail()!r}") from None

    # --- set-up -------------------------------------------------------------------------
    def load_platform(self, platform: Path) -> None:
        if self._monitor is not None:
            raise BenchError("Renode engine: the platform is already loaded")
        self._platform = repl.load(platform)   # our parser first: errors name file and line
        self._platform_dir = Path(platform).resolve().parent
        copy = self._work / Path(platform).name
        copy.write_text(bs.resolve_repl(Path(platform).read_text(), self._platform_dir))
        flash = self._flash_memory()
        self._start()
        for cmd in bs.setup_commands(copy, RECORDERS, F407.flash_base, flash.name, flash.size):
            self.command(cmd)
        self._control(bs.CMD_SYNC)
        self._console = ConsoleFile(self.mailbox.file("console.txt"))

    def _flash_memory(self) -> repl.Memory:
        assert self._platform is not None
        base = F407.flash_base
        for m in self._platform.memories:
            if m.address == base:
                return m
        raise BenchError(f"the platform has no memory at the flash base 0x{base:08x}")

    def load_elf(self, elf: Path) -> None:
        """What a programmer writes: each loadable segment's file bytes at its load address
        (the built-in engine's loader reads them). Renode's own LoadELF also fills a
        segment's memory size past its file size with zeros at the load address: the
        .bss of our bootloader (its 12 KiB signature heap) then wiped flash up to
        0x080094f0, the journal's first 84 records."""
        if not Path(elf).is_file():
            raise BenchError(f"{elf}: no such ELF file")
        for seg in elf_segments(Path(elf)):
            part = self._work / f"segment-{seg.addr:08x}.bin"
            part.write_bytes(seg.data)
            self.command(bs.load_binary(part, seg.addr))
        self._control(bs.CMD_SYNC)

    # --- power --------------------------------------------------------------------------
    def _power_on_commands(self) -> None:
        assert self._platform is not None
        # The F407 boots from main flash: its vector table at the flash base (BOOT0 low).
        rams = [m.name for m in self._platform.memories if m.address != F407.flash_base]
        sp, pc = struct.unpack("<II", self.read_flash(F407.flash_base, 8))
        for cmd in bs.power_on_commands(rams, F407.flash_base, sp, pc):
            self.command(cmd)
        for (port, number), level in self._inputs.items():
            self.command(bs.gpio_input(port, number, level))
        self.mailbox.take_power_cut()   # a stale marker from the last cut

    def power_on(self) -> None:
        self._power_on_commands()
        self._off = False
        self._events.append(BoardEvent(self._now_ns, "reset", "power on"))
        self._journal.start(self._save_base(powered=True))

    def arm_power_cut(self, cut: PowerCut | None) -> None:
        self.mailbox.write_arm(cut)
        self._control(bs.CMD_ARM)
        self._armed = cut

    # --- running ------------------------------------------------------------------------
    def run(self, duration_ns: int, stop: StopCondition | None = None) -> RunResult:
        if self._off:
            return RunResult(StopReason.POWER_CUT, self._now_ns, "the board is off: power_on()")
        end = self._now_ns + duration_ns
        step = MIN_STEP_NS
        while self._now_ns < end:
            this_step = min(step, end - self._now_ns)
            this_step -= this_step % 1000   # Renode's resolution is the microsecond
            if this_step <= 0:
                break
            self.command(bs.run_for(this_step))
            if self.mailbox.take_power_cut():
                self._collect()   # what the board printed and sent before power failed
                self._off = True
                self._now_ns = self._virtual_time()
                self._journal.base = None   # a cut cannot be replayed: snapshot anew
                detail = "power cut by the flash model"
                self._events.append(BoardEvent(self._now_ns, "power-cut", detail))
                return RunResult(StopReason.POWER_CUT, self._now_ns, detail)
            self._now_ns += this_step
            self._journal.add(replay.Run(this_step))
            active = self._collect()
            if stop is not None and stop():
                return RunResult(StopReason.CONDITION, self._now_ns)
            step = MIN_STEP_NS if active else min(step * 2, MAX_STEP_NS)
        return RunResult(StopReason.DEADLINE, self._now_ns)

    def _collect(self) -> bool:
        """Console lines and frames since the last step; True if there were any."""
        lines = self._console.drain() if self._console is not None else []
        if self._console is not None:
            self._uart = self._console.lines.log
        frames, self._frames_offset = self.mailbox.new_frames(self._frames_offset)
        self._frames += [(t - self._epoch_ns, data) for t, data in frames]
        return bool(lines or frames)

    def _virtual_time(self) -> int:
        renode_ns = protocol.parse_virtual_time_ns(self.command("machine ElapsedVirtualTime"))
        return renode_ns - self._epoch_ns

    @property
    def now_ns(self) -> int:
        return self._now_ns

    def cpu_state(self) -> CpuState:
        pc = protocol.parse_int(self.command("cpu PC"), "PC")
        sp = protocol.parse_int(self.command("cpu SP"), "SP")
        try:
            ipsr = protocol.parse_int(self.command(bs.get_register("XPSR")), "XPSR") & 0x1FF
        except (BenchError, ValueError):
            ipsr = 0   # a Renode without the XPSR register name: thread mode assumed
        return CpuState(pc=pc, sp=sp, ipsr=ipsr, in_fault_handler=ipsr in FAULT_IPSR)

    def events(self) -> list[BoardEvent]:
        self._dump()
        _, flash_events = self.mailbox.dump()
        return [*self._events, *flash_events]

    # --- console ------------------------------------------------------------------------
    def uart(self) -> UartLog:
        return self._uart

    # --- GPIO inputs --------------------------------------------------------------------
    def set_input(self, pin: str, level: int) -> None:
        # Sent again after every power-on and restore (_power_on_commands): whether Renode
        # keeps an input line's level across a machine reset is not measured. Not tried on
        # Renode yet.
        port, number = pins.parse_pin(pin)
        self._inputs[(port, number)] = pins.check_level(pin, level)
        self.command(bs.gpio_input(port, number, self._inputs[(port, number)]))

    # --- Ethernet -----------------------------------------------------------------------
    def send_frame(self, frame: bytes) -> None:
        if not frame:
            raise BenchError("an empty Ethernet frame cannot be sent")
        if len(frame) < bs.MIN_FRAME:
            # What a MAC does with a runt; Renode itself would die of it.
            self._events.append(BoardEvent(self._now_ns, "frame-dropped",
                                           f"{len(frame)}-byte frame, shorter than a header"))
            return
        self.command(bs.send_frame(frame))
        self._journal.add(replay.Frame(bytes(frame)))
        dropped, self._dropped_offset = self.mailbox.new_lines("frames-dropped.txt",
                                                               self._dropped_offset)
        self._events += [BoardEvent(self._now_ns, "frame-dropped", f"{line.split(' ', 1)[0]}-byte "
                                    f"frame: {line.split(' ', 1)[-1]}") for line in dropped]

    def take_frames(self) -> list[tuple[int, bytes]]:
        self._collect()
        frames, self._frames = self._frames, []
        return frames

    # --- flash --------------------------------------------------------------------------
    def read_flash(self, addr: int, size: int) -> bytes:
        self.mailbox.file("read.txt").write_text(f"0x{addr:x} {size}\n")
        self._control(bs.CMD_READ)
        return self.mailbox.file("flash-read.bin").read_bytes()

    def write_flash(self, addr: int, data: bytes) -> None:
        self._write_flash(addr, data)
        self._journal.add(replay.WriteFlash(addr, bytes(data)))

    def _write_flash(self, addr: int, data: bytes) -> None:
        self.mailbox.file("write.txt").write_text(f"0x{addr:x}\n")
        self.mailbox.file("flash-write.bin").write_bytes(data)
        self._control(bs.CMD_WRITE)

    def _dump(self) -> None:
        self._control(bs.CMD_DUMP)

    def flash_trace(self) -> Sequence[FlashOp]:
        self._dump()
        ops, _ = self.mailbox.dump()
        return ops

    def flash_op_count(self) -> int:
        return self._control(bs.CMD_COUNT)

    def reset_trace(self) -> None:
        self._control(bs.CMD_RESET_TRACE)
        self._journal.add(replay.ResetTrace())

    # --- snapshots ----------------------------------------------------------------------
    def _save_base(self, powered: bool) -> replay.Base:
        """Flash and the flash rules' state now, kept in files of the mailbox."""
        self._saves += 1
        n = self._saves
        self.read_flash(F407.flash_base, F407.flash_size)
        flash = self.mailbox.file(f"base-{n}.bin")
        self.mailbox.file("flash-read.bin").replace(flash)
        self._control(bs.CMD_SAVE, n)
        return replay.Base(flash, n, self._now_ns, powered)

    def snapshot(self) -> object:
        """The last power-on and the journal since (replay.py): no Renode `Save`.

        With the board off after a cut, flash and the rules' state are saved as they are."""
        if self._journal.base is None:
            self._journal.start(self._save_base(powered=not self._off))
        base = self._journal.base
        assert base is not None
        self._collect()
        partial = self._console.lines.partial if self._console is not None else ""
        return replay.Snapshot(
            base, tuple(self._journal.entries), self._now_ns, self._off, self._armed,
            tuple(self._events), UartLog(self._uart.text, list(self._uart.lines)), partial,
            tuple(self._frames))

    def restore(self, snap: object) -> None:
        if not isinstance(snap, replay.Snapshot):
            raise BenchError("Renode engine: not a snapshot of this engine")
        base = snap.base
        self.command(bs.load_binary(base.flash, F407.flash_base))
        self._control(bs.CMD_SYNC)
        self.arm_power_cut(None)
        if base.powered:
            self._power_on_commands()
        self._control(bs.CMD_LOAD, base.rules)
        self._control(bs.CMD_DISARM)
        # The bench's clock is the base's again; Renode's went on.
        self._epoch_ns = protocol.parse_virtual_time_ns(
            self.command("machine ElapsedVirtualTime")) - base.now_ns
        self.mailbox.file("epoch.txt").write_text(f"{self._epoch_ns}\n")
        self._control(bs.CMD_EPOCH)
        self._now_ns = base.now_ns
        for entry in replay.merged(snap.journal):
            if isinstance(entry, replay.Run):
                self.command(bs.run_for(entry.ns))
                self._now_ns += entry.ns
                self.replayed_ns += entry.ns
            elif isinstance(entry, replay.Frame):
                self.command(bs.send_frame(entry.data))
            elif isinstance(entry, replay.WriteFlash):
                self._write_flash(entry.addr, entry.data)
            else:
                self._control(bs.CMD_RESET_TRACE)
        if self._now_ns != snap.now_ns:
            raise BenchError(f"Renode engine: the replay ended at {self._now_ns} ns, "
                             f"the snapshot was taken at {snap.now_ns} ns")
        if self.mailbox.take_power_cut():
            raise BenchError("Renode engine: power failed while a snapshot was replayed")
        # What the board printed and sent during the replay was seen the first time.
        if self._console is not None:
            self._console.drain()
            self._console.lines.restore(snap.uart, snap.uart_partial)
            self._uart = self._console.lines.log
        _, self._frames_offset = self.mailbox.new_frames(self._frames_offset)
        self._frames = list(snap.frames)
        self._events = list(snap.events)
        self._off = snap.off
        self._journal.base = base
        self._journal.entries = list(snap.journal)
        self.arm_power_cut(snap.armed)

    def close(self) -> None:
        try:
            if isinstance(self._monitor, Monitor):
                with contextlib.suppress(BenchError):   # Renode closes the socket as it quits
                    self._monitor.run("quit")
            if self._monitor is not None:
                self._monitor.close()
            if self._console is not None:
                self._console.close()
        finally:
            if self._process is not None:
                self._process.stop()
            shutil.rmtree(self._work, ignore_errors=True)
