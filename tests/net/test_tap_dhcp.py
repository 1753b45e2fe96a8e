"""DHCP with real peers (root or CAP_NET_ADMIN): busybox's udhcpc in a namespace gets its
address from the bench's host over the wire, and a board on the TAP bridge gets its
address from the bridge and then answers a ping from the namespace."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from netfakes import DhcpClientPeer, FakeEngine
from sample_device import DEVICE_MAC, HOST_MAC

from pybench.net.dhcp import DhcpConfig, DhcpServer
from pybench.net.host import Host
from pybench.net.kernelboard import KernelBoard
from pybench.net.tap import Namespace, TapBridge, TapPort, tap_unavailable_reason
from pybench.net.wire import Wire

pytestmark = pytest.mark.tap

SECOND = 1_000_000_000
SERVER_IP = "10.20.0.1"
CONFIG = DhcpConfig(pool=("10.20.0.100", "10.20.0.110"), router=SERVER_IP, lease_s=600)
UDHCPC = shutil.which("udhcpc")

# udhcpc calls this with the lease in its environment: configure the address, keep a copy.
SCRIPT = """#!/bin/sh
env | grep -E '^(ip|subnet|router|lease|serverid)=' | sort > "$LEASE_FILE.$1"
[ "$1" = bound ] && ip addr add "$ip/$mask" dev "$interface"
exit 0
"""

PING = """import sys
from scapy.layers.inet import ICMP, IP
from scapy.sendrecv import sr1
reply = sr1(IP(dst=sys.argv[1]) / ICMP(id=7, seq=1) / b"bridge", timeout=5, verbose=0)
print(reply.summary() if reply else "no reply")
sys.exit(0 if reply is not None and reply[ICMP].type == 0 else 1)
"""


@pytest.fixture
def namespace() -> Iterator[Namespace]:
    reason = tap_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with Namespace(f"pbdhcp{os.getpid() % 100000}") as ns:
        yield ns


@pytest.mark.skipif(UDHCPC is None, reason="udhcpc not installed (apt-get install udhcpc)")
def test_udhcpc_gets_its_address_from_the_host(namespace: Namespace, tmp_path: Path) -> None:
    assert UDHCPC is not None
    script = tmp_path / "udhcpc.sh"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    ifname = f"pbdh{os.getpid() % 100000}"
    board = KernelBoard(namespace, ifname, address=None, mac=DEVICE_MAC)
    try:
        wire = Wire(board, Host(ip=SERVER_IP, seed=5, dhcp=CONFIG))
        lease = tmp_path / "lease"
        proc = subprocess.Popen(
            namespace.exec_cmd("env", f"LEASE_FILE={lease}", UDHCPC, "-f", "-q", "-n",
                               "-t", "5", "-T", "1", "-i", ifname, "-s", str(script)),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            assert wire.run_until(lambda: proc.poll() is not None, 30 * SECOND)
        finally:
            if proc.poll() is None:
                proc.kill()
        out = proc.communicate()[0].decode(errors="replace")
        assert proc.returncode == 0, out
        got = dict(line.split("=", 1) for line in
                   Path(f"{lease}.bound").read_text().splitlines())
        assert got == {"ip": "10.20.0.100", "subnet": "255.255.255.0", "router": SERVER_IP,
                       "lease": "600", "serverid": SERVER_IP}
        addrs = subprocess.run(namespace.exec_cmd("ip", "-4", "-o", "addr", "show", ifname),
                               capture_output=True, text=True, check=True).stdout
        assert "10.20.0.100/24" in addrs
        # The kernel now answers at its new address.
        probe = wire.host.ping("10.20.0.100", 0x77, 1, b"dhcp")
        assert wire.run_until(lambda: probe.rtt_ns is not None, 5 * SECOND)
        assert wire.host.dhcp is not None
        assert wire.host.dhcp.address_of(DEVICE_MAC, wire.engine.now_ns) == "10.20.0.100"
    finally:
        board.close()


def test_board_on_the_bridge_gets_its_address_and_answers_ping(namespace: Namespace) -> None:
    client = DhcpClientPeer(renew=False)
    engine = FakeEngine(client)
    for delay, frame in client.start():
        engine.emit(frame, delay)
    port = TapPort(namespace, f"pbbr{os.getpid() % 100000}", f"{SERVER_IP}/24", HOST_MAC)
    try:
        bridge = TapBridge(engine, port, dhcp=DhcpServer(CONFIG, SERVER_IP, HOST_MAC))
        assert bridge.run(lambda: client.address is not None, timeout_s=10)
        assert client.address == "10.20.0.100" and bridge.dhcp_frames == 2
        # No ping(8) needed: scapy's sr1 from inside the namespace, through its kernel.
        proc = subprocess.Popen(namespace.exec_cmd(sys.executable, "-c", PING,
                                                   client.address),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            assert bridge.run(lambda: proc.poll() is not None, timeout_s=20)
        finally:
            if proc.poll() is None:
                proc.kill()
        out = proc.communicate()[0].decode(errors="replace")
        assert proc.returncode == 0, out
    finally:
        port.close()


def test_pybench_bridge_serves_dhcp_to_a_dhcp_device(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    """`pybench bridge` with the second sample device (DHCP): the bridge answers its
    requests from the description's pool and says what it leased."""
    from pybench.cli import main

    reason = tap_unavailable_reason()
    if reason:
        pytest.skip(reason)
    flag = Path(__file__).resolve().parents[2] / "devices" / "sample-flag.toml"
    code = main(["bridge", "--device", str(flag), "--netns", f"pbdh{os.getpid() % 10000}",
                 "--duration", "15"])
    out = capsys.readouterr().out
    assert code == 0, out
    from pybench.device.load import load_device

    pool = load_device(flag).network.dhcp
    assert pool is not None
    last = out.strip().splitlines()[-1]
    leased = last.split("leased ", 1)[1].split(" to ")[0]
    assert ipaddress.IPv4Address(pool.pool_start) <= ipaddress.IPv4Address(leased) \
        <= ipaddress.IPv4Address(pool.pool_end), last
