"""The bench's network host: ARP, IPv4, ICMP echo and UDP on scapy's layers.

The host is pure state, with no engine, socket or thread: frames come in through
receive(), frames to send pile up in `outbox`, and timers wait in a TimerQueue until the
wire fires them at virtual times (pybench/net/wire.py). That keeps it deterministic
(every random choice comes from `rng`, seeded) and lets save()/load() capture the whole
host, TCP connections and transfers included, next to an engine snapshot.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet, Raw

from pybench.net.dhcp import DhcpConfig, DhcpServer, wants_server
from pybench.net.timers import TimerQueue

# The bench host's own MAC address: locally administered, the same on every network (a
# device description may give another). Its IPv4 address comes from the description.
HOST_MAC = "02:00:00:00:00:01"
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"

ARP_RETRY_NS = 200_000_000
ARP_TRIES = 5
EPHEMERAL_PORTS = (49152, 65535)


class UdpHandler(Protocol):
    def on_udp(self, src_ip: str, sport: int, dport: int, payload: bytes) -> None: ...


class TcpHandler(Protocol):
    def on_segment(self, ip: IP, tcp: TCP) -> None: ...


@dataclass
class PingProbe:
    """One ICMP echo request and, once it came back, its round trip in virtual time."""

    dst: str
    ident: int
    seq: int
    sent_ns: int
    rtt_ns: int | None = None


class Rng(random.Random):
    """random.Random that a deep copy copies by its state in one piece (the generic
    deep copy walks the 625 words of its state one by one: half the cost of a host's
    save() or load(), which a campaign does at every snapshot and every cut)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Rng:
        twin = Rng(0)
        twin.setstate(self.getstate())
        memo[id(self)] = twin
        return twin


class Host:
    """An Ethernet host with one address, in virtual time (see the module docstring)."""

    def __init__(self, ip: str, mac: str = HOST_MAC, seed: int = 0,
                 dhcp: DhcpConfig | None = None) -> None:
        self.mac = mac
        self.ip = ip
        self.now_ns = 0
        self.rng = Rng(seed)
        self.timers = TimerQueue()
        self.outbox: list[bytes] = []
        self.arp_cache: dict[str, str] = {}
        self._arp_waiting: dict[str, list[Packet]] = {}
        self._arp_tries: dict[str, int] = {}
        self._ip_id = self.rng.randrange(0x10000)
        self.udp: dict[int, UdpHandler] = {}
        self.tcp: dict[tuple[int, str, int], TcpHandler] = {}
        self.pings: dict[tuple[int, int], PingProbe] = {}
        self.ignored: list[str] = []   # why frames were dropped, for debugging a test
        self.apps: dict[str, Any] = {}  # transfers in progress, kept here to be snapshotted
        self.dhcp: DhcpServer | None = None   # leases survive forget_transfers()
        if dhcp is not None:
            self.enable_dhcp(dhcp)

    def enable_dhcp(self, config: DhcpConfig) -> DhcpServer:
        """Serve DHCP on the wire from this host's address (pybench/net/dhcp.py)."""
        self.dhcp = DhcpServer(config, self.ip, self.mac)
        return self.dhcp

    # --- snapshots ----------------------------------------------------------------
    def save(self) -> Host:
        """A deep copy of the whole host, for a later load() (next to engine.snapshot())."""
        return copy.deepcopy(self)

    def load(self, saved: Host) -> None:
        """Become a copy of `saved`; the saved copy stays reusable for another load()."""
        # The memo points the copied connections and timers back at this host object,
        # which the wire and the callers hold, instead of at a fresh copy.
        state = copy.deepcopy(saved.__dict__, {id(saved): self})
        self.__dict__.clear()
        self.__dict__.update(state)

    # --- DHCP -----------------------------------------------------------------------
    def leased_address(self, mac: str) -> str | None:
        """The address the bench's DHCP server leased to `mac` and that is bound now."""
        return self.dhcp.address_of(mac, self.now_ns) if self.dhcp is not None else None

    def forget_transfers(self) -> None:
        """Drop connections, bound ports, pings and timers; keep addresses and ARP cache.

        For a step that starts over on a restored board: what the host was doing in the
        abandoned future must not send a single frame into the restored one.
        """
        self.timers = TimerQueue()
        self._arp_waiting.clear()
        self.udp.clear()
        self.tcp.clear()
        self.pings.clear()
        self.apps.clear()

    # --- time -----------------------------------------------------------------------
    def advance(self, now_ns: int) -> None:
        self.now_ns = max(self.now_ns, now_ns)

    def call_later(self, delay_ns: int, callback: Callable[..., Any], *args: Any) -> int:
        return self.timers.call_at(self.now_ns + delay_ns, callback, *args)

    def next_timer_ns(self) -> int | None:
        return self.timers.next_due_ns()

    def fire_timers(self, now_ns: int) -> None:
        self.advance(now_ns)
        for entry in self.timers.pop_due(now_ns):
            entry.callback(*entry.args)

    # --- sending ----------------------------------------------------------------------
    def send_frame(self, frame: Packet) -> None:
        self.outbox.append(bytes(frame))

    def take_outbox(self) -> list[bytes]:
        out, self.outbox = self.outbox, []
        return out

    def next_ip_id(self) -> int:
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        return self._ip_id

    def send_ip(self, packet: Packet) -> None:
        """Send an IP packet (IP()/...), resolving the destination's MAC by ARP first."""
        if packet[IP].id == 1:  # scapy's default: give each packet its own id
            packet[IP].id = self.next_ip_id()
        packet[IP].src = self.ip
        dst = packet[IP].dst
        mac = self.arp_cache.get(dst)
        if mac is not None:
            self.send_frame(Ether(src=self.mac, dst=mac) / packet)
            return
        waiting = self._arp_waiting.setdefault(dst, [])
        waiting.append(packet)
        if len(waiting) == 1:
            self._arp_tries[dst] = 0
            self._arp_retry(dst)

    def _arp_retry(self, ip: str) -> None:
        if ip not in self._arp_waiting:
            return
        if self._arp_tries[ip] >= ARP_TRIES:
            # Give up on what waits; TCP and TFTP retransmit and so ask again.
            self.ignored.append(f"no ARP reply from {ip} after {ARP_TRIES} requests")
            del self._arp_waiting[ip]
            return
        self._arp_tries[ip] += 1
        self.send_arp_request(ip)
        self.call_later(ARP_RETRY_NS, self._arp_retry, ip)

    def send_arp_request(self, ip: str) -> None:
        self.send_frame(Ether(src=self.mac, dst=BROADCAST_MAC)
                        / ARP(op="who-has", hwsrc=self.mac, psrc=self.ip, pdst=ip))

    def ping(self, dst: str, ident: int, seq: int, payload: bytes = b"") -> PingProbe:
        probe = PingProbe(dst, ident, seq, self.now_ns)
        self.pings[(ident, seq)] = probe
        self.send_ip(IP(dst=dst) / ICMP(type="echo-request", id=ident, seq=seq) / Raw(payload))
        return probe

    def udp_send(self, dst: str, sport: int, dport: int, payload: bytes | Packet) -> None:
        self.send_ip(IP(dst=dst) / UDP(sport=sport, dport=dport) / payload)

    def free_port(self) -> int:
        """A local port no UDP handler or TCP connection uses, chosen from the seeded rng."""
        used = set(self.udp) | {key[0] for key in self.tcp}
        while True:
            port = self.rng.randint(*EPHEMERAL_PORTS)
            if port not in used:
                return port

    # --- receiving ----------------------------------------------------------------------
    def receive(self, frame: bytes, time_ns: int) -> None:
        self.advance(time_ns)
        if len(frame) < 14:
            self.ignored.append(f"runt frame of {len(frame)} bytes")
            return
        try:
            pkt = Ether(frame)
        except Exception as e:  # scapy raises assorted errors on garbage
            self.ignored.append(f"undecodable frame ({type(e).__name__}: {e})")
            return
        if pkt.dst.lower() not in (self.mac, BROADCAST_MAC):
            return
        if ARP in pkt:
            self._on_arp(pkt[ARP])
        elif IP in pkt:
            ip = pkt[IP]
            if self.dhcp is not None and wants_server(pkt):
                for reply in self.dhcp.handle(pkt, self.now_ns):
                    self.send_frame(reply)
                return
            if ip.dst != self.ip:
                return
            if ip.flags.MF or ip.frag:
                self.ignored.append(f"IP fragment from {ip.src} (not reassembled)")
            elif ICMP in ip:
                self._on_icmp(ip, ip[ICMP])
            elif UDP in ip:
                self._on_udp(ip, ip[UDP])
            elif TCP in ip:
                self._on_tcp(ip, ip[TCP])

    def _on_arp(self, arp: ARP) -> None:
        if arp.pdst == self.ip or arp.psrc in self._arp_waiting:
            self.arp_cache[arp.psrc] = arp.hwsrc.lower()
        if arp.op == 1 and arp.pdst == self.ip:
            self.send_frame(Ether(src=self.mac, dst=arp.hwsrc)
                            / ARP(op="is-at", hwsrc=self.mac, psrc=self.ip,
                                  hwdst=arp.hwsrc, pdst=arp.psrc))
        waiting = self._arp_waiting.pop(arp.psrc, None) if arp.psrc in self.arp_cache else None
        for packet in waiting or []:
            self.send_ip(packet)

    def _on_icmp(self, ip: IP, icmp: ICMP) -> None:
        if icmp.type == 8:
            self.send_ip(IP(dst=ip.src) / ICMP(type="echo-reply", id=icmp.id, seq=icmp.seq)
                         / Raw(bytes(icmp.payload)))
        elif icmp.type == 0:
            probe = self.pings.get((icmp.id, icmp.seq))
            if probe is not None and probe.rtt_ns is None and probe.dst == ip.src:
                probe.rtt_ns = self.now_ns - probe.sent_ns

    def _on_udp(self, ip: IP, udp: UDP) -> None:
        handler = self.udp.get(udp.dport)
        if handler is None:
            self.ignored.append(f"UDP {ip.src}:{udp.sport} -> port {udp.dport}: nobody bound")
            return
        payload = bytes(udp.payload)
        if udp.len is not None and udp.len >= 8:
            payload = payload[: udp.len - 8]  # drop Ethernet padding of short frames
        handler.on_udp(ip.src, udp.sport, udp.dport, payload)

    def _on_tcp(self, ip: IP, tcp: TCP) -> None:
        handler = self.tcp.get((tcp.dport, ip.src, tcp.sport))
        if handler is not None:
            handler.on_segment(ip, tcp)
            return
        if not tcp.flags.R:
            # What a real stack does for a segment nobody expects (RFC 9293 3.10.7.1).
            if tcp.flags.A:
                rst = TCP(sport=tcp.dport, dport=tcp.sport, seq=tcp.ack, flags="R")
            else:
                seg_len = len(tcp_payload(ip, tcp)) + (1 if tcp.flags.S else 0) + (
                    1 if tcp.flags.F else 0)
                rst = TCP(sport=tcp.dport, dport=tcp.sport, seq=0,
                          ack=(tcp.seq + seg_len) & 0xFFFFFFFF, flags="RA")
            self.send_ip(IP(dst=ip.src) / rst)


def tcp_payload(ip: IP, tcp: TCP) -> bytes:
    """The segment's data, without the Ethernet padding a short frame carries."""
    data = bytes(tcp.payload)
    if ip.len is not None:
        data = data[: max(0, ip.len - ip.ihl * 4 - tcp.dataofs * 4)]
    return data
