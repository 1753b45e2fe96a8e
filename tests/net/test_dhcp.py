"""The DHCP server: scapy-built client messages in, replies checked field by field; a
device that gets its address and renews it over the wire in virtual time; NAKs; the
same sequence giving the same addresses."""

from __future__ import annotations

import re

import pytest
from netfakes import DhcpClientPeer, FakeEngine
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from pybench.net.dhcp import DhcpConfig, DhcpServer, dhcp_options
from pybench.net.host import Host
from pybench.net.wire import Wire

SECOND = 1_000_000_000
SERVER_IP, SERVER_MAC = "10.20.0.1", "02:00:00:00:00:01"
CONFIG = DhcpConfig(pool=("10.20.0.100", "10.20.0.102"), netmask="255.255.255.0",
                    router="10.20.0.1", dns=("10.20.0.53",), lease_s=600)
MAC_A, MAC_B = "02:00:00:aa:00:01", "02:00:00:bb:00:02"


def _msg(mac: str, kind: str, xid: int = 7, ciaddr: str = "0.0.0.0", flags: int = 0,
         **options: str) -> Ether:
    src = ciaddr if ciaddr != "0.0.0.0" else "0.0.0.0"
    dst = SERVER_IP if ciaddr != "0.0.0.0" else "255.255.255.255"
    opts = [("message-type", kind), *((k, v) for k, v in options.items()), "end"]
    return Ether(bytes(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src=src, dst=dst)
                       / UDP(sport=68, dport=67)
                       / BOOTP(op=1, xid=xid, ciaddr=ciaddr, flags=flags,
                               chaddr=bytes.fromhex(mac.replace(":", "")))
                       / DHCP(options=opts)))


def _one(replies: list) -> tuple[Ether, dict[str, object]]:
    assert len(replies) == 1
    frame = Ether(bytes(replies[0]))
    return frame, dhcp_options(frame)


def _server() -> DhcpServer:
    return DhcpServer(CONFIG, SERVER_IP, SERVER_MAC)


def _lease(server: DhcpServer, mac: str, now: int = 0, xid: int = 7) -> str:
    frame, _ = _one(server.handle(_msg(mac, "discover", xid), now))
    ip = str(frame[BOOTP].yiaddr)
    _, ack = _one(server.handle(_msg(mac, "request", xid, server_id=SERVER_IP,
                                     requested_addr=ip), now))
    assert ack["message-type"] == 5
    return ip


def test_discover_offer_request_ack() -> None:
    server = _server()
    frame, offer = _one(server.handle(_msg(MAC_A, "discover", xid=0xBEEF), 0))
    bootp = frame[BOOTP]
    assert (bootp.op, bootp.xid, str(bootp.yiaddr)) == (2, 0xBEEF, "10.20.0.100")
    assert offer == {"message-type": 2, "server_id": SERVER_IP, "lease_time": 600,
                     "renewal_time": 300, "rebinding_time": 525,
                     "subnet_mask": "255.255.255.0", "router": "10.20.0.1",
                     "name_server": "10.20.0.53"}
    # No broadcast flag: to the offered address at the client's MAC, from port 67 to 68.
    assert (frame.dst, frame[IP].dst, frame[IP].src) == (MAC_A, "10.20.0.100", SERVER_IP)
    assert (frame[UDP].sport, frame[UDP].dport) == (67, 68)
    frame, ack = _one(server.handle(_msg(MAC_A, "request", xid=0xBEEF, server_id=SERVER_IP,
                                         requested_addr="10.20.0.100"), SECOND))
    assert ack["message-type"] == 5 and str(frame[BOOTP].yiaddr) == "10.20.0.100"
    assert server.address_of(MAC_A, 2 * SECOND) == "10.20.0.100"
    assert server.address_of(MAC_A, 601 * SECOND) is None      # the lease ran out


def test_broadcast_flag_gets_a_broadcast_reply() -> None:
    frame, _ = _one(_server().handle(_msg(MAC_A, "discover", flags=0x8000), 0))
    assert (frame.dst, frame[IP].dst) == ("ff:ff:ff:ff:ff:ff", "255.255.255.255")


def test_same_sequence_same_addresses_and_the_pool_runs_out() -> None:
    macs = [f"02:00:00:00:10:{i:02x}" for i in range(4)]
    first = [_lease(_server(), m) for m in macs[:1]]
    server = _server()
    got = [_lease(server, m) for m in macs[:3]]
    assert got == ["10.20.0.100", "10.20.0.101", "10.20.0.102"] and first == got[:1]
    again = _server()
    assert [_lease(again, m) for m in macs[:3]] == got
    assert server.handle(_msg(macs[3], "discover"), 0) == []
    assert server.log[-1].endswith("pool exhausted, no offer")
    # A device that comes back gets its address again.
    assert _lease(server, macs[1], 10 * SECOND) == "10.20.0.101"


def test_requested_address_is_given_when_free() -> None:
    server = _server()
    frame, _ = _one(server.handle(_msg(MAC_A, "discover", requested_addr="10.20.0.102"), 0))
    assert str(frame[BOOTP].yiaddr) == "10.20.0.102"


def test_nak_for_an_address_not_offered_or_not_ours_or_taken() -> None:
    server = _server()
    server.handle(_msg(MAC_A, "discover"), 0)
    frame, nak = _one(server.handle(_msg(MAC_A, "request", server_id=SERVER_IP,
                                         requested_addr="10.20.0.101"), 0))
    assert nak["message-type"] == 6 and nak["server_id"] == SERVER_IP
    assert (frame.dst, frame[IP].dst) == ("ff:ff:ff:ff:ff:ff", "255.255.255.255")
    assert "10.20.0.101 was not offered" in server.log[-1]
    # INIT-REBOOT with an address of another network, and with one another MAC holds.
    _, nak = _one(server.handle(_msg(MAC_B, "request", requested_addr="192.168.7.2"), 0))
    assert nak["message-type"] == 6
    _lease(server, MAC_A)
    _, nak = _one(server.handle(_msg(MAC_B, "request", requested_addr="10.20.0.100"), 0))
    assert nak["message-type"] == 6
    # A request answering another server's offer gets no answer and frees ours.
    server.handle(_msg(MAC_B, "discover"), 0)
    assert server.handle(_msg(MAC_B, "request", server_id="10.20.0.2",
                              requested_addr="10.20.0.50"), 0) == []
    assert MAC_B not in server.leases


def test_renewal_extends_and_a_renewal_of_a_taken_address_is_refused() -> None:
    server = _server()
    ip = _lease(server, MAC_A)
    frame, ack = _one(server.handle(_msg(MAC_A, "request", ciaddr=ip), 300 * SECOND))
    assert ack["message-type"] == 5 and (frame.dst, frame[IP].dst) == (MAC_A, ip)
    assert server.address_of(MAC_A, 800 * SECOND) == ip        # 300 s + 600 s now
    # Expired, and since given to another device: the old holder's renewal gets a NAK.
    assert _lease(server, MAC_B, 1000 * SECOND) == ip
    _, nak = _one(server.handle(_msg(MAC_A, "request", ciaddr=ip), 1001 * SECOND))
    assert nak["message-type"] == 6


def test_release_and_decline() -> None:
    server = _server()
    ip = _lease(server, MAC_A)
    assert server.handle(_msg(MAC_A, "release", ciaddr=ip), SECOND) == []
    assert server.address_of(MAC_A, SECOND) is None
    ip = _lease(server, MAC_B)
    server.handle(_msg(MAC_B, "decline", requested_addr=ip), SECOND)
    assert _lease(server, MAC_B, SECOND) != ip                 # never handed out again


def test_reservation_goes_to_its_mac_only() -> None:
    config = DhcpConfig(pool=("10.20.0.100", "10.20.0.101"),
                        reserved=((MAC_B, "10.20.0.100"),))
    server = DhcpServer(config, SERVER_IP, SERVER_MAC)
    assert _lease(server, MAC_A) == "10.20.0.101"
    assert _lease(server, MAC_B) == "10.20.0.100"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"pool": ("10.0.0.9", "10.0.0.1")}, "first after last"),
    ({"pool": ("10.0.0.1", "10.0.1.1")}, "pool 10.0.1.1: not in 10.0.0.0/24"),
    ({"pool": ("10.0.0.1", "x")}, "pool 'x': not an IPv4 address"),
    ({"pool": ("10.0.0.1", "10.0.0.5"), "router": "10.9.0.1"}, "router 10.9.0.1"),
    ({"pool": ("10.0.0.1", "10.0.0.5"), "renewal_s": 3200}, "renewal (3200 s)"),
    ({"pool": ("10.0.0.1", "10.0.0.5"), "netmask": "255.0.255.0"}, "not a netmask"),
])
def test_config_mistakes_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        DhcpConfig(**kwargs)


def test_server_address_must_be_outside_the_pool() -> None:
    with pytest.raises(ValueError, match="inside the pool"):
        DhcpServer(CONFIG, "10.20.0.101", SERVER_MAC)


def test_device_gets_its_address_from_the_host_and_renews_in_virtual_time() -> None:
    client = DhcpClientPeer()
    engine = FakeEngine(client)
    for delay, frame in client.start():
        engine.emit(frame, delay)
    host = Host(ip=SERVER_IP, seed=3, dhcp=CONFIG)
    wire = Wire(engine, host)
    assert wire.run_until(lambda: client.address is not None, 5 * SECOND)
    assert client.address == "10.20.0.100" and client.server == SERVER_IP
    probe = host.ping(client.address, 1, 1, b"hi")
    assert wire.run_until(lambda: probe.rtt_ns is not None, SECOND)
    wire.run_for(1000 * SECOND)
    kinds = [(round(t / SECOND), kind) for t, kind, _ in client.events]
    assert kinds == [(0, "offer"), (0, "ack"), (300, "ack"), (600, "ack"), (900, "ack")]
    assert host.dhcp is not None and host.dhcp.address_of(client.mac, wire.engine.now_ns) \
        == "10.20.0.100"


def test_host_snapshot_carries_the_leases_and_forget_keeps_them() -> None:
    host = Host(ip=SERVER_IP, dhcp=CONFIG)
    assert host.dhcp is not None
    host.receive(bytes(_msg(MAC_A, "discover")), 0)
    saved = host.save()
    host.receive(bytes(_msg(MAC_A, "request", server_id=SERVER_IP,
                            requested_addr="10.20.0.100")), 0)
    host.forget_transfers()
    assert host.dhcp.address_of(MAC_A, 0) == "10.20.0.100"
    host.load(saved)
    assert host.dhcp.address_of(MAC_A, 0) is None and not host.dhcp.leases[MAC_A].bound
