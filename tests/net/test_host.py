"""ARP, ping and UDP of the host; pcap recording of the wire."""

from __future__ import annotations

from pathlib import Path

from netfakes import FakeEngine, arp_reply, device_frame
from sample_device import DEVICE_IP, DEVICE_MAC, HOST_IP, HOST_MAC, sample_host
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.utils import rdpcap

from pybench.net.pcap import PcapRecorder
from pybench.net.wire import Wire

MS = 1_000_000


def _echo_peer(frame: bytes, now: int) -> list[tuple[int, bytes]]:
    arp = arp_reply(frame)
    if arp is not None:
        return arp
    pkt = Ether(frame)
    if ICMP in pkt and pkt[ICMP].type == 8:
        return [(3 * MS, device_frame(IP(src=DEVICE_IP, dst=pkt[IP].src)
                                      / ICMP(type=0, id=pkt[ICMP].id, seq=pkt[ICMP].seq)
                                      / Raw(bytes(pkt[ICMP].payload))))]
    return []


def test_ping_resolves_arp_then_measures_rtt_in_virtual_time() -> None:
    engine = FakeEngine(_echo_peer)
    wire = Wire(engine, sample_host())
    probe = wire.host.ping(DEVICE_IP, ident=0x42, seq=1, payload=b"abc")
    assert wire.run_until(lambda: probe.rtt_ns is not None, 100 * MS)
    # 10 us for the ARP reply, then 3 ms for the echo, counted from the ping call.
    assert probe.rtt_ns == 3 * MS + 10_000
    assert wire.host.arp_cache[DEVICE_IP] == DEVICE_MAC
    first = Ether(engine.received[0][1])
    assert ARP in first and first.dst == "ff:ff:ff:ff:ff:ff" and first[ARP].pdst == DEVICE_IP
    second = wire.host.ping(DEVICE_IP, ident=0x42, seq=2)
    assert wire.run_until(lambda: second.rtt_ns is not None, 100 * MS)
    assert second.rtt_ns == 3 * MS


def test_unanswered_arp_is_retried_then_dropped() -> None:
    engine = FakeEngine(lambda frame, now: [])
    wire = Wire(engine, sample_host())
    probe = wire.host.ping(DEVICE_IP, 1, 1)
    assert not wire.run_until(lambda: probe.rtt_ns is not None, 2_000 * MS)
    assert len(engine.received) == 5
    assert "no ARP reply" in wire.host.ignored[-1]


def test_host_answers_arp_and_echo_requests_from_the_device() -> None:
    engine = FakeEngine(lambda frame, now: [])
    wire = Wire(engine, sample_host())
    engine.emit(bytes(Ether(src=DEVICE_MAC, dst="ff:ff:ff:ff:ff:ff")
                      / ARP(op=1, hwsrc=DEVICE_MAC, psrc=DEVICE_IP, pdst=HOST_IP)))
    engine.emit(device_frame(IP(src=DEVICE_IP, dst=HOST_IP) / ICMP(type=8, id=7, seq=9)), 1000)
    wire.run_for(MS)
    replies = [Ether(f) for _, f in engine.received]
    assert replies[0][ARP].op == 2 and replies[0][ARP].hwsrc == HOST_MAC
    assert replies[1][ICMP].type == 0 and (replies[1][ICMP].id, replies[1][ICMP].seq) == (7, 9)


class _Sink:
    def __init__(self) -> None:
        self.got: list[tuple[str, int, bytes]] = []

    def on_udp(self, src_ip: str, sport: int, dport: int, payload: bytes) -> None:
        self.got.append((src_ip, sport, payload))


def test_udp_is_delivered_to_the_bound_port_without_ethernet_padding() -> None:
    engine = FakeEngine(lambda frame, now: [])
    wire = Wire(engine, sample_host())
    sink = _Sink()
    wire.host.udp[5000] = sink
    frame = device_frame(IP(src=DEVICE_IP, dst=HOST_IP) / UDP(sport=7, dport=5000) / b"hi")
    engine.emit(frame + b"\x00" * (60 - len(frame)))
    engine.emit(device_frame(IP(src=DEVICE_IP, dst=HOST_IP) / UDP(sport=7, dport=5001) / b"x"))
    wire.run_for(MS)
    assert sink.got == [(DEVICE_IP, 7, b"hi")]
    assert "nobody bound" in wire.host.ignored[0]


def test_pcap_holds_both_directions_with_virtual_times(tmp_path: Path) -> None:
    path = tmp_path / "wire.pcap"
    engine = FakeEngine(_echo_peer)
    with PcapRecorder(path) as recorder:
        wire = Wire(engine, sample_host(), recorder=recorder)
        probe = wire.host.ping(DEVICE_IP, 1, 1, b"payload")
        wire.run_until(lambda: probe.rtt_ns is not None, 100 * MS)
    packets = rdpcap(str(path))
    assert [type(p.payload).__name__ for p in packets] == ["ARP", "ARP", "IP", "IP"]
    assert [int(p.time * 1_000_000_000) for p in packets] == [0, 10_000, 10_000, 3_010_000]
    assert packets[2][ICMP].type == 8 and packets[3][ICMP].type == 0
    assert bytes(packets[2]) == engine.received[1][1]
