"""RenodeEngine: pybench's Engine interface over a Renode process and its monitor socket.

Renode is started as `renode --disable-gui --plain --port N`; the engine sends monitor
commands (board_script.py builds them) and reads three side channels:
- the console: USART1 connected to a server socket terminal (console.py),
- frames the board sends: a FrameReady hook writes them to the mailbox (frames_out.py),
- the flash model: platforms/flash_controller.py, driven with ControlRead commands and
  mailbox files (mailbox.py).
Virtual time advances in `emulation RunFor` steps; `stop` conditions, frames and the
console are looked at between steps. docs/renode.md says what differs from the built-in
engine and why.
"""

from __future__ import annotations

import contextlib
import shutil
import struct
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pybench import layout
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
from pybench.engine.renode import board_script as bs
from pybench.engine.renode import protocol
from pybench.engine.renode.console import ConsoleSocket
from pybench.engine.renode.mailbox import Mailbox
from pybench.engine.renode.monitor import Monitor
from pybench.engine.renode.process import RenodeProcess, find_renode, free_port
from pybench.errors import BenchError
from pybench.platform import repl

FRAMES_SCRIPT = Path(__file__).with_name("frames_out.py")
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
        self.exe = renode or find_renode()   # BenchError when Renode is not installed
        self._work = Path(tempfile.mkdtemp(prefix="pybench-renode-"))
        self.mailbox = Mailbox(self._work)
        self._process: RenodeProcess | None = None
        self._monitor: Monitor | None = None
        self._console: ConsoleSocket | None = None
        self._platform: repl.Platform | None = None
        self._platform_dir = Path(".")
        self._now_ns = 0
        self._off = False
        self._frames_offset = 0
        self._frames: list[tuple[int, bytes]] = []
        self._events: list[BoardEvent] = []
        self._snapshots = 0
        self._uart = UartLog()

    # --- plumbing ---------------------------------------------------------------------
    @property
    def monitor(self) -> Monitor:
        if self._monitor is None:
            raise BenchError("Renode engine: load_platform() first")
        return self._monitor

    def command(self, cmd: str) -> str:
        """One monitor command; a dead Renode is reported with the end of its log."""
        try:
            return self.monitor.run(cmd)
        except BenchError:
            if self._process is not None and not self._process.alive():
                raise BenchError(
                    f"Renode exited during {cmd!r}; its log ends: {self._process.tail()!r}"
                ) from None
            raise

    def _control(self, cmd: int, value: int = 0) -> int:
        return protocol.parse_int(self.command(bs.control(cmd, value)), "flash controller")

    def _start(self) -> None:
        port = free_port()
        env = {
            "PYBENCH_RENODE_MAILBOX": str(self._work),
            "PYBENCH_PLATFORM_DIR": str(self._platform_dir),
            "PYBENCH_FLASH_LAYOUT": str(layout.header_path()),
        }
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
        self._start()
        uart_port = free_port()
        for cmd in bs.setup_commands(copy, uart_port, FRAMES_SCRIPT):
            self.command(cmd)
        self._console = ConsoleSocket(uart_port)

    def load_elf(self, elf: Path) -> None:
        if not Path(elf).is_file():
            raise BenchError(f"{elf}: no such ELF file")
        self.command(bs.load_elf(Path(elf).resolve()))
        self._control(bs.CMD_SYNC)

    # --- power --------------------------------------------------------------------------
    def power_on(self) -> None:
        lay = layout.load()
        assert self._platform is not None
        rams = [m.name for m in self._platform.memories if m.address != lay.FLASH_BASE_ADDR]
        sp, pc = struct.unpack("<II", self.read_flash(lay.BOOT_ADDR, 8))
        for cmd in bs.power_on_commands(rams, lay.BOOT_ADDR, sp, pc):
            self.command(cmd)
        self.mailbox.take_power_cut()   # a stale marker from the last cut
        self._off = False
        self._events.append(BoardEvent(self._now_ns, "reset", "power on"))

    def arm_power_cut(self, cut: PowerCut | None) -> None:
        self.mailbox.write_arm(cut)
        self._control(bs.CMD_ARM)

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
            self._now_ns += this_step
            if self.mailbox.take_power_cut():
                self._collect()   # what the board printed and sent before power failed
                self._off = True
                self._now_ns = self._virtual_time()
                detail = "power cut by the flash model"
                self._events.append(BoardEvent(self._now_ns, "power-cut", detail))
                return RunResult(StopReason.POWER_CUT, self._now_ns, detail)
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
        self._frames += frames
        return bool(lines or frames)

    def _virtual_time(self) -> int:
        return protocol.parse_virtual_time_ns(self.command("machine ElapsedVirtualTime"))

    @property
    def now_ns(self) -> int:
        return self._now_ns

    def cpu_state(self) -> CpuState:
        pc = protocol.parse_int(self.command("cpu PC"), "PC")
        sp = protocol.parse_int(self.command("cpu SP"), "SP")
        try:
            ipsr = protocol.parse_int(self.command(bs.get_register("XPSR")), "XPSR") & 0x1FF
        except BenchError:
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
        # Renode keeps an input line's level across machine resets (not measured yet).
        port, number = pins.parse_pin(pin)
        self.command(bs.gpio_input(port, number, pins.check_level(pin, level)))

    # --- Ethernet -----------------------------------------------------------------------
    def send_frame(self, frame: bytes) -> None:
        try:
            self.command(bs.send_frame(frame))
        except ValueError as e:
            raise BenchError(str(e)) from None

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
        self.mailbox.file("write.txt").write_text(f"0x{addr:x}\n")
        self.mailbox.file("flash-write.bin").write_bytes(data)
        self._control(bs.CMD_WRITE)

    def _dump(self) -> None:
        self._control(bs.CMD_DUMP)

    def flash_trace(self) -> Sequence[FlashOp]:
        self._dump()
        ops, _ = self.mailbox.dump()
        return ops

    def reset_trace(self) -> None:
        self._control(bs.CMD_RESET_TRACE)

    # --- snapshots ----------------------------------------------------------------------
    def snapshot(self) -> object:
        """Renode's own Save (the whole emulation, to a file) plus the flash rules' state.

        Slow (hundreds of ms and a file of the size of all memories); see docs/renode.md."""
        self._snapshots += 1
        n = self._snapshots
        path = self._work / f"snapshot-{n}.save"
        self._control(bs.CMD_SAVE, n)
        self.command(f"Save {protocol.path_arg(str(path))}")
        return (n, path, self._now_ns, self._off, list(self._events), UartLog(
            self._uart.text, list(self._uart.lines)))

    def restore(self, snap: object) -> None:
        n, path, now_ns, off, events, uart = snap  # type: ignore[misc]
        self.command(f"Load {protocol.path_arg(str(path))}")
        self.command(f"mach set {protocol.quote(bs.MACHINE)}")
        # Load replaces the emulation: the console terminal, the frame tester and the frame
        # hook are not part of what Renode restores, so they are made again.
        if self._console is not None:
            self._console.close()
        uart_port = free_port()
        for cmd in bs.setup_commands(Path("unused"), uart_port, FRAMES_SCRIPT)[2:]:
            self.command(cmd)
        self._console = ConsoleSocket(uart_port)
        self._console.lines.log = UartLog(uart.text, list(uart.lines))
        self._control(bs.CMD_LOAD, n)
        self._now_ns, self._off, self._events, self._uart = now_ns, off, list(events), uart

    def close(self) -> None:
        try:
            if self._monitor is not None:
                with contextlib.suppress(BenchError):   # Renode closes the socket as it quits
                    self._monitor.run("quit")
                self._monitor.close()
            if self._console is not None:
                self._console.close()
        finally:
            if self._process is not None:
                self._process.stop()
            shutil.rmtree(self._work, ignore_errors=True)
