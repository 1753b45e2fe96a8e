"""BuiltinEngine: pybench's Engine interface over the unicorn machine (machine.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
from pybench.engine.builtin import loader, selftest
from pybench.engine.builtin.gpio import GpioPort
from pybench.engine.builtin.machine import Machine, Snapshot
from pybench.errors import BenchError
from pybench.platform import repl


class BuiltinEngine(Engine):
    name = "builtin"
    cheap_snapshots = True

    def __init__(self, check: bool = True) -> None:
        if check:
            selftest.ensure()
        self._machine: Machine | None = None
        self._frames_taken = 0

    @property
    def machine(self) -> Machine:
        if self._machine is None:
            raise BenchError("builtin engine: no platform loaded (load_platform first)")
        return self._machine

    # --- set-up -------------------------------------------------------------------
    def load_platform(self, platform: Path) -> None:
        self._machine = Machine(repl.load(Path(platform)))
        self._frames_taken = 0

    def load_elf(self, elf: Path) -> None:
        self.machine.load_segments(loader.elf_segments(Path(elf)), str(elf))

    def load_image(self, path: Path, addr: int) -> None:
        """An image file (header + body) at APP_SLOT_ADDR or STAGING_ADDR, say."""
        self.machine.load_segments([loader.image_segment(Path(path), addr)], str(path))

    # --- power --------------------------------------------------------------------
    def power_on(self) -> None:
        self.machine.power_on()

    def arm_power_cut(self, cut: PowerCut | None) -> None:
        ctrl = self.machine.flash_ctrl
        if ctrl is None:
            raise BenchError("builtin engine: the platform has no flash controller model")
        ctrl.arm(cut)

    # --- running ------------------------------------------------------------------
    def run(self, duration_ns: int, stop: StopCondition | None = None) -> RunResult:
        if duration_ns < 0:
            raise BenchError(f"run: negative duration {duration_ns} ns")
        return self.machine.run(duration_ns, stop)

    @property
    def now_ns(self) -> int:
        return self.machine.now_ns

    def cpu_state(self) -> CpuState:
        return self.machine.cpu_state()

    def events(self) -> list[BoardEvent]:
        return list(self.machine.events)

    # --- console ------------------------------------------------------------------
    def uart(self) -> UartLog:
        m = self.machine
        return UartLog(text=m.console, lines=list(m.console_lines))

    def uart_send(self, data: bytes) -> None:
        """Bytes typed at the console (USART1), one character time apart."""
        for model in self.machine.models:
            if hasattr(model, "receive") and model.repl_types == ("UART.STM32_UART",):
                model.receive(bytes(data))
                return
        raise BenchError("builtin engine: the platform has no USART")

    # --- Ethernet -----------------------------------------------------------------
    def send_frame(self, frame: bytes) -> None:
        for model in self.machine.models:
            if hasattr(model, "receive_frame"):
                model.receive_frame(bytes(frame))
                return
        raise BenchError("builtin engine: the platform has no Ethernet MAC model")

    def take_frames(self) -> list[tuple[int, bytes]]:
        out = self.machine.frames_out
        self.machine.frames_out = []
        return out

    # --- GPIO inputs --------------------------------------------------------------
    def set_input(self, pin: str, level: int) -> None:
        port, number = pins.parse_pin(pin)
        held = pins.check_level(pin, level)
        for model in self.machine.models:
            if isinstance(model, GpioPort) and model.port_index == port:
                model.hold(number, held)
                return
        raise BenchError(f"GPIO pin {pin}: the platform has no GPIO port {chr(65 + port)}")

    # --- flash --------------------------------------------------------------------
    def read_flash(self, addr: int, size: int) -> bytes:
        try:
            return self.machine.flash.read(addr, size) if self._in_flash(addr, size) else \
                self._bad_flash(addr, size)
        except ValueError as e:
            raise BenchError(f"read_flash: {e}") from None

    def write_flash(self, addr: int, data: bytes) -> None:
        if not self._in_flash(addr, len(data)):
            self._bad_flash(addr, len(data))
        self.machine.flash.write(addr, bytes(data))

    def _in_flash(self, addr: int, size: int) -> bool:
        return self.machine.flash_mem.contains(addr, size)

    def _bad_flash(self, addr: int, size: int) -> bytes:
        f = self.machine.flash
        raise BenchError(f"0x{addr:08x}+0x{size:x} is outside flash"
                         f" (0x{f.base:08x}..0x{f.base + f.size:08x})")

    def flash_trace(self) -> Sequence[FlashOp]:
        ctrl = self.machine.flash_ctrl
        return [] if ctrl is None else ctrl.trace

    def flash_op_count(self) -> int:
        ctrl = self.machine.flash_ctrl
        return 0 if ctrl is None else ctrl.op_count

    def flash_ops_since(self, start: int) -> list[FlashOp]:
        ctrl = self.machine.flash_ctrl
        return [] if ctrl is None else ctrl.ops_since(start)

    def reset_trace(self) -> None:
        ctrl = self.machine.flash_ctrl
        if ctrl is not None:
            ctrl.reset_trace()

    # --- snapshots ----------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        return self.machine.snapshot()

    def watch_flash(self) -> bool:
        self.machine.watch.start()
        return True

    def flash_depended(self) -> frozenset[int] | None:
        return self.machine.watch.stop()

    def restore(self, snap: object) -> None:
        if not isinstance(snap, Snapshot):
            raise BenchError("restore: not a snapshot of the builtin engine")
        self.machine.restore(snap)

    def state_digest(self) -> bytes:
        return self.machine.state_digest()

    def close(self) -> None:
        self._machine = None


__all__ = ["BuiltinEngine", "StopReason"]
