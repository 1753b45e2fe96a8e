"""Real clients against the emulated board through the TAP bridge (root or CAP_NET_ADMIN).

curl uploads with a form (-F), tftp-hpa puts an image, both from a network namespace the
test creates, through TapBridge to the firmware running in the built-in engine; the
board then reboots into the new version. Traffic stays inside that namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sample_device import DEVICE_IP, HOST_IP, HOST_MAC, SAMPLE

from pybench.net import scenarios as sc
from pybench.net.tap import Namespace, TapBridge, TapPort, tap_unavailable_reason

pytestmark = pytest.mark.tap


@pytest.fixture
def board(built: Path) -> Iterator[object]:
    reason = tap_unavailable_reason()
    if reason:
        pytest.skip(reason)
    engine = sc.create_board("builtin", SAMPLE)
    sc.attach(engine, SAMPLE)
    engine.power_on()
    sc.boot_and_wait(engine)
    sc.detach(engine)   # from here on the TAP is the only thing on the wire
    yield engine
    engine.close()


@pytest.fixture
def port() -> Iterator[tuple[Namespace, TapPort]]:
    tag = f"{os.getpid() % 100000}"
    with Namespace(f"pbcurl{tag}") as ns:
        tap = TapPort(ns, f"pbcurl{tag}", f"{HOST_IP}/24", HOST_MAC)
        try:
            yield ns, tap
        finally:
            tap.close()


def _through_bridge(engine: object, tap: TapPort, cmd: list[str]
                    ) -> subprocess.CompletedProcess[bytes]:
    bridge = TapBridge(engine, tap)  # type: ignore[arg-type]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        finished = bridge.run(lambda: proc.poll() is not None, timeout_s=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = proc.communicate()
    assert finished, f"{cmd[-1]}: no end within 120 s; stderr {err.decode()!r}"
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _reboot_into(engine: object, tap: TapPort, ns: Namespace, version: int) -> None:
    result = _through_bridge(engine, tap, ns.exec_cmd(
        "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
        f"http://{DEVICE_IP}/reboot"))
    assert result.stdout == b"202", result.stderr.decode()
    sc.wait_version(engine, version)  # type: ignore[arg-type]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_form_upload_then_reboot_into_v2(board: object, port: tuple[Namespace, TapPort],
                                              built: Path) -> None:
    ns, tap = port
    page = _through_bridge(board, tap, ns.exec_cmd("curl", "-sS", f"http://{DEVICE_IP}/"))
    assert page.returncode == 0 and b'type="file"' in page.stdout
    up = _through_bridge(board, tap, ns.exec_cmd(
        "curl", "-sS", "-w", "\n%{http_code}", "-F", f"image=@{built / 'app-v2.img'}",
        f"http://{DEVICE_IP}/update"))
    assert up.returncode == 0, up.stderr.decode()
    assert up.stdout.rsplit(b"\n", 1)[-1] == b"202", up.stdout
    status = _through_bridge(board, tap, ns.exec_cmd("curl", "-sS",
                                                      f"http://{DEVICE_IP}/status"))
    journal = json.loads(status.stdout)["journal"]
    assert (journal["state"], journal["image_version"]) == ("STAGED", 2), journal
    _reboot_into(board, tap, ns, 2)


@pytest.mark.skipif(shutil.which("tftp") is None or shutil.which("curl") is None,
                    reason="tftp-hpa and curl needed")
def test_tftp_put_then_reboot_into_v3(board: object, port: tuple[Namespace, TapPort],
                                      built: Path) -> None:
    ns, tap = port
    put = _through_bridge(board, tap, ns.exec_cmd(
        "tftp", "-m", "binary", DEVICE_IP, "-c", "put", str(built / "app-v3.img"),
        "app-v3.img"))
    assert put.returncode == 0 and b"Error" not in put.stdout + put.stderr, put
    _reboot_into(board, tap, ns, 3)
