"""Malformed traffic for robustness tests: frames a careful stack must drop or refuse.

Each case is a named frame built on scapy's layers, then broken in one way on purpose
(a lying length, a bad checksum, a truncation). Deterministic: the same names give the
same bytes. After sending them, the device must still answer ping and HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw


@dataclass(frozen=True)
class Target:
    """Who sends the frames and who they are aimed at (a device description gives it)."""

    host_mac: str
    host_ip: str
    mac: str
    ip: str
    http_port: int = 80
    tftp_port: int = 69
    http_path: str = "/"


def _eth(t: Target) -> Ether:
    return Ether(src=t.host_mac, dst=t.mac)


def _ip(t: Target, **fields: object) -> IP:
    return IP(src=t.host_ip, dst=t.ip, **fields)


def _runt(t: Target) -> bytes:
    return bytes(_eth(t))[:10]


def _ip_bad_checksum(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t, chksum=0x1234) / ICMP(id=1, seq=1))


def _ip_total_length_too_big(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t, len=1500) / ICMP(id=1, seq=2) / Raw(b"x" * 8))


def _ip_header_length_too_small(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t, ihl=2) / ICMP(id=1, seq=3))


def _ip_options_past_the_end(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t, ihl=15) / Raw(b"\x00" * 4))


def _ip_fragment(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t, flags="MF", frag=0, proto=1) / Raw(b"\x08\x00" + b"\x00" * 30))


def _icmp_truncated(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t, proto=1) / Raw(b"\x08"))


def _udp_length_too_big(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t) / UDP(sport=4000, dport=t.tftp_port, len=900)
                 / Raw(b"\x00\x02a\x00"))


def _tftp_garbage_opcode(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t) / UDP(sport=4001, dport=t.tftp_port) / Raw(b"\x00\x63junk\x00"))


def _tftp_wrq_without_nul(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t) / UDP(sport=4002, dport=t.tftp_port) / Raw(b"\x00\x02name-octet"))


def _tcp_bad_data_offset(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t) / TCP(sport=40000, dport=t.http_port, flags="S", dataofs=15))


def _tcp_bad_checksum(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t) / TCP(sport=40001, dport=t.http_port, flags="S", chksum=0xBEEF))


def _tcp_data_without_connection(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t) / TCP(sport=40002, dport=t.http_port, flags="PA", seq=1000, ack=1)
                 / Raw(f"POST {t.http_path} HTTP/1.1\r\n\r\n".encode()))


def _tcp_syn_fin(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t) / TCP(sport=40003, dport=t.http_port, flags="SF"))


def _arp_truncated(t: Target) -> bytes:
    return bytes(Ether(src=t.host_mac, dst="ff:ff:ff:ff:ff:ff")
                 / ARP(op=1, hwsrc=t.host_mac, psrc=t.host_ip, pdst=t.ip))[:28]


def _jumbo(t: Target) -> bytes:
    return bytes(_eth(t) / _ip(t) / UDP(sport=4003, dport=t.tftp_port) / Raw(b"\xAA" * 3000))


CASES: dict[str, Callable[[Target], bytes]] = {
    "runt": _runt,
    "ip-bad-checksum": _ip_bad_checksum,
    "ip-total-length-too-big": _ip_total_length_too_big,
    "ip-header-length-too-small": _ip_header_length_too_small,
    "ip-options-past-the-end": _ip_options_past_the_end,
    "ip-fragment": _ip_fragment,
    "icmp-truncated": _icmp_truncated,
    "udp-length-too-big": _udp_length_too_big,
    "tftp-garbage-opcode": _tftp_garbage_opcode,
    "tftp-wrq-without-nul": _tftp_wrq_without_nul,
    "tcp-bad-data-offset": _tcp_bad_data_offset,
    "tcp-bad-checksum": _tcp_bad_checksum,
    "tcp-data-without-connection": _tcp_data_without_connection,
    "tcp-syn-fin": _tcp_syn_fin,
    "arp-truncated": _arp_truncated,
    "jumbo": _jumbo,
}


def frame(name: str, target: Target) -> bytes:
    try:
        make = CASES[name]
    except KeyError:
        raise ValueError(f"no malformed case {name!r}; known: {', '.join(CASES)}") from None
    return make(target)


def all_frames(target: Target) -> list[tuple[str, bytes]]:
    return [(name, make(target)) for name, make in CASES.items()]
