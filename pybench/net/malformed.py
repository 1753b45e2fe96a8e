"""Malformed traffic for robustness tests: frames a careful stack must drop or refuse.

Each case is a named frame built on scapy's layers, then broken in one way on purpose
(a lying length, a bad checksum, a truncation). Deterministic: the same names give the
same bytes. After sending them, the device must still answer ping and HTTP.
"""

from __future__ import annotations

from collections.abc import Callable

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from pybench.net.host import DEVICE_IP, DEVICE_MAC, HOST_IP, HOST_MAC


def _eth() -> Ether:
    return Ether(src=HOST_MAC, dst=DEVICE_MAC)


def _ip(**fields: object) -> IP:
    return IP(src=HOST_IP, dst=DEVICE_IP, **fields)


def _runt() -> bytes:
    return bytes(_eth())[:10]


def _ip_bad_checksum() -> bytes:
    return bytes(_eth() / _ip(chksum=0x1234) / ICMP(id=1, seq=1))


def _ip_total_length_too_big() -> bytes:
    return bytes(_eth() / _ip(len=1500) / ICMP(id=1, seq=2) / Raw(b"x" * 8))


def _ip_header_length_too_small() -> bytes:
    return bytes(_eth() / _ip(ihl=2) / ICMP(id=1, seq=3))


def _ip_options_past_the_end() -> bytes:
    return bytes(_eth() / _ip(ihl=15) / Raw(b"\x00" * 4))


def _ip_fragment() -> bytes:
    return bytes(_eth() / _ip(flags="MF", frag=0, proto=1) / Raw(b"\x08\x00" + b"\x00" * 30))


def _icmp_truncated() -> bytes:
    return bytes(_eth() / _ip(proto=1) / Raw(b"\x08"))


def _udp_length_too_big() -> bytes:
    return bytes(_eth() / _ip() / UDP(sport=4000, dport=69, len=900) / Raw(b"\x00\x02a\x00"))


def _tftp_garbage_opcode() -> bytes:
    return bytes(_eth() / _ip() / UDP(sport=4001, dport=69) / Raw(b"\x00\x63junk\x00"))


def _tftp_wrq_without_nul() -> bytes:
    return bytes(_eth() / _ip() / UDP(sport=4002, dport=69) / Raw(b"\x00\x02name-octet"))


def _tcp_bad_data_offset() -> bytes:
    return bytes(_eth() / _ip() / TCP(sport=40000, dport=80, flags="S", dataofs=15))


def _tcp_bad_checksum() -> bytes:
    return bytes(_eth() / _ip() / TCP(sport=40001, dport=80, flags="S", chksum=0xBEEF))


def _tcp_data_without_connection() -> bytes:
    return bytes(_eth() / _ip() / TCP(sport=40002, dport=80, flags="PA", seq=1000, ack=1)
                 / Raw(b"POST /update HTTP/1.1\r\n\r\n"))


def _tcp_syn_fin() -> bytes:
    return bytes(_eth() / _ip() / TCP(sport=40003, dport=80, flags="SF"))


def _arp_truncated() -> bytes:
    return bytes(Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff")
                 / ARP(op=1, hwsrc=HOST_MAC, psrc=HOST_IP, pdst=DEVICE_IP))[:28]


def _jumbo() -> bytes:
    return bytes(_eth() / _ip() / UDP(sport=4003, dport=69) / Raw(b"\xAA" * 3000))


CASES: dict[str, Callable[[], bytes]] = {
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


def frame(name: str) -> bytes:
    try:
        return CASES[name]()
    except KeyError:
        raise ValueError(f"no malformed case {name!r}; known: {', '.join(CASES)}") from None


def all_frames() -> list[tuple[str, bytes]]:
    return [(name, make()) for name, make in CASES.items()]
