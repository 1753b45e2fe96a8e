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

from pybench import layout
from pybench.engine.base import Engine
from pybench.errors import BenchError
from pybench.net.host import DEVICE_IP, Host
from pybench.net.http import HttpError, HttpExchange, HttpResponse, build_request
from pybench.net.pcap import PcapRecorder
from pybench.net.upload import ACCEPTED, Upload, UploadResult
from pybench.net.wire import Wire, WireSnapshot

SECOND = 1_000_000_000
BOOT_TIMEOUT_NS = 20 * SECOND
UPLOAD_TIMEOUT_NS = 300 * SECOND
REQUEST_TIMEOUT_NS = 20 * SECOND
STAGING_TIMEOUT_NS = 30 * SECOND

NET_UP = r"^net: up\b"
STAGING_DONE = r"^staging: (staged v\d+|rejected: )"
STAGED = "staging: staged"

Progress = Callable[[int, int], None]


class ScenarioError(BenchError):
    """The board did not do what the scenario waited for; the message says what it did."""


@dataclass
class Bench:
    """An engine with the bench's host on its wire, and the console position."""

    engine: Engine
    wire: Wire
    recorder: PcapRecorder | None = None
    console_mark: int = 0

    @property
    def host(self) -> Host:
        return self.wire.host


_benches: weakref.WeakKeyDictionary[Engine, Bench] = weakref.WeakKeyDictionary()


def attach(engine: Engine, seed: int = 0, pcap: Path | None = None) -> Bench:
    """Put a fresh host (seeded) on the engine's wire, recording to `pcap` when given."""
    detach(engine)
    recorder = PcapRecorder(pcap) if pcap else None
    b = Bench(engine, Wire(engine, Host(seed=seed), recorder), recorder)
    _benches[engine] = b
    return b


def bench(engine: Engine) -> Bench:
    """The host attached to this engine (attached now, unrecorded, when there is none).

    The host's clock is brought up to the board's first: the board may have run without
    the host (engine.run() called directly), and what the host sends now is sent now."""
    found = _benches.get(engine)
    b = found if found is not None else attach(engine)
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


def read_image(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise BenchError(f"{path}: cannot read the image: {e.strerror}") from None


def create_board(engine_name: str, boot: Path, app_image: Path | None,
                 platform: Path) -> Engine:
    """A board with the bootloader ELF and the application image in its slot, powered off."""
    if not boot.is_file():
        raise BenchError(f"{boot}: bootloader ELF not found (run `make firmware`)")
    app = read_image(app_image) if app_image else None
    engine = make_engine(engine_name, platform)
    try:
        engine.load_elf(boot)
        if app is not None:
            engine.write_flash(layout.load().APP_SLOT_ADDR, app)
    except BaseException:
        engine.close()
        raise
    return engine


# --- console -------------------------------------------------------------------------------
def wait_console(engine: Engine, pattern: str, timeout_ns: int = BOOT_TIMEOUT_NS) -> str:
    """Run (host on the wire) until a console line after the mark matches; return it."""
    b = bench(engine)
    rx = re.compile(pattern)
    found: list[str] = []

    def seen() -> bool:  # called again after it was true: must stay true
        if found:
            return True
        lines = engine.uart().lines
        for i in range(b.console_mark, len(lines)):
            if rx.search(lines[i]):
                b.console_mark = i + 1
                found.append(lines[i])
                return True
        return False

    if not b.wire.run_until(seen, timeout_ns):
        tail = engine.uart().lines[-5:]
        raise ScenarioError(f"no console line matching {pattern!r} within "
                            f"{timeout_ns / SECOND:g} s; last lines: {tail}")
    return found[0]


def boot_and_wait(engine: Engine, timeout_ns: int = BOOT_TIMEOUT_NS) -> str:
    """After power-on: wait for the application's "net: up" line."""
    return wait_console(engine, NET_UP, timeout_ns)


def wait_version(engine: Engine, version: int, timeout_ns: int = BOOT_TIMEOUT_NS) -> None:
    """Wait for "app: firmware v<version>" and then for its "net: up"."""
    wait_console(engine, rf"^app: firmware v{version}\b", timeout_ns)
    boot_and_wait(engine, timeout_ns)


# --- network -------------------------------------------------------------------------------
def ping(engine: Engine, count: int = 1, size: int = 32,
         timeout_ns: int = SECOND) -> list[int]:
    """ICMP echo `count` times; the round trips in virtual ns. ScenarioError on a loss."""
    b = bench(engine)
    rtts = []
    ident = b.host.rng.randrange(1, 0x10000)
    for seq in range(1, count + 1):
        probe = b.host.ping(DEVICE_IP, ident, seq, bytes(i & 0xFF for i in range(size)))
        if not b.wire.run_until(lambda p=probe: p.rtt_ns is not None, timeout_ns):
            raise ScenarioError(f"ping {DEVICE_IP} seq {seq}: no reply within "
                                f"{timeout_ns / SECOND:g} s")
        assert probe.rtt_ns is not None
        rtts.append(probe.rtt_ns)
    return rtts


def http_request(engine: Engine, method: str, path: str, body: bytes = b"",
                 headers: dict[str, str] | None = None,
                 timeout_ns: int = REQUEST_TIMEOUT_NS) -> HttpResponse:
    return http_exchange(engine, build_request(method, path, DEVICE_IP, body, headers),
                         timeout_ns)


def http_exchange(engine: Engine, request: bytes,
                  timeout_ns: int = REQUEST_TIMEOUT_NS) -> HttpResponse:
    """Send request bytes as they are (well-formed or not) and parse the response."""
    b = bench(engine)
    exchange = HttpExchange(b.host, DEVICE_IP, 80, request)
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


def status(engine: Engine) -> dict[str, Any]:
    """GET /status, parsed."""
    response = http_request(engine, "GET", "/status")
    if response.status != 200:
        raise ScenarioError(f"GET /status: {response.status} {response.text.strip()}")
    try:
        value = json.loads(response.body)
    except ValueError as e:
        raise ScenarioError(f"GET /status: not JSON ({e}): {response.text[:80]!r}") from None
    if not isinstance(value, dict):
        raise ScenarioError(f"GET /status: expected a JSON object, got {response.text[:80]!r}")
    return value


def reboot(engine: Engine) -> int:
    """POST /reboot; the HTTP status (202 when the device accepted)."""
    return http_request(engine, "POST", "/reboot").status


# --- uploads -------------------------------------------------------------------------------
def start_upload(engine: Engine, image: bytes, via: str = "http", mode: str = "multipart",
                 filename: str = "image.img") -> Upload:
    """Begin an upload; the host keeps it (host.apps["upload"]) for save()/load()."""
    b = bench(engine)
    b.host.forget_transfers()
    try:
        up = Upload(b.host, image, server=DEVICE_IP, via=via, mode=mode, filename=filename)
    except ValueError as e:
        raise BenchError(str(e)) from None
    b.host.apps["upload"] = up
    # The staging writer's verdict on this upload comes after this point: lines already
    # printed (a rejection of an abandoned transfer, say) belong to earlier uploads.
    b.host.apps["upload_mark"] = max(b.console_mark, len(engine.uart().lines))
    return up


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
    # The staging writer checks the digest once the last byte is in, and says so on the
    # console; TFTP has no other way to tell the outcome.
    b.console_mark = max(b.console_mark, int(b.host.apps.get("upload_mark", 0)))
    if result.status is not None and (result.via == "tftp" or result.verdict == ACCEPTED):
        try:
            line = wait_console(engine, STAGING_DONE, STAGING_TIMEOUT_NS)
        except ScenarioError:
            line = ""
        # TFTP has no answer of its own: no "staged" line means not staged.
        staged = line.startswith(STAGED) if line or result.via == "tftp" else None
        result = replace(result, staging=line, staged=staged)
    elif result.status is not None:
        # A refusal may or may not have reached the staging writer: take its line when it
        # is there already, without waiting for one that may never come.
        rx = re.compile(STAGING_DONE)
        lines = engine.uart().lines
        for i in range(b.console_mark, len(lines)):
            if rx.search(lines[i]):
                b.console_mark = i + 1
                result = replace(result, staging=lines[i],
                                 staged=lines[i].startswith(STAGED))
                break
    return result


def upload(engine: Engine, image: bytes, via: str = "http", mode: str = "multipart",
           progress: Progress | None = None, filename: str = "image.img",
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
