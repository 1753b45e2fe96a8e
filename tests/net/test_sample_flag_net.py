"""The bench's DHCP server and update transports against the sample-flag firmware
(docs/sample-flag.md) in the built-in engine: it gets its address from the host, takes v2
through a login page, a login form, a multipart upload and a reset CGI, then v3 over TFTP
from a server that erases before it acknowledges, and renews its lease at T1.

Skipped until `make firmware` has built build/sample-flag and the engine has GPIO inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from pybench.engine.builtin.engine import BuiltinEngine
from pybench.net.dhcp import DhcpConfig
from pybench.net.host import Host
from pybench.net.transport import HttpStep, HttpTransport, TftpTransport
from pybench.net.upload import ACCEPTED, Upload
from pybench.net.wire import Wire
from pybench.paths import platform_file

SECOND = 1_000_000_000
MAC = "02:00:00:f4:07:02"
CONFIG = DhcpConfig(pool=("10.0.0.50", "10.0.0.60"), router="10.0.0.1", lease_s=20)
LOGIN_AND_UPLOAD = HttpTransport((
    HttpStep("GET", "/", accept_text=r"<form"),
    HttpStep("POST", "/login", form=(("username", "admin"), ("password", "stm32")),
             accept_text="firmware"),
    HttpStep("POST", "/upload.cgi", upload="multipart", field="firmware",
             filename="app-v2.bin", accept_text="Update staged",
             refuse_text="Update refused"),
    HttpStep("GET", "/reset.cgi", accept_text="Resetting"),
))


@pytest.fixture
def board(built: Path) -> BuiltinEngine:
    flag = built / "sample-flag"
    if not (flag / "boot.elf").exists():
        pytest.skip(f"{flag}/boot.elf missing: run `make firmware`")
    engine = BuiltinEngine()
    if not hasattr(engine, "set_input"):
        pytest.skip("the built-in engine has no GPIO inputs yet")
    engine.load_platform(platform_file())
    engine.load_elf(flag / "boot.elf")
    engine.load_elf(flag / "app-v1.elf")
    engine.set_input("PA0", 1)          # the button held: update mode
    engine.power_on()
    return engine


def _console(engine: BuiltinEngine, pattern: str) -> Callable[[], bool]:
    """A wire condition: a console line matching `pattern` (stays true once seen)."""
    rx, start, hit = re.compile(pattern), len(engine.uart().lines), []

    def seen() -> bool:
        if not hit and any(rx.search(line) for line in engine.uart().lines[start:]):
            hit.append(True)
        return bool(hit)
    return seen


def test_dhcp_login_upload_reset_then_tftp(board: BuiltinEngine, built: Path) -> None:
    flag = built / "sample-flag"
    host = Host(ip="10.0.0.1", seed=1, dhcp=CONFIG)
    wire = Wire(board, host)
    try:
        assert wire.run_until(_console(board, r"dhcp bound 10\.0\.0\.50"), 30 * SECOND)
        assert host.dhcp is not None
        address = host.dhcp.address_of(MAC, board.now_ns)
        assert address == "10.0.0.50"

        up = Upload(host, (flag / "app-v2.bin").read_bytes(), server=address,
                    transport=LOGIN_AND_UPLOAD)
        host.apps["upload"] = up
        v2 = _console(board, r"sample-flag v2 \(")
        assert wire.run_until(lambda: host.apps["upload"].done, 120 * SECOND)
        result = up.result()
        assert result.verdict == ACCEPTED, result
        assert result.reason.startswith("Update staged")
        assert [s.label for s in result.steps if s.ok] == [
            "GET /", "POST /login", "POST /upload.cgi", "GET /reset.cgi"]
        assert wire.run_until(v2, 30 * SECOND), board.uart().lines[-6:]

        assert wire.run_until(_console(board, r"dhcp bound"), 30 * SECOND)
        up = Upload(host, (flag / "app-v3.bin").read_bytes(), server=address,
                    transport=TftpTransport(filename="app-v3.bin"))
        host.apps["upload"] = up
        v3 = _console(board, r"sample-flag v3 \(")
        assert wire.run_until(lambda: host.apps["upload"].done, 120 * SECOND)
        assert up.result().verdict == ACCEPTED, up.result()
        assert up.tftp is not None and up.tftp.stray_answers == 0
        assert wire.run_until(v3, 30 * SECOND), board.uart().lines[-6:]

        # Lease 20 s, T1 10 s: a renewal (the device ARPs for us first and sends its
        # REQUEST on its next 4 s tick), the same address.
        assert wire.run_until(_console(board, r"dhcp bound"), 30 * SECOND)
        def acks() -> int:
            return len([line for line in host.dhcp.log if line.startswith("ACK")])
        bound_acks, bound_ns = acks(), board.now_ns
        assert wire.run_until(lambda: acks() > bound_acks, 18 * SECOND)
        assert board.now_ns - bound_ns >= 10 * SECOND
        assert host.dhcp.address_of(MAC, board.now_ns) == address
        assert not any("lease lost" in line for line in board.uart().lines)
    finally:
        board.close()
