"""`pybench device check`: boot a device once from its description and say, a line each,
what works and what does not, before anyone spends time on a campaign.

Each check is a function of the booted board that returns a Finding; a check that needs
an earlier one (the address needs the ready line) is skipped with a reason when that
one failed. Nothing here changes the device's flash except what its own firmware does
(the TFTP check sends a write request and aborts it at once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pybench.device.model import Device
from pybench.engine.base import Engine
from pybench.errors import BenchError
from pybench.net import scenarios as sc
from pybench.net.tftp import encode_error, encode_wrq

SECOND = 1_000_000_000


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool | None          # None: not checked (an earlier check failed)
    detail: str

    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        return f"{mark} {self.name}: {self.detail}"


def files(device: Device) -> Finding:
    paths = [("bootloader", device.firmware.bootloader)]
    if device.firmware.application is not None:
        paths.append(("application", device.firmware.application.path))
    paths += [(f"image {role}", img.path) for role, img in device.firmware.images.items()]
    paths += [("extra", f.path) for f in device.firmware.extra]
    missing = [f"{what} {p}" for what, p in paths if not p.is_file()]
    if missing:
        return Finding("files", False, "missing: " + ", ".join(missing))
    return Finding("files", True, f"{len(paths)} files found")


def console(engine: Engine, device: Device) -> Finding:
    b = sc.bench(engine)
    b.wire.run_for(min(device.board.boot_timeout_ns, SECOND // 2))
    lines = engine.uart().lines
    if not lines:
        return Finding("console", False, "nothing printed in the first 0.5 s (is the "
                                         "console on USART1 at the platform's address?)")
    first = next((line for line in lines if line.strip()), lines[0])
    return Finding("console", True, f"{len(lines)} lines so far, first {first!r}")


def ready(engine: Engine, device: Device) -> Finding:
    try:
        line = sc.boot_and_wait(engine)
    except sc.ScenarioError as e:
        return Finding("ready", False, str(e))
    return Finding("ready", True, f"{line!r} at {engine.now_ns / SECOND:.3f} s virtual")


def version(engine: Engine, device: Device) -> Finding:
    if not device.console.version:
        return Finding("version", None, "the description gives no console.version")
    seen = [v for v in map(device.console.version_of, engine.uart().lines) if v is not None]
    if not seen:
        return Finding("version", False, f"no console line matches {device.console.version!r}")
    return Finding("version", True, f"the console says version {seen[-1]} runs")


def address(engine: Engine, device: Device) -> Finding:
    b = sc.bench(engine)
    try:
        where = b.device_ip
        rtt = sc.ping(engine, count=1)[0]
    except sc.ScenarioError as e:
        return Finding("address", False, str(e))
    how = "by DHCP" if device.network.address is None else "static"
    return Finding("address", True, f"{where} ({how}) answers ping in {rtt / 1000:.0f} us")


def http(engine: Engine, device: Device) -> Finding:
    t = device.transports.http
    if t is None:
        return Finding("http", None, "no HTTP transport")
    first = t.steps[0]
    try:
        if first.upload is None:
            response = sc.http_step(engine, first)
            return Finding("http", True, f"{first.method} {first.path}: {response.status} "
                                         f"(accepted; {len(t.steps)} steps in all)")
        response = sc.http_request(engine, "GET", first.path)
    except sc.ScenarioError as e:
        return Finding("http", False, f"first step: {e}")
    return Finding("http", True, f"port {t.port} answers (GET {first.path}: "
                                 f"{response.status}); the upload is the first step")


class _Replies:
    """A UDP handler that keeps what the server sent back."""

    def __init__(self) -> None:
        self.got: list[tuple[int, bytes]] = []

    def on_udp(self, src_ip: str, sport: int, dport: int, payload: bytes) -> None:
        self.got.append((sport, payload))


def tftp(engine: Engine, device: Device) -> Finding:
    t = device.transports.tftp
    if t is None:
        return Finding("tftp", None, "no TFTP transport")
    b = sc.bench(engine)
    port, replies = b.host.free_port(), _Replies()
    b.host.udp[port] = replies
    options = {"blksize": str(t.blksize)} if t.blksize else {}
    target = b.device_ip
    b.host.udp_send(target, port, t.port, encode_wrq(t.filename, options))
    start = engine.now_ns
    answered = b.wire.run_until(lambda: bool(replies.got), round(t.server_timeout_s * SECOND))
    del b.host.udp[port]
    if not answered:
        return Finding("tftp", False, f"no answer to a write request within "
                                      f"{t.server_timeout_s:g} s (transport.tftp."
                                      "server_timeout_s)")
    sport, payload = replies.got[0]
    b.host.udp_send(target, port, sport, encode_error(0, "pybench device check"))
    b.wire.run_for(SECOND // 10)
    opcode = int.from_bytes(payload[:2], "big")
    what = {4: "ACK", 5: "ERROR", 6: "OACK"}.get(opcode, f"opcode {opcode}")
    waited = (engine.now_ns - start) / SECOND
    return Finding("tftp", opcode in (4, 6), f"the write request got {what} after "
                                             f"{waited:.3f} s (aborted)")


def probe(engine: Engine, device: Device) -> Finding:
    if device.oracle.probe is None:
        return Finding("probe", None, "the description gives no oracle.probe")
    try:
        found = sc.probe_version(engine)
    except sc.ScenarioError as e:
        return Finding("probe", False, str(e))
    return Finding("probe", True, f"GET {device.oracle.probe.path} says version {found}")


def running(engine: Engine, device: Device) -> Finding:
    cpu = engine.cpu_state()
    region = device.running_region
    if cpu.in_fault_handler or cpu.lockup:
        return Finding("cpu", False, f"in a fault handler or locked up at 0x{cpu.pc:08x}")
    if cpu.pc not in region:
        return Finding("cpu", False, f"pc 0x{cpu.pc:08x} is outside {region.name!r}")
    return Finding("cpu", True, f"running in {region.name!r} (pc 0x{cpu.pc:08x})")


Check = Callable[[Engine, Device], Finding]
AFTER_READY: tuple[Check, ...] = (version, running, address, http, tftp, probe)


def check_device(device: Device, engine_name: str = "builtin",
                 report: Callable[[Finding], None] | None = None) -> list[Finding]:
    """Boot once and run every check; `report` sees each finding as it comes."""
    findings: list[Finding] = []

    def add(f: Finding) -> Finding:
        findings.append(f)
        if report is not None:
            report(f)
        return f

    if not add(files(device)).ok:
        return findings
    engine = sc.create_board(engine_name, device)
    try:
        sc.attach(engine, device)
        engine.power_on()
        add(console(engine, device))
        if not add(ready(engine, device)).ok:
            for check in AFTER_READY:
                add(Finding(check.__name__, None, "the application never said it is ready"))
            return findings
        for check in AFTER_READY:
            try:
                add(check(engine, device))
            except BenchError as e:
                add(Finding(check.__name__, False, str(e)))
        unmodelled = [e for e in engine.events() if e.kind == "unmodelled"]
        if unmodelled:
            add(Finding("engine", None, f"{len(unmodelled)} registers the engine does not "
                                        "model were used (pybench boot lists them)"))
    finally:
        sc.detach(engine)
        engine.close()
    return findings
