"""The Linux kernel playing the board: an Engine whose Ethernet port is a TAP interface.

The TAP sits in a network namespace with the device's address and MAC, so whatever
listens there (an HTTP server, tftpd) answers as the board would. Driving the bench's
own TCP, HTTP and TFTP clients (or the TAP bridge) against it checks them against a
real TCP/IP implementation, with no firmware; with no address, a DHCP client run in
the namespace checks the host's DHCP server against a real one. Time is wall time:
`now_ns` counts from the object's creation and run() waits for frames for real.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

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
from pybench.net.tap import Namespace, TapPort

POLL_NS = 10_000_000   # check the caller's condition at least this often


class KernelBoard(Engine):
    """A TAP port in `namespace` with a device's identity; see the module docstring."""

    name = "kernel"

    def __init__(self, namespace: Namespace, ifname: str, address: str | None,
                 mac: str) -> None:
        """The device's `address` with its prefix and its `mac`; address None: the
        interface comes up without one, for a DHCP client run in the namespace (udhcpc)
        to get it from the bench's host."""
        self.port = TapPort(namespace, ifname, address, mac)
        self._t0 = time.monotonic_ns()
        self._frames: list[tuple[int, bytes]] = []

    @property
    def now_ns(self) -> int:
        return time.monotonic_ns() - self._t0

    def run(self, duration_ns: int, stop: StopCondition | None = None) -> RunResult:
        deadline = self.now_ns + duration_ns
        while True:
            got = self.port.read_all()
            for frame in got:
                self._frames.append((self.now_ns, frame))
            if got and stop is not None and stop():
                return RunResult(StopReason.CONDITION, self.now_ns)
            left = deadline - self.now_ns
            if left <= 0:
                return RunResult(StopReason.DEADLINE, self.now_ns)
            if not self.port.wait(min(left, POLL_NS) / 1e9) and stop is not None and stop():
                return RunResult(StopReason.CONDITION, self.now_ns)

    def send_frame(self, frame: bytes) -> None:
        self.port.write(frame)

    def take_frames(self) -> list[tuple[int, bytes]]:
        # The kernel answers in wall time whether run() was called or not (a bridge
        # pacing a board to the wall clock may find this one never behind it): what
        # the port holds now is output too.
        self._frames.extend((self.now_ns, frame) for frame in self.port.read_all())
        out, self._frames = self._frames, []
        return out

    def close(self) -> None:
        self.port.close()

    # A kernel has no flash, console or snapshots to offer.
    def load_platform(self, platform: Path) -> None: ...
    def load_elf(self, elf: Path) -> None: ...
    def power_on(self) -> None: ...
    def arm_power_cut(self, cut: PowerCut | None) -> None: ...
    def cpu_state(self) -> CpuState:
        return CpuState(pc=0, sp=0, ipsr=0, in_fault_handler=False)
    def events(self) -> list[BoardEvent]:
        return []
    def uart(self) -> UartLog:
        return UartLog()
    def read_flash(self, addr: int, size: int) -> bytes:
        raise NotImplementedError("the kernel board has no flash")
    def write_flash(self, addr: int, data: bytes) -> None:
        raise NotImplementedError("the kernel board has no flash")
    def flash_trace(self) -> Sequence[FlashOp]:
        return []
    def reset_trace(self) -> None: ...
    def snapshot(self) -> object:
        raise NotImplementedError("the kernel board cannot be snapshotted")
    def restore(self, snap: object) -> None:
        raise NotImplementedError("the kernel board cannot be snapshotted")
