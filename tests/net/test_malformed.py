"""The malformed frames are broken exactly in the way their names say."""

from __future__ import annotations

import pytest
from sample_device import DEVICE_MAC, TARGET
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether

from pybench.net import malformed


def test_frames_are_deterministic_and_addressed_to_the_device() -> None:
    first, second = malformed.all_frames(TARGET), malformed.all_frames(TARGET)
    assert first == second and len(first) == len(malformed.CASES)
    for name, frame in first:
        if name != "runt":
            assert Ether(frame).dst in (DEVICE_MAC, "ff:ff:ff:ff:ff:ff"), name


def test_each_fault_is_the_named_one() -> None:
    assert len(malformed.frame("runt", TARGET)) < 14
    bad = Ether(malformed.frame("ip-bad-checksum", TARGET))[IP]
    good = IP(bytes(bad))
    del good.chksum
    assert bad.chksum == 0x1234 != IP(bytes(good)).chksum
    assert Ether(malformed.frame("ip-total-length-too-big", TARGET))[IP].len > \
        len(malformed.frame("ip-total-length-too-big", TARGET)) - 14
    assert Ether(malformed.frame("ip-header-length-too-small", TARGET))[IP].ihl < 5
    assert Ether(malformed.frame("ip-fragment", TARGET))[IP].flags.MF
    assert Ether(malformed.frame("udp-length-too-big", TARGET))[UDP].len > 100
    assert Ether(malformed.frame("tcp-bad-data-offset", TARGET))[TCP].dataofs == 15
    assert Ether(malformed.frame("tcp-syn-fin", TARGET))[TCP].flags == "SF"
    assert len(malformed.frame("jumbo", TARGET)) > 1514
    assert len(malformed.frame("arp-truncated", TARGET)) == 28


def test_unknown_case_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: runt"):
        malformed.frame("nope", TARGET)
