"""TAP interfaces in network namespaces, and the bridge that lets real clients reach a board.

A Namespace is an `ip netns` that exists for one run and is deleted after. A TapPort is
a TAP interface owned by this process (non-persistent: it vanishes with the fd), moved
into a namespace and given an address and MAC there. TapBridge moves frames between a
TapPort and an engine, running the engine paced to wall time (virtual time never ahead
of the wall clock), so `ip netns exec NS curl ...` talks to the emulated board and
nothing leaks outside the namespace. Given a DhcpServer, the bridge answers the board's
DHCP requests itself (they never reach the namespace), so a board that gets its address
by DHCP has one on the bridge too.

Everything here needs root or CAP_NET_ADMIN; without it TapUnavailable says why.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import struct
import subprocess
import time
from collections.abc import Callable
from types import TracebackType

from scapy.layers.l2 import Ether

from pybench.engine.base import Engine, StopReason
from pybench.errors import BenchError
from pybench.net.dhcp import SERVER_PORT, DhcpServer
from pybench.net.pcap import PcapRecorder

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
MAX_FRAME = 65536


class TapUnavailable(BenchError):
    """No TAP in a namespace here: not root, no CAP_NET_ADMIN, no /dev/net/tun, no `ip`."""


def _ip(*args: str, netns: str | None = None) -> None:
    cmd = ["ip", *(["-n", netns] if netns else []), *args]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise TapUnavailable("the `ip` command (iproute2) is not installed") from None
    if result.returncode:
        raise TapUnavailable(f"`{' '.join(cmd)}` failed: {result.stderr.strip()}")


def tap_unavailable_reason() -> str | None:
    """Why TAP interfaces in namespaces cannot be made here, or None when they can."""
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun missing (no TUN/TAP support)"
    if os.geteuid() != 0 and not _has_cap_net_admin():
        return "needs root or CAP_NET_ADMIN to create a network namespace and a TAP"
    probe = f"pbprobe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except TapUnavailable as e:
        return str(e)
    with contextlib.suppress(TapUnavailable):
        _ip("netns", "del", probe)
    return None


def _has_cap_net_admin() -> bool:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) & (1 << 12))
    except OSError:
        pass
    return False


class Namespace:
    """A network namespace that lives as long as the object (a with block, or close())."""

    def __init__(self, name: str) -> None:
        self.name = name
        _ip("netns", "add", name)
        self._open = True
        _ip("link", "set", "lo", "up", netns=name)

    def exec_cmd(self, *cmd: str) -> list[str]:
        """The argv that runs `cmd` inside the namespace."""
        return ["ip", "netns", "exec", self.name, *cmd]

    def close(self) -> None:
        if self._open:
            self._open = False
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)

    def __enter__(self) -> Namespace:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class TapPort:
    """A TAP interface in a namespace; read()/write() move whole Ethernet frames."""

    def __init__(self, namespace: Namespace, ifname: str, address: str | None, mac: str
                 ) -> None:
        """`address` with its prefix ("10.0.0.1/24"), or None for none (a DHCP client
        in the namespace configures it)."""
        if len(ifname) > 15:
            raise BenchError(f"interface name {ifname!r} longer than 15 characters")
        self.ifname = ifname
        self.namespace = namespace
        try:
            self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        except OSError as e:
            raise TapUnavailable(f"/dev/net/tun: {e.strerror}") from None
        try:
            ifr = struct.pack("16sH", ifname.encode(), IFF_TAP | IFF_NO_PI)
            fcntl.ioctl(self.fd, TUNSETIFF, ifr)
            # Created in our namespace, then moved: the fd keeps working across the move.
            _ip("link", "set", "dev", ifname, "netns", namespace.name)
            ns = namespace.name
            _ip("link", "set", "dev", ifname, "address", mac, netns=ns)
            # No IPv6 on the link: router solicitations would only be noise to the board.
            subprocess.run(namespace.exec_cmd("sysctl", "-qw",
                                              f"net.ipv6.conf.{ifname}.disable_ipv6=1"),
                           capture_output=True, check=False)
            if address is not None:
                _ip("addr", "add", address, "dev", ifname, netns=ns)
            _ip("link", "set", "dev", ifname, "up", netns=ns)
        except OSError as e:
            os.close(self.fd)
            raise TapUnavailable(f"TUNSETIFF {ifname}: {e.strerror}") from None
        except BaseException:
            os.close(self.fd)
            raise

    def read_all(self) -> list[bytes]:
        frames = []
        while True:
            try:
                frames.append(os.read(self.fd, MAX_FRAME))
            except BlockingIOError:
                return frames

    def write(self, frame: bytes) -> None:
        try:
            os.write(self.fd, frame)
        except OSError as e:
            if e.errno not in (errno.EIO, errno.EAGAIN):  # link down or queue full: a loss
                raise

    def wait(self, timeout_s: float) -> bool:
        """Wait until a frame is readable or the timeout passed; True when readable."""
        readable, _, _ = select.select([self.fd], [], [], max(0.0, timeout_s))
        return bool(readable)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class TapBridge:
    """Frames between a TAP port and an engine, the engine paced to wall time."""

    def __init__(self, engine: Engine, port: TapPort, recorder: PcapRecorder | None = None,
                 slice_ns: int = 2_000_000, dhcp: DhcpServer | None = None) -> None:
        self.engine = engine
        self.port = port
        self.recorder = recorder
        self.slice_ns = slice_ns
        self.dhcp = dhcp
        self.frames_in = 0
        self.frames_out = 0
        self.dhcp_frames = 0          # DHCP requests of the board answered by the bridge
        self._pending: list[tuple[int, bytes]] = []

    def run(self, until: Callable[[], bool], timeout_s: float) -> bool:
        """Bridge until until() is true (True) or timeout_s of wall time passed (False)."""
        wall0 = time.monotonic_ns()
        virt0 = self.engine.now_ns
        deadline = wall0 + int(timeout_s * 1e9)
        while not until():
            wall = time.monotonic_ns()
            if wall >= deadline:
                return False
            for frame in self.port.read_all():
                self.frames_in += 1
                if self.recorder:
                    self.recorder.record(self.engine.now_ns, frame)
                self.engine.send_frame(frame)
            # Never ahead of the wall clock: a board that runs faster waits for real time.
            target = virt0 + (wall - wall0)
            now = self.engine.now_ns
            if now < target:
                result = self.engine.run(min(target - now, self.slice_ns), self._frames_out)
                if result.reason in (StopReason.POWER_CUT, StopReason.FAULT, StopReason.HALTED):
                    raise BenchError(f"board stopped under the bridge: {result.reason.value} "
                                     f"{result.detail}".strip())
            self._frames_out()
            for time_ns, frame in self._pending:
                self.frames_out += 1
                if self.recorder:
                    self.recorder.record(time_ns, frame)
                if self.dhcp is not None and _to_dhcp_server(frame):
                    self._serve_dhcp(frame)
                else:
                    self.port.write(frame)
            self._pending.clear()
            if self.engine.now_ns >= virt0 + (time.monotonic_ns() - wall0):
                self.port.wait(self.slice_ns / 1e9)
        return True

    def _serve_dhcp(self, frame: bytes) -> None:
        assert self.dhcp is not None
        self.dhcp_frames += 1
        for reply in self.dhcp.handle(Ether(frame), self.engine.now_ns):
            data = bytes(reply)
            if self.recorder:
                self.recorder.record(self.engine.now_ns, data)
            self.engine.send_frame(data)

    def _frames_out(self) -> bool:
        self._pending.extend(self.engine.take_frames())
        return bool(self._pending)


def _to_dhcp_server(frame: bytes) -> bool:
    """An IPv4 UDP datagram to port 67 (checked on the bytes: every frame passes here)."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return False
    udp = 14 + (frame[14] & 0x0F) * 4
    return len(frame) >= udp + 4 and int.from_bytes(frame[udp + 2:udp + 4], "big") == SERVER_PORT
