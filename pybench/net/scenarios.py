"""What the pytest tests, the Robot keywords, the CLI and the power-cut campaign do with a
board over the network: boot it, ping it, upload an image, reboot it, check its version.

Every function takes the engine. The bench's host rides along with it: attach() puts a
Host on the engine's wire (with an optional pcap recorder), and each function finds it
again through bench(engine). Console waits work like `expect`: each search starts after
the line the previous wait matched, so "staged" then "firmware v2" are found in order.
All times are virtual nanoseconds.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pybench.device.model import Device, RestartKind
from pybench.engine.base import Engine
from pybench.errors import BenchError
from pybench.net.dhcp import DhcpConfig
from pybench.net.host import Host
from pybench.net.http import HttpError, HttpExchange, HttpResponse, build_request
from pybench.net.pcap import PcapRecorder
from pybench.net.transport import HttpStep, HttpTransport
from pybench.net.upload import ACCEPTED, Upload, UploadResult
from pybench.net.wire import Wire, WireSnapshot

SECOND = 1_000_000_000
UPLOAD_TIMEOUT_NS = 300 * SECOND
REQUEST_TIMEOUT_NS = 20 * SECOND
STAGING_TIMEOUT_NS = 30 * SECOND

Progress = Callable[[int, int], None]


class ScenarioError(BenchError):
    """The board did not do what the scenario waited for; the message says what it did."""


@dataclass
class Bench:
    """An engine with the bench's host on its wire, the device it runs, and the console
    position."""

    engine: Engine
    device: Device
    wire: Wire
    recorder: PcapRecorder | None = None
    console_mark: int = 0

    @property
    def host(self) -> Host:
        return self.wire.host

    @property
    def device_ip(self) -> str:
        """The device's address: the description's, or the one the bench's DHCP server
        leased to it."""
        if self.device.network.address is not None:
            return self.device.network.address
        leased = self.host.leased_address(self.device.network.mac)
        if leased is None:
            raise ScenarioError(f"{self.device.name}: the device has no address yet (no "
                                "DHCP lease for {self.device.network.mac})")
        return leased


_benches: weakref.WeakKeyDictionary[Engine, Bench] = weakref.WeakKeyDictionary()
# The device each engine runs, kept after detach(): a later bench() puts a fresh host on.
_devices: weakref.WeakKeyDictionary[Engine, Device] = weakref.WeakKeyDictionary()


def attach(engine: Engine, device: Device, seed: int = 0, pcap: Path | None = None) -> Bench:
    """Put a fresh host (seeded) on the engine's wire, on the device's network, recording
    to `pcap` when given."""
    detach(engine)
    recorder = PcapRecorder(pcap) if pcap else None
    net = device.network
    dhcp = None
    if net.dhcp is not None:
        dhcp = DhcpConfig((net.dhcp.pool_start, net.dhcp.pool_end), net.netmask,
                          router=net.gateway, lease_s=net.dhcp.lease_s)
    host = Host(net.host, mac=net.host_mac, seed=seed, dhcp=dhcp)
    b = Bench(engine, device, Wire(engine, host, recorder), recorder)
    _benches[engine] = b
    _devices[engine] = device
    return b


def bench(engine: Engine) -> Bench:
    """The host attached to this engine (attached now, unrecorded, when it was detached).

    The host's clock is brought up to the board's first: the board may have run without
    the host (engine.run() called directly), and what the host sends now is sent now."""
    b = _benches.get(engine)
    if b is None:
        device = _devices.get(engine)
        if device is None:
            raise BenchError("no device attached to this engine (scenarios.attach first)")
        b = attach(engine, device)
    b.host.advance(engine.now_ns)
    return b


def detach(engine: Engine) -> None:
    old = _benches.pop(engine, None)
    if old is not None and old.recorder is not None:
        old.recorder.close()


# --- the board ---------------------------------------------------------------------------
def make_engine(name: str, platform: Path) -> Engine:
    """An engine with the platform loaded: "builtin" (unicorn) or "renode"."""
    if name == "builtin":
        try:
            from pybench.engine.builtin.engine import BuiltinEngine
        except ImportError as e:
            raise BenchError(f"--engine builtin: the built-in engine is not available: {e}"
                             ) from None
        engine: Engine = BuiltinEngine()
        engine.load_platform(platform)
        return engine
    if name == "renode":
        from pybench.engine.renode import create_engine
        return create_engine(platform)
    raise BenchError(f"--engine {name}: choose builtin or renode")


def create_board(engine_name: str, device: Device, app_image: Path | None = None,
                 boot: Path | None = None, platform: Path | None = None) -> Engine:
    """A board programmed as the device leaves the factory, powered off: the bootloader,
    the application image in its slot (`app_image` overrides the description's) and any
    other files the description lists; its GPIO inputs held as the description says."""
    from pybench.device.program import program_factory

    engine = make_engine(engine_name, platform or device.board.platform)
    try:
        program_factory(engine, device, boot=boot, application=app_image)
    except BaseException:
        engine.close()
        raise
    return engine


# --- console -------------------------------------------------------------------------------
def wait_console(engine: Engine, pattern: str, timeout_ns: int | None = None) -> str:
    """Run (host on the wire) until a console line after the mark matches; return it."""
    rx = re.compile(pattern)
    return wait_console_line(engine, lambda line: rx.search(line) is not None,
                             f"console line matching {pattern!r}", timeout_ns)


def wait_console_line(engine: Engine, wanted: Callable[[str], bool], what: str,
                      timeout_ns: int | None = None) -> str:
    b = bench(engine)
    timeout = b.device.board.boot_timeout_ns if timeout_ns is None else timeout_ns
    found: list[str] = []

    def seen() -> bool:  # called again after it was true: must stay true
        if found:
            return True
        lines = engine.uart().lines
        for i in range(b.console_mark, len(lines)):
            if wanted(lines[i]):
                b.console_mark = i + 1
                found.append(lines[i])
                return True
        return False

    if not b.wire.run_until(seen, timeout):
        tail = engine.uart().lines[-5:]
        raise ScenarioError(f"no {what} within {timeout / SECOND:g} s; last lines: {tail}")
    return found[0]


def boot_and_wait(engine: Engine, timeout_ns: int | None = None) -> str:
    """After power-on: wait for the application's ready line."""
    return wait_console(engine, bench(engine).device.console.ready, timeout_ns)


def wait_version(engine: Engine, version: int | None, timeout_ns: int | None = None) -> None:
    """Wait for the line that says version `version` runs (when the description says how
    the version shows), then for the ready line."""
    console = bench(engine).device.console
    if version is not None and console.version:
        wait_console_line(engine, lambda line: console.version_of(line) == version,
                          f"console line saying version {version} runs "
                          f"({console.version!r})", timeout_ns)
    boot_and_wait(engine, timeout_ns)


# --- network -------------------------------------------------------------------------------
def ping(engine: Engine, count: int = 1, size: int = 32,
         timeout_ns: int = SECOND) -> list[int]:
    """ICMP echo `count` times; the round trips in virtual ns. ScenarioError on a loss."""
    b = bench(engine)
    rtts = []
    ident = b.host.rng.randrange(1, 0x10000)
    target = b.device_ip
    for seq in range(1, count + 1):
        probe = b.host.ping(target, ident, seq, bytes(i & 0xFF for i in range(size)))
        if not b.wire.run_until(lambda p=probe: p.rtt_ns is not None, timeout_ns):
            raise ScenarioError(f"ping {target} seq {seq}: no reply within "
                                f"{timeout_ns / SECOND:g} s")
        assert probe.rtt_ns is not None
        rtts.append(probe.rtt_ns)
    return rtts


def http_port(device: Device) -> int:
    return device.transports.http.port if device.transports.http else 80


def http_request(engine: Engine, method: str, path: str, body: bytes = b"",
                 headers: dict[str, str] | None = None,
                 timeout_ns: int = REQUEST_TIMEOUT_NS) -> HttpResponse:
    b = bench(engine)
    return http_exchange(engine, build_request(method, path, b.device_ip, body, headers),
                         timeout_ns)


def http_exchange(engine: Engine, request: bytes,
                  timeout_ns: int = REQUEST_TIMEOUT_NS) -> HttpResponse:
    """Send request bytes as they are (well-formed or not) and parse the response."""
    b = bench(engine)
    exchange = HttpExchange(b.host, b.device_ip, http_port(b.device), request)
    what = request.split(b"\r\n", 1)[0].decode("latin-1")[:60]
    if not b.wire.run_until(lambda: exchange.done, timeout_ns):
        raise ScenarioError(f"{what!r}: no response within {timeout_ns / SECOND:g} s")
    try:
        response = exchange.result()
    except HttpError as e:
        raise ScenarioError(f"{what!r}: {e}") from None
    # Let the close finish so the device frees the connection before the next request.
    b.wire.run_until(lambda: exchange.conn.closed, SECOND)
    return response


def http_json(engine: Engine, path: str) -> dict[str, Any]:
    """GET a JSON object (a status endpoint, say), parsed."""
    response = http_request(engine, "GET", path)
    if response.status != 200:
        raise ScenarioError(f"GET {path}: {response.status} {response.text.strip()}")
    try:
        value = json.loads(response.body)
    except ValueError as e:
        raise ScenarioError(f"GET {path}: not JSON ({e}): {response.text[:80]!r}") from None
    if not isinstance(value, dict):
        raise ScenarioError(f"GET {path}: expected a JSON object, got {response.text[:80]!r}")
    return value


def probe_version(engine: Engine) -> int | None:
    """The version the device's HTTP probe reports (None: the description has no probe).
    ScenarioError when the probe's answer names no version."""
    probe = bench(engine).device.oracle.probe
    if probe is None:
        return None
    response = http_request(engine, "GET", probe.path)
    version = probe.version_of(response.text)
    if version is None:
        raise ScenarioError(f"GET {probe.path}: {response.status}, no version in "
                            f"{response.text.strip()[:80]!r}")
    return version


def http_step(engine: Engine, step: HttpStep, timeout_ns: int = REQUEST_TIMEOUT_NS
              ) -> HttpResponse:
    """One request of a description (no image): its form fields, checked against what it
    accepts. ScenarioError when the device answered otherwise."""
    from urllib.parse import urlencode

    body = urlencode(step.form).encode() if step.form else b""
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if step.form else None
    response = http_request(engine, step.method, step.path, body, headers, timeout_ns)
    if response.status not in step.accept_status or (
            step.accept_text and not re.search(step.accept_text, response.text)):
        raise ScenarioError(f"{step.method} {step.path}: answered {response.status} "
                            f"{response.text.strip()[:80]!r}")
    return response


def restart(engine: Engine, via: str) -> str:
    """Restart the device after an upload, the way its description says; a line saying
    how. ScenarioError when the device did not take the request."""
    b = bench(engine)
    how = b.device.restart_for(via)
    if how.kind is RestartKind.HTTP:
        assert how.request is not None
        response = http_step(engine, how.request)
        return f"{how.request.method} {how.request.path}: {response.status}"
    if how.kind is RestartKind.CONSOLE:
        assert how.line is not None
        # The line may be the one that said the upload was staged: look from the upload on.
        rx = re.compile(how.line)
        lines = engine.uart().lines
        for line in lines[int(b.host.apps.get("upload_mark", b.console_mark)):]:
            if rx.search(line):
                return line
        return wait_console(engine, how.line, STAGING_TIMEOUT_NS)
    engine.power_on()
    return "power cycled"


# --- uploads -------------------------------------------------------------------------------
def upload_transport(device: Device, via: str, mode: str | None = None
                     ) -> HttpTransport | Any:
    """The device's transport for `via`; for HTTP, `mode` ("multipart" or "raw") changes
    how its upload step carries the image."""
    t = device.transports
    transport = t.http if via == "http" else t.tftp if via == "tftp" else None
    if transport is None:
        offered = ", ".join(n for n in t.names if n != "backdoor") or "none"
        raise BenchError(f"--via {via}: {device.name} offers no {via} upload ({device.source};"
                         f" offered: {offered})")
    if mode is not None and isinstance(transport, HttpTransport):
        steps = tuple(replace(s, upload=mode) if s.upload else s for s in transport.steps)
        transport = replace(transport, steps=steps)
    return transport


def start_upload(engine: Engine, image: bytes, via: str = "http", mode: str | None = None,
                 filename: str | None = None) -> Upload:
    """Begin an upload; the host keeps it (host.apps["upload"]) for save()/load()."""
    b = bench(engine)
    b.host.forget_transfers()
    transport = upload_transport(b.device, via, mode)
    if filename is not None:
        if isinstance(transport, HttpTransport):
            steps = tuple(replace(s, filename=filename) if s.upload else s
                          for s in transport.steps)
            transport = replace(transport, steps=steps)
        else:
            transport = replace(transport, filename=filename)
    try:
        up = Upload(b.host, image, server=b.device_ip, transport=transport)
    except ValueError as e:
        raise BenchError(str(e)) from None
    b.host.apps["upload"] = up
    # The device's verdict on this upload comes after this point: lines already printed
    # (a rejection of an abandoned transfer, say) belong to earlier uploads.
    b.host.apps["upload_mark"] = max(b.console_mark, len(engine.uart().lines))
    return up


def _verdict_pattern(device: Device) -> str | None:
    parts = [p for p in (device.console.staged, device.console.refused) if p]
    return "|".join(f"(?:{p})" for p in parts) or None


def finish_upload(engine: Engine, progress: Progress | None = None,
                  timeout_ns: int = UPLOAD_TIMEOUT_NS) -> UploadResult:
    """Run the upload in progress to its end (also after a load() in its middle)."""
    b = bench(engine)
    up = b.host.apps.get("upload")
    if not isinstance(up, Upload):
        raise BenchError("no upload in progress (start_upload first)")
    last = [-1]

    def finished() -> bool:
        current = b.host.apps.get("upload")  # a load() replaces the object
        assert isinstance(current, Upload)
        if progress is not None and current.sent != last[0]:
            last[0] = current.sent
            progress(current.sent, current.total)
        return current.done

    if not b.wire.run_until(finished, timeout_ns):
        current = b.host.apps["upload"]
        return UploadResult(current.via, None, f"no end within {timeout_ns / SECOND:g} s",
                            current.sent, current.total)
    current = b.host.apps["upload"]
    result: UploadResult = current.result()
    # The device says on its console whether it staged the image; for TFTP that is the
    # only way to tell the outcome.
    b.console_mark = max(b.console_mark, int(b.host.apps.get("upload_mark", 0)))
    pattern = _verdict_pattern(b.device)
    if pattern is None:
        return result
    staged_rx = re.compile(b.device.console.staged) if b.device.console.staged else None

    def says_staged(line: str) -> bool | None:
        return bool(staged_rx.search(line)) if staged_rx is not None else None

    if result.status is not None and result.verdict == ACCEPTED:
        try:
            line = wait_console(engine, pattern, STAGING_TIMEOUT_NS)
        except ScenarioError:
            line = ""
        # TFTP has no answer of its own: no "staged" line means not staged.
        staged = says_staged(line) if line or result.via == "tftp" else None
        result = replace(result, staging=line, staged=staged)
    elif result.status is not None:
        # A refusal may or may not have reached the staging writer: take its line when it
        # is there already, without waiting for one that may never come.
        rx = re.compile(pattern)
        lines = engine.uart().lines
        for i in range(b.console_mark, len(lines)):
            if rx.search(lines[i]):
                b.console_mark = i + 1
                result = replace(result, staging=lines[i], staged=says_staged(lines[i]))
                break
    return result


def upload(engine: Engine, image: bytes, via: str = "http", mode: str | None = None,
           progress: Progress | None = None, filename: str | None = None,
           timeout_ns: int = UPLOAD_TIMEOUT_NS) -> UploadResult:
    """Upload an image; the result says what the device answered and printed."""
    start_upload(engine, image, via, mode, filename)
    return finish_upload(engine, progress, timeout_ns)


# --- snapshots -----------------------------------------------------------------------------
def save(engine: Engine) -> tuple[WireSnapshot, int]:
    """Engine, host (uploads in progress included) and console position together."""
    b = bench(engine)
    return b.wire.save(), b.console_mark


def load(engine: Engine, snap: tuple[WireSnapshot, int]) -> None:
    b = bench(engine)
    b.wire.load(snap[0])
    b.console_mark = snap[1]
