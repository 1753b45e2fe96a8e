"""The host stack and the TAP bridge against the Linux kernel, no firmware needed.

A namespace plays the board: a TAP with 192.168.7.2 and the device's MAC, a Python HTTP
server and tftpd-hpa listening there (KernelBoard). Our TCP, HTTP and TFTP clients run
over the virtual wire against that real TCP/IP stack; then curl and tftp-hpa, in a
second namespace with 192.168.7.1, reach it through TapBridge.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sample_device import DEVICE_IP, DEVICE_MAC, HOST_IP, HOST_MAC, sample_host
from scapy.layers.l2 import ARP, Ether

from pybench.net.http import HttpExchange, build_request, multipart_request, raw_request
from pybench.net.kernelboard import KernelBoard
from pybench.net.pcap import PcapRecorder
from pybench.net.tap import Namespace, TapBridge, TapPort, tap_unavailable_reason
from pybench.net.tftp import TftpWriter
from pybench.net.wire import Wire

pytestmark = pytest.mark.tap

SECOND = 1_000_000_000
HERE = Path(__file__).parent
TFTPD = shutil.which("in.tftpd")


def _skip_without_tap() -> None:
    reason = tap_unavailable_reason()
    if reason:
        pytest.skip(reason)


@dataclass
class KernelSide:
    board: KernelBoard
    namespace: Namespace
    tftp_dir: Path | None


def _wait_listening(ns: Namespace, proto: str, port: int, proc: subprocess.Popen[bytes]
                    ) -> None:
    """Poll `ss` until the server listens (set-up, not a timed assertion)."""
    for _ in range(200):
        out = subprocess.run(ns.exec_cmd("ss", "-Hln", f"-{proto}"), capture_output=True,
                             text=True, check=False).stdout
        if f":{port} " in out:
            return
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {proto} port {port}")


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelSide]:
    _skip_without_tap()
    tag = f"{os.getpid() % 100000}"
    procs: list[subprocess.Popen[bytes]] = []
    with Namespace(f"pbdev{tag}") as ns:
        board = KernelBoard(ns, f"pbdev{tag}", f"{DEVICE_IP}/24", DEVICE_MAC)
        try:
            http = subprocess.Popen(ns.exec_cmd(sys.executable, str(HERE / "kernel_http_server.py"),
                                                DEVICE_IP, "80"), stdout=subprocess.PIPE)
            procs.append(http)
            assert http.stdout is not None and http.stdout.readline() == b"ready\n"
            tftp_dir = None
            if TFTPD:
                tftp_dir = tmp_path_factory.mktemp("tftpboot")
                tftp_dir.chmod(0o777)
                tftpd = subprocess.Popen(ns.exec_cmd(TFTPD, "-L", "-c", "-p", "-u", "root",
                                                     "-a", f"{DEVICE_IP}:69", "-s",
                                                     str(tftp_dir)),
                                         stderr=subprocess.DEVNULL)
                procs.append(tftpd)
                _wait_listening(ns, "u", 69, tftpd)
            yield KernelSide(board, ns, tftp_dir)
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
            board.close()


def _image(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _exchange(wire: Wire, request: bytes) -> tuple[int, dict[str, object] | bytes]:
    exchange = HttpExchange(wire.host, DEVICE_IP, 80, request)
    assert wire.run_until(lambda: exchange.done, 20 * SECOND), "no response in 20 s"
    response = exchange.result()
    assert wire.run_until(lambda: exchange.conn.closed, 5 * SECOND)
    if response.headers.get("content-type") == "application/json":
        return response.status, json.loads(response.body)
    return response.status, response.body


def test_ping_and_get_against_the_kernel(kernel: KernelSide, tmp_path: Path) -> None:
    with PcapRecorder(tmp_path / "kernel.pcap") as recorder:
        wire = Wire(kernel.board, sample_host(seed=11), recorder=recorder)
        probe = wire.host.ping(DEVICE_IP, 0x1234, 1, b"x" * 56)
        assert wire.run_until(lambda: probe.rtt_ns is not None, 5 * SECOND)
        status, body = _exchange(wire, build_request("GET", "/", DEVICE_IP))
    assert status == 200 and isinstance(body, bytes) and b"kernel board" in body
    assert recorder.frames > 8


@pytest.mark.parametrize("mode", ["multipart", "raw"])
def test_http_upload_of_an_image_through_our_tcp(kernel: KernelSide, mode: str) -> None:
    data = _image(300_000, seed=len(mode))
    # A seed per case: the same seed reuses the port and ISN of the case before, whose
    # connection the server closed first and still holds in TIME-WAIT.
    wire = Wire(kernel.board, sample_host(seed=12 + len(mode)))
    request = (multipart_request("/update", DEVICE_IP, "app-v2.img", data,
                                 "----WebKitFormBoundary0123456789abcdef")
               if mode == "multipart" else raw_request("/update", DEVICE_IP, data))
    status, info = _exchange(wire, request)
    assert status == 202 and isinstance(info, dict)
    assert info["mode"] == mode and info["size"] == len(data)
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    if mode == "multipart":
        assert (info["filename"], info["field"]) == ("app-v2.img", "image")


@pytest.mark.skipif(TFTPD is None, reason="in.tftpd (tftpd-hpa) not installed")
@pytest.mark.parametrize(("size", "blksize"), [(200_000, 1468), (4096, 512), (1000, None)])
def test_tftp_write_to_tftpd(kernel: KernelSide, size: int, blksize: int | None) -> None:
    assert kernel.tftp_dir is not None
    data = _image(size, seed=size)
    wire = Wire(kernel.board, sample_host(seed=13))
    name = f"image-{size}.img"
    writer = TftpWriter(wire.host, DEVICE_IP, name, data, blksize=blksize)
    writer.start()
    assert wire.run_until(lambda: writer.done, 30 * SECOND)
    writer.check()
    assert writer.blksize == (blksize or 512)
    # tftpd may close the file just after its last ACK: wait for the bytes to land.
    target = kernel.tftp_dir / name
    _wait_for_file(target, size)
    assert target.read_bytes() == data


@pytest.mark.skipif(TFTPD is None, reason="in.tftpd (tftpd-hpa) not installed")
def test_tftp_error_from_tftpd_is_raised(kernel: KernelSide) -> None:
    wire = Wire(kernel.board, sample_host(seed=14))
    writer = TftpWriter(wire.host, DEVICE_IP, "no/such/dir/x.img", b"x" * 10)
    writer.start()
    assert wire.run_until(lambda: writer.done, 10 * SECOND)
    assert writer.error is not None
    # tftpd-hpa answers a missing directory with "File not found" (code 1).
    assert (writer.error.code, writer.error.message) == (1, "File not found")


def _wait_for_file(path: Path, size: int, limit_s: float = 15.0) -> None:
    """tftpd may still be flushing the file after its last ACK: wait for it, bounded."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size == size:
            return
        time.sleep(0.01)


def test_kernel_board_frames_are_taken_without_run(kernel: KernelSide) -> None:
    """A bridge paces a board to the wall clock and may never find this one behind it,
    so never run it: the kernel's answers must come out of take_frames all the same."""
    kernel.board.take_frames()
    request = Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(
        op="who-has", hwsrc=HOST_MAC, psrc=HOST_IP, pdst=DEVICE_IP)
    kernel.board.send_frame(bytes(request))
    replies: list[Ether] = []
    deadline = time.monotonic() + 5
    while not replies and time.monotonic() < deadline:
        kernel.board.port.wait(0.05)
        replies = [Ether(frame) for _, frame in kernel.board.take_frames()
                   if Ether(frame).haslayer(ARP) and Ether(frame)[ARP].op == 2]
    assert replies, "no ARP reply from the kernel in 5 s"
    assert replies[0][ARP].hwsrc == DEVICE_MAC.lower() and replies[0][ARP].psrc == DEVICE_IP


@pytest.fixture
def client_port(kernel: KernelSide) -> Iterator[tuple[Namespace, TapPort]]:
    tag = f"{os.getpid() % 100000}"
    with Namespace(f"pbcli{tag}") as ns:
        port = TapPort(ns, f"pbcli{tag}", f"{HOST_IP}/24", HOST_MAC)
        try:
            yield ns, port
        finally:
            port.close()


def _bridge_until_done(kernel: KernelSide, port: TapPort, cmd: list[str],
                       tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    with PcapRecorder(tmp_path / "bridge.pcap") as recorder:
        bridge = TapBridge(kernel.board, port, recorder=recorder)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert bridge.run(lambda: proc.poll() is not None, timeout_s=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        out, err = proc.communicate()
    assert bridge.frames_in > 0 and bridge.frames_out > 0, (
        f"{cmd[4:]} exited {proc.returncode} with {bridge.frames_in} frames in, "
        f"{bridge.frames_out} out: {err.decode(errors='replace').strip()}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_upload_through_the_bridge(kernel: KernelSide, client_port: tuple[Namespace,
                                        TapPort], tmp_path: Path) -> None:
    ns, port = client_port
    image = tmp_path / "app-v2.img"
    image.write_bytes(_image(150_000, seed=99))
    result = _bridge_until_done(kernel, port, ns.exec_cmd(
        "curl", "-sS", "--max-time", "50", "-F", f"image=@{image}",
        f"http://{DEVICE_IP}/update"), tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    info = json.loads(result.stdout)
    assert info["mode"] == "multipart" and info["filename"] == "app-v2.img"
    assert info["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()


@pytest.mark.skipif(TFTPD is None or shutil.which("tftp") is None,
                    reason="tftp-hpa client and in.tftpd needed")
def test_tftp_client_through_the_bridge(kernel: KernelSide, client_port: tuple[Namespace,
                                        TapPort], tmp_path: Path) -> None:
    assert kernel.tftp_dir is not None
    ns, port = client_port
    image = tmp_path / "app-v3.img"
    image.write_bytes(_image(70_000, seed=3))
    result = _bridge_until_done(kernel, port, ns.exec_cmd(
        "tftp", "-m", "binary", DEVICE_IP, "-c", "put", str(image), "bridged-v3.img"),
        tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    target = kernel.tftp_dir / "bridged-v3.img"
    _wait_for_file(target, 70_000)
    assert target.read_bytes() == image.read_bytes()
