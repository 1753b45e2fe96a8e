"""The Ethernet MAC + DMA model against descriptors built in a fake SRAM (no CPU)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from pybench.engine.builtin.peripherals import eth
from pybench.engine.builtin.peripherals.eth import (
    DMABMR,
    DMACHRDR,
    DMAIER,
    DMAMFBOCR,
    DMAOMR,
    DMARDLAR,
    DMARPDR,
    DMASR,
    DMATDLAR,
    DMATPDR,
    MACA0HR,
    MACA0LR,
    MACCR,
    MACFFR,
    MACHTHR,
    MACHTLR,
    MACMIIAR,
    MACMIIDR,
    MMCRGUFCR,
    MMCTGFCR,
    OWN,
    EthernetMac,
    insert_checksums,
    mac_hash_index,
)
from pybench.engine.builtin.peripherals.phy import EthernetPhy

SRAM = 0x20000000
DEV_MAC = bytes.fromhex("020000f40701")
HOST_MAC = bytes.fromhex("020000000001")
BCAST = b"\xff" * 6

IE_NIS_RIE_TIE = (1 << 16) | (1 << 6) | (1 << 0)


@dataclass
class FakeBus:
    """SRAM as a bytearray, the IRQ line's history, frames out, events, a settable clock."""

    mem: bytearray = field(default_factory=lambda: bytearray(0x10000))
    now_ns: int = 0
    irq_levels: dict[int, bool] = field(default_factory=dict)
    irq_history: list[tuple[int, bool]] = field(default_factory=list)
    frames: list[bytes] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)

    def read_mem(self, addr: int, size: int) -> bytes:
        assert addr >= SRAM and addr + size <= SRAM + len(self.mem), hex(addr)
        return bytes(self.mem[addr - SRAM:addr - SRAM + size])

    def write_mem(self, addr: int, data: bytes) -> None:
        assert addr >= SRAM and addr + len(data) <= SRAM + len(self.mem), hex(addr)
        self.mem[addr - SRAM:addr - SRAM + len(data)] = data

    def set_irq(self, irq: int, level: bool) -> None:
        self.irq_levels[irq] = level
        self.irq_history.append((irq, level))

    def schedule(self, at_ns: int, callback: Callable[[], None]) -> object:
        raise AssertionError("the MAC model needs no timers")

    def cancel(self, handle: object) -> None:
        raise AssertionError("the MAC model needs no timers")

    def advance(self, ns: int) -> None:
        self.now_ns += ns

    def frame_out(self, frame: bytes) -> None:
        self.frames.append(frame)

    def event(self, kind: str, detail: str) -> None:
        self.events.append((kind, detail))

    def request_stop(self, reason: str) -> None:
        raise AssertionError("the MAC model never stops the CPU")

    def word(self, addr: int) -> int:
        return int(struct.unpack("<I", self.read_mem(addr, 4))[0])


def frame(dest: bytes = DEV_MAC, payload_len: int = 46, ethertype: int = 0x0800,
          seed: int = 0) -> bytes:
    body = bytes((seed + i) & 0xFF for i in range(payload_len))
    return dest + HOST_MAC + ethertype.to_bytes(2, "big") + body


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def mac(bus: FakeBus) -> EthernetMac:
    m = EthernetMac("ethernet", 0x40028000, 0x1400, bus, {})
    m.write(MACA0HR, 4, int.from_bytes(DEV_MAC[4:], "little"))
    m.write(MACA0LR, 4, int.from_bytes(DEV_MAC[:4], "little"))
    return m


def put_desc(bus: FakeBus, addr: int, *words: int) -> None:
    bus.write_mem(addr, struct.pack(f"<{len(words)}I", *words))


def dmasr(mac: EthernetMac) -> int:
    return mac.read(DMASR, 4)


def tps(mac: EthernetMac) -> int:
    return (dmasr(mac) >> 20) & 7


def rps(mac: EthernetMac) -> int:
    return (dmasr(mac) >> 17) & 7


def start(mac: EthernetMac, omr: int) -> None:
    mac.write(MACCR, 4, mac.read(MACCR, 4) | eth.MACCR_TE | eth.MACCR_RE)
    mac.write(DMAOMR, 4, mac.read(DMAOMR, 4) | omr)


# --- transmit ------------------------------------------------------------------------
TX_FS_LS_IC = eth.TDES0_FS | eth.TDES0_LS | eth.TDES0_IC


def test_tx_chained_two_frames_then_suspends_with_tbus(bus: FakeBus, mac: EthernetMac) -> None:
    d = [SRAM + 0x100 + 16 * i for i in range(3)]
    f1, f2 = frame(HOST_MAC, 60, seed=1), frame(HOST_MAC, 100, seed=2)
    bus.write_mem(SRAM + 0x1000, f1)
    bus.write_mem(SRAM + 0x2000, f2)
    put_desc(bus, d[0], OWN | TX_FS_LS_IC | eth.TDES0_TCH, len(f1), SRAM + 0x1000, d[1])
    put_desc(bus, d[1], OWN | TX_FS_LS_IC | eth.TDES0_TCH, len(f2), SRAM + 0x2000, d[2])
    put_desc(bus, d[2], eth.TDES0_TCH, 0, 0, d[0])
    mac.write(DMATDLAR, 4, d[0])
    mac.write(DMAIER, 4, IE_NIS_RIE_TIE)
    start(mac, eth.DMAOMR_ST)

    assert bus.frames == [f1, f2]
    assert not bus.word(d[0]) & OWN and not bus.word(d[1]) & OWN
    assert dmasr(mac) & (eth.SR_TS | eth.SR_TBUS | eth.SR_NIS) == (
        eth.SR_TS | eth.SR_TBUS | eth.SR_NIS)
    assert tps(mac) == eth.TPS_SUSPENDED
    assert mac.read(eth.DMACHTDR, 4) == d[2]
    assert bus.irq_levels[61] is True
    assert mac.read(MMCTGFCR, 4) == 2

    # Give the third descriptor, poll: it goes, and the DMA wraps round the chain.
    f3 = frame(BCAST, 50, seed=3)
    bus.write_mem(SRAM + 0x3000, f3)
    put_desc(bus, d[2], OWN | TX_FS_LS_IC | eth.TDES0_TCH, len(f3), SRAM + 0x3000, d[0])
    mac.write(DMATPDR, 4, 0)
    assert bus.frames[-1] == f3
    assert mac.read(eth.DMACHTDR, 4) == d[0]


def test_tx_ring_with_two_buffers_multi_descriptor_frame_and_ter(bus: FakeBus,
                                                                 mac: EthernetMac) -> None:
    """Ring mode: buffer 1 and 2 of each descriptor, FS..LS over two, DSL skip, TER wrap."""
    mac.write(DMABMR, 4, (2 << 2) | (mac.read(DMABMR, 4) & ~0x7C))   # DSL = 2 words
    stride = 16 + 8
    d0, d1 = SRAM + 0x200, SRAM + 0x200 + stride
    f = frame(HOST_MAC, 200, seed=7)
    pieces = [f[:50], f[50:90], f[90:170], f[170:]]
    addrs = [SRAM + 0x1000, SRAM + 0x1800, SRAM + 0x2000, SRAM + 0x2800]
    for a, p in zip(addrs, pieces, strict=True):
        bus.write_mem(a, p)
    put_desc(bus, d0, OWN | eth.TDES0_FS, len(pieces[1]) << 16 | len(pieces[0]),
             addrs[0], addrs[1])
    put_desc(bus, d1, OWN | eth.TDES0_LS | eth.TDES0_IC | eth.TDES0_TER,
             len(pieces[3]) << 16 | len(pieces[2]), addrs[2], addrs[3])
    mac.write(DMATDLAR, 4, d0)
    start(mac, eth.DMAOMR_ST)

    assert bus.frames == [f]
    assert mac.read(eth.DMACHTDR, 4) == d0          # TER: back to the list base
    assert tps(mac) == eth.TPS_SUSPENDED


def test_tx_waits_for_every_descriptor_of_a_frame(bus: FakeBus, mac: EthernetMac) -> None:
    d0, d1 = SRAM + 0x100, SRAM + 0x110
    f = frame(HOST_MAC, 80)
    bus.write_mem(SRAM + 0x1000, f)
    put_desc(bus, d0, OWN | eth.TDES0_FS | eth.TDES0_TCH, 40, SRAM + 0x1000, d1)
    put_desc(bus, d1, eth.TDES0_LS | eth.TDES0_TCH, len(f) - 40, SRAM + 0x1000 + 40, d0)
    mac.write(DMATDLAR, 4, d0)
    start(mac, eth.DMAOMR_ST)
    assert bus.frames == []
    assert bus.word(d0) & OWN                        # nothing written back yet
    put_desc(bus, d1, OWN | eth.TDES0_LS | eth.TDES0_TCH, len(f) - 40, SRAM + 0x1000 + 40, d0)
    mac.write(DMATPDR, 4, 1)
    assert bus.frames == [f]


def test_tx_pads_short_frames_unless_dp(bus: FakeBus, mac: EthernetMac) -> None:
    d0, d1 = SRAM + 0x100, SRAM + 0x110
    arp = frame(BCAST, 28, ethertype=0x0806)          # 42 bytes
    bus.write_mem(SRAM + 0x1000, arp)
    put_desc(bus, d0, OWN | TX_FS_LS_IC, len(arp), SRAM + 0x1000, 0)
    put_desc(bus, d1, OWN | TX_FS_LS_IC | eth.TDES0_DP | eth.TDES0_TER, len(arp),
             SRAM + 0x1000, 0)
    mac.write(DMATDLAR, 4, d0)
    start(mac, eth.DMAOMR_ST)
    assert bus.frames == [arp + bytes(60 - len(arp)), arp]


def test_rx_short_frame_arrives_padded(bus: FakeBus, mac: EthernetMac) -> None:
    descs = rx_ring(bus, mac, 1)
    start(mac, eth.DMAOMR_SR)
    arp = frame(BCAST, 28, ethertype=0x0806)
    mac.receive_frame(arp)
    assert fl(bus.word(descs[0])) == 64
    padded = arp + bytes(60 - len(arp))
    assert bus.read_mem(SRAM + 0x4000, 64) == padded + struct.pack("<I", zlib.crc32(padded))


def test_tx_without_ic_sets_no_ts(bus: FakeBus, mac: EthernetMac) -> None:
    d0 = SRAM + 0x100
    f = frame(HOST_MAC)
    bus.write_mem(SRAM + 0x1000, f)
    put_desc(bus, d0, OWN | eth.TDES0_FS | eth.TDES0_LS | eth.TDES0_TER, len(f), SRAM + 0x1000, 0)
    mac.write(DMATDLAR, 4, d0)
    start(mac, eth.DMAOMR_ST)
    assert bus.frames == [f]
    assert not dmasr(mac) & eth.SR_TS


def test_tx_enhanced_descriptors_are_eight_words(bus: FakeBus, mac: EthernetMac) -> None:
    mac.write(DMABMR, 4, mac.read(DMABMR, 4) | eth.DMABMR_EDFE)
    d0, d1 = SRAM + 0x100, SRAM + 0x120
    f1, f2 = frame(HOST_MAC, seed=1), frame(HOST_MAC, seed=2)
    bus.write_mem(SRAM + 0x1000, f1)
    bus.write_mem(SRAM + 0x2000, f2)
    put_desc(bus, d0, OWN | TX_FS_LS_IC, len(f1), SRAM + 0x1000, 0, 0xDEAD, 0xBEEF, 1, 2)
    put_desc(bus, d1, OWN | TX_FS_LS_IC | eth.TDES0_TER, len(f2), SRAM + 0x2000, 0, 0, 0, 0, 0)
    mac.write(DMATDLAR, 4, d0)
    start(mac, eth.DMAOMR_ST)
    assert bus.frames == [f1, f2]


def test_tx_held_while_transmitter_disabled(bus: FakeBus, mac: EthernetMac) -> None:
    d0 = SRAM + 0x100
    f = frame(HOST_MAC)
    bus.write_mem(SRAM + 0x1000, f)
    put_desc(bus, d0, OWN | TX_FS_LS_IC | eth.TDES0_TER, len(f), SRAM + 0x1000, 0)
    mac.write(DMATDLAR, 4, d0)
    mac.write(DMAOMR, 4, eth.DMAOMR_ST)
    assert bus.frames == []
    mac.write(MACCR, 4, mac.read(MACCR, 4) | eth.MACCR_TE)
    assert bus.frames == [f]


def test_tx_checksum_insertion_full(bus: FakeBus, mac: EthernetMac) -> None:
    """CIC=3: the model fills the IPv4 header and UDP checksums the firmware left zero."""
    pytest.importorskip("scapy")
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    good = bytes(Ether(dst=HOST_MAC, src=DEV_MAC) / IP(src="192.168.7.2", dst="192.168.7.1")
                 / UDP(sport=69, dport=5000) / b"hello, bench")
    zeroed = bytearray(good)
    zeroed[24:26] = b"\0\0"
    zeroed[40:42] = b"\0\0"
    assert insert_checksums(bytes(zeroed), 3) == good
    assert insert_checksums(bytes(zeroed), 1)[24:26] == good[24:26]
    assert insert_checksums(bytes(zeroed), 0) == bytes(zeroed)
    d0 = SRAM + 0x100
    bus.write_mem(SRAM + 0x1000, bytes(zeroed))
    put_desc(bus, d0, OWN | TX_FS_LS_IC | eth.TDES0_TER | 3 << 22, len(zeroed),
             SRAM + 0x1000, 0)
    mac.write(DMATDLAR, 4, d0)
    start(mac, eth.DMAOMR_ST)
    assert bus.frames == [good.ljust(60, b"\0")]          # padded after the checksums


def test_loopback_mode_sends_back_to_receiver(bus: FakeBus, mac: EthernetMac) -> None:
    rx = SRAM + 0x400
    put_desc(bus, rx, OWN, eth.RDES1_RER | 1536, SRAM + 0x3000, 0)
    mac.write(DMARDLAR, 4, rx)
    d0 = SRAM + 0x100
    f = frame(DEV_MAC)
    bus.write_mem(SRAM + 0x1000, f)
    put_desc(bus, d0, OWN | TX_FS_LS_IC | eth.TDES0_TER, len(f), SRAM + 0x1000, 0)
    mac.write(DMATDLAR, 4, d0)
    mac.write(MACCR, 4, mac.read(MACCR, 4) | eth.MACCR_LM)
    start(mac, eth.DMAOMR_ST | eth.DMAOMR_SR)
    assert bus.frames == []
    assert bus.read_mem(SRAM + 0x3000, len(f)) == f


# --- receive -------------------------------------------------------------------------
def rx_ring(bus: FakeBus, mac: EthernetMac, count: int, bufsize: int = 1536,
            own: bool = True) -> list[int]:
    descs = [SRAM + 0x400 + 16 * i for i in range(count)]
    for i, d in enumerate(descs):
        rer = eth.RDES1_RER if i == count - 1 else 0
        put_desc(bus, d, OWN if own else 0, rer | bufsize, SRAM + 0x4000 + 0x800 * i, 0)
    mac.write(DMARDLAR, 4, descs[0])
    return descs


def fl(rdes0: int) -> int:
    return (rdes0 >> 16) & 0x3FFF


def test_rx_writes_frame_with_fcs_and_fl_counts_it(bus: FakeBus, mac: EthernetMac) -> None:
    descs = rx_ring(bus, mac, 2)
    mac.write(DMAIER, 4, IE_NIS_RIE_TIE)
    start(mac, eth.DMAOMR_SR)
    assert rps(mac) == eth.RPS_WAITING
    f = frame(DEV_MAC, 46)
    mac.receive_frame(f)

    rdes0 = bus.word(descs[0])
    assert not rdes0 & OWN
    assert rdes0 & (eth.RDES0_FS | eth.RDES0_LS | eth.RDES0_FT) == (
        eth.RDES0_FS | eth.RDES0_LS | eth.RDES0_FT)
    assert not rdes0 & eth.RDES0_ES
    assert fl(rdes0) == len(f) + 4
    data = bus.read_mem(SRAM + 0x4000, len(f) + 4)
    assert data[:-4] == f
    assert data[-4:] == struct.pack("<I", zlib.crc32(f))
    assert dmasr(mac) & (eth.SR_RS | eth.SR_NIS) == eth.SR_RS | eth.SR_NIS
    assert bus.irq_levels[61] is True
    assert mac.read(DMACHRDR, 4) == descs[1]
    assert mac.read(MMCRGUFCR, 4) == 1


def test_rx_frame_spans_descriptors_in_chain(bus: FakeBus, mac: EthernetMac) -> None:
    d0, d1 = SRAM + 0x400, SRAM + 0x410
    put_desc(bus, d0, OWN, eth.RDES1_RCH | 0x7FF << 16 | 64, SRAM + 0x4000, d1)
    put_desc(bus, d1, OWN, eth.RDES1_RCH | 64, SRAM + 0x5000, d0)
    mac.write(DMARDLAR, 4, d0)
    start(mac, eth.DMAOMR_SR)
    f = frame(BCAST, 80)                       # 94 bytes + FCS: two buffers of 64
    mac.receive_frame(f)
    w0, w1 = bus.word(d0), bus.word(d1)
    assert w0 & eth.RDES0_FS and not w0 & eth.RDES0_LS
    assert w1 & eth.RDES0_LS and not w1 & eth.RDES0_FS
    assert fl(w1) == len(f) + 4
    got = bus.read_mem(SRAM + 0x4000, 64) + bus.read_mem(SRAM + 0x5000, len(f) + 4 - 64)
    assert got[:len(f)] == f
    assert bus.read_mem(SRAM + 0x4000 + 64, 4) == b"\0\0\0\0"   # RBS2 ignored with RCH


def test_rx_ring_uses_buffer_two(bus: FakeBus, mac: EthernetMac) -> None:
    d0 = SRAM + 0x400
    put_desc(bus, d0, OWN, eth.RDES1_RER | 100 << 16 | 32, SRAM + 0x4000, SRAM + 0x5000)
    mac.write(DMARDLAR, 4, d0)
    start(mac, eth.DMAOMR_SR)
    f = frame(DEV_MAC, 60)
    mac.receive_frame(f)
    w0 = bus.word(d0)
    assert w0 & eth.RDES0_FS and w0 & eth.RDES0_LS
    got = bus.read_mem(SRAM + 0x4000, 32) + bus.read_mem(SRAM + 0x5000, len(f) + 4 - 32)
    assert got[:len(f)] == f


def test_rx_truncated_when_next_descriptor_not_owned(bus: FakeBus, mac: EthernetMac) -> None:
    d0, d1 = SRAM + 0x400, SRAM + 0x410
    put_desc(bus, d0, OWN, eth.RDES1_RCH | 32, SRAM + 0x4000, d1)
    put_desc(bus, d1, 0, eth.RDES1_RCH | 32, SRAM + 0x5000, d0)
    mac.write(DMARDLAR, 4, d0)
    start(mac, eth.DMAOMR_SR)
    mac.receive_frame(frame(DEV_MAC, 60))
    w0 = bus.word(d0)
    assert w0 & eth.RDES0_DE and w0 & eth.RDES0_ES and w0 & eth.RDES0_FS
    assert rps(mac) == eth.RPS_SUSPENDED


@pytest.mark.parametrize(
    ("ffr", "dest", "accepted"),
    [
        (0, DEV_MAC, True),
        (0, HOST_MAC, False),
        (0, BCAST, True),
        (eth.MACFFR_BFD, BCAST, False),
        (0, bytes.fromhex("01005e000001"), False),
        (eth.MACFFR_PAM, bytes.fromhex("01005e000001"), True),
        (eth.MACFFR_PM, HOST_MAC, True),
        (eth.MACFFR_RA, bytes.fromhex("0a0b0c0d0e0f"), True),
        (eth.MACFFR_DAIF, HOST_MAC, True),
        (eth.MACFFR_DAIF, DEV_MAC, False),
    ],
)
def test_rx_address_filter(bus: FakeBus, mac: EthernetMac, ffr: int, dest: bytes,
                           accepted: bool) -> None:
    descs = rx_ring(bus, mac, 1)
    mac.write(MACFFR, 4, ffr)
    start(mac, eth.DMAOMR_SR)
    mac.receive_frame(frame(dest))
    assert (not bus.word(descs[0]) & OWN) == accepted


def test_rx_second_address_with_enable_and_byte_mask(bus: FakeBus, mac: EthernetMac) -> None:
    other = bytes.fromhex("0200000000aa")
    descs = rx_ring(bus, mac, 4)
    start(mac, eth.DMAOMR_SR)
    mac.write(0x4C, 4, int.from_bytes(other[:4], "little"))
    mac.write(0x48, 4, int.from_bytes(other[4:], "little"))        # AE clear: disabled
    mac.receive_frame(frame(other))
    assert bus.word(descs[0]) & OWN
    mac.write(0x48, 4, eth.MACAHR_AE | int.from_bytes(other[4:], "little"))
    mac.receive_frame(frame(other))
    assert not bus.word(descs[0]) & OWN
    # MBC bit 5 ignores the last byte in the comparison.
    mac.write(0x48, 4, eth.MACAHR_AE | 1 << 29 | int.from_bytes(other[4:], "little"))
    mac.receive_frame(frame(other[:5] + b"\x55"))
    assert not bus.word(descs[1]) & OWN


def test_rx_hash_filter_for_multicast(bus: FakeBus, mac: EthernetMac) -> None:
    group = bytes.fromhex("01005e0000fb")
    bit = mac_hash_index(group)
    descs = rx_ring(bus, mac, 2)
    mac.write(MACFFR, 4, eth.MACFFR_HM)
    other = next(g for g in (bytes([1, 0, 0x5E, 0, 0, n]) for n in range(256))
                 if mac_hash_index(g) != bit)
    mac.write(MACHTHR if bit >= 32 else MACHTLR, 4, 1 << (bit % 32))
    start(mac, eth.DMAOMR_SR)
    mac.receive_frame(frame(other))
    assert bus.word(descs[0]) & OWN
    mac.receive_frame(frame(group))
    assert not bus.word(descs[0]) & OWN


def test_mac_hash_index_matches_bitwise_crc() -> None:
    """Hash bit = upper 6 bits of the bit-reversed, complemented CRC-32 of the address."""
    for dest in (bytes.fromhex("01005e000001"), bytes.fromhex("333300000001"), BCAST):
        crc = 0xFFFFFFFF
        for byte in dest:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
        expected = int(f"{crc ^ 0xFFFFFFFF:032b}"[::-1], 2) >> 26
        assert mac_hash_index(dest) == expected


def test_rx_suspends_with_rbus_flushes_and_resumes_on_poll_demand(bus: FakeBus,
                                                                  mac: EthernetMac) -> None:
    descs = rx_ring(bus, mac, 2, own=False)
    mac.write(DMAIER, 4, (1 << 15) | (1 << 7))       # AISE + RBUIE
    start(mac, eth.DMAOMR_SR)
    assert rps(mac) == eth.RPS_SUSPENDED
    assert dmasr(mac) & eth.SR_RBUS and dmasr(mac) & eth.SR_AIS
    assert bus.irq_levels[61] is True

    mac.receive_frame(frame(DEV_MAC, seed=1))        # no descriptor: flushed (DFRF clear)
    assert mac.read(DMAMFBOCR, 4) & 0xFFFF == 1
    assert mac.read(DMAMFBOCR, 4) == 0              # cleared by reading

    mac.write(DMASR, 4, eth.SR_RBUS | eth.SR_AIS)
    assert bus.irq_levels[61] is False
    for d in descs:
        bus.write_mem(d, struct.pack("<I", OWN))
    mac.write(DMARPDR, 4, 0)
    assert rps(mac) == eth.RPS_WAITING
    f = frame(DEV_MAC, seed=2)
    mac.receive_frame(f)
    assert bus.read_mem(SRAM + 0x4000, len(f)) == f


def test_rx_keeps_frames_with_dfrf_until_poll_demand(bus: FakeBus, mac: EthernetMac) -> None:
    descs = rx_ring(bus, mac, 2, own=False)
    start(mac, eth.DMAOMR_SR | eth.DMAOMR_DFRF)
    frames = [frame(DEV_MAC, seed=s) for s in range(6)]
    for f in frames:
        mac.receive_frame(f)
    # The FIFO held the first few; the rest overflowed and count as missed by the FIFO.
    assert dmasr(mac) & eth.SR_ROS
    assert (mac.read(DMAMFBOCR, 4) >> 17) & 0x7FF == len(frames) - eth.RX_FIFO_FRAMES
    for d in descs:
        bus.write_mem(d, struct.pack("<I", OWN))
    mac.write(DMARPDR, 4, 0)
    assert bus.read_mem(SRAM + 0x4000, len(frames[0])) == frames[0]
    assert bus.read_mem(SRAM + 0x4800, len(frames[1])) == frames[1]
    assert rps(mac) == eth.RPS_SUSPENDED            # two descriptors, four frames waiting
    assert len(mac.rx_fifo) == 2


def test_rx_dic_suppresses_rs(bus: FakeBus, mac: EthernetMac) -> None:
    d0 = SRAM + 0x400
    put_desc(bus, d0, OWN, eth.RDES1_DIC | eth.RDES1_RER | 1536, SRAM + 0x4000, 0)
    mac.write(DMARDLAR, 4, d0)
    start(mac, eth.DMAOMR_SR)
    mac.receive_frame(frame(DEV_MAC))
    assert not bus.word(d0) & OWN
    assert not dmasr(mac) & eth.SR_RS


def test_rx_dropped_when_receiver_disabled(bus: FakeBus, mac: EthernetMac) -> None:
    descs = rx_ring(bus, mac, 1)
    mac.write(DMAOMR, 4, eth.DMAOMR_SR)
    mac.receive_frame(frame(DEV_MAC))
    assert bus.word(descs[0]) & OWN


# --- interrupts, status, reset -------------------------------------------------------
def test_interrupt_is_a_level_following_status_and_enable(bus: FakeBus,
                                                          mac: EthernetMac) -> None:
    rx_ring(bus, mac, 4)
    start(mac, eth.DMAOMR_SR)
    mac.receive_frame(frame(DEV_MAC))
    assert dmasr(mac) & eth.SR_RS
    assert not bus.irq_levels.get(61, False)         # not enabled: line stays low
    mac.write(DMAIER, 4, IE_NIS_RIE_TIE)
    assert bus.irq_levels[61] is True
    mac.write(DMASR, 4, eth.SR_RS)                   # NIS is sticky: still high
    assert bus.irq_levels[61] is True
    mac.write(DMASR, 4, eth.SR_NIS)
    assert bus.irq_levels[61] is False
    mac.receive_frame(frame(DEV_MAC))
    assert bus.irq_levels[61] is True
    mac.write(DMAIER, 4, 0)
    assert bus.irq_levels[61] is False
    assert bus.irq_history.count((61, True)) == 2


def test_dmasr_w1c_byte_write_clears_only_its_lane(bus: FakeBus, mac: EthernetMac) -> None:
    rx_ring(bus, mac, 1, own=False)
    mac.write(DMAIER, 4, IE_NIS_RIE_TIE)
    start(mac, eth.DMAOMR_SR)
    before = dmasr(mac)
    assert before & eth.SR_RBUS
    mac.write(DMASR + 2, 1, 0xFF)                    # byte 2 holds NIS, not RBUS
    assert dmasr(mac) & eth.SR_RBUS


def test_soft_reset_restores_registers_and_self_clears(bus: FakeBus, mac: EthernetMac) -> None:
    rx_ring(bus, mac, 1)
    mac.write(DMATDLAR, 4, SRAM + 0x100)               # zeroed: not owned by the DMA
    mac.write(DMAIER, 4, IE_NIS_RIE_TIE)
    start(mac, eth.DMAOMR_SR | eth.DMAOMR_ST)
    mac.receive_frame(frame(DEV_MAC))
    assert bus.irq_levels[61] is True
    mac.write(DMABMR, 4, mac.read(DMABMR, 4) | eth.DMABMR_SR)
    assert mac.read(DMABMR, 4) & eth.DMABMR_SR == 0
    assert mac.read(DMABMR, 4) == 0x00002100
    assert mac.read(MACCR, 4) == 0x00008000
    assert mac.read(MACA0HR, 4) == 0x8000FFFF
    assert mac.read(DMAOMR, 4) == 0 and dmasr(mac) == 0
    assert bus.irq_levels[61] is False


def test_unknown_register_reported_once(bus: FakeBus, mac: EthernetMac) -> None:
    assert mac.read(0x700, 4) == 0
    mac.read(0x700, 4)
    mac.write(0x1028, 4, 5)
    assert [k for k, _ in bus.events] == ["unmodelled", "unmodelled"]
    assert "0x40028700" in bus.events[0][1]


def test_save_load_round_trip(bus: FakeBus, mac: EthernetMac) -> None:
    rx_ring(bus, mac, 1, own=False)
    start(mac, eth.DMAOMR_SR | eth.DMAOMR_DFRF)
    mac.receive_frame(frame(DEV_MAC))
    state = mac.save()
    other = EthernetMac("ethernet", 0x40028000, 0x1400, FakeBus(), {})
    other.load(state)
    assert other.save() == state
    assert other.read(DMASR, 4) == mac.read(DMASR, 4)
    assert len(other.rx_fifo) == 1


# --- MDIO ----------------------------------------------------------------------------
def phy_props() -> dict[str, int]:
    return {"Id1": 0x0007, "Id2": 0xC131, "BasicStatus": 0x782D,
            "AutoNegotiationAdvertisement": 0x01E1,
            "AutoNegotiationLinkPartnerBaseAbility": 0x45E1}


def mdio_read(bus: FakeBus, mac: EthernetMac, pa: int, reg: int) -> int:
    mac.write(MACMIIAR, 4, pa << 11 | reg << 6 | 0b100 << 2 | eth.MACMIIAR_MB)
    polls = 0
    while mac.read(MACMIIAR, 4) & eth.MACMIIAR_MB:
        bus.now_ns += 1000
        polls += 1
        assert polls < 1000, "MB never cleared"
    return mac.read(MACMIIDR, 4)


def test_mdio_reads_phy_ids_and_link(bus: FakeBus, mac: EthernetMac) -> None:
    phy = EthernetPhy("phy", 0, 0, bus, phy_props())
    mac.attach(phy, 0)
    mac.write(MACMIIAR, 4, 2 << 6 | 0b100 << 2 | eth.MACMIIAR_MB)
    assert mac.read(MACMIIAR, 4) & eth.MACMIIAR_MB    # busy for the MDIO frame's time
    assert mdio_read(bus, mac, 0, 2) == 0x0007
    assert mdio_read(bus, mac, 0, 3) == 0xC131
    assert mdio_read(bus, mac, 1, 2) == 0xFFFF       # nobody at address 1
    bus.now_ns += 1_000_000
    assert mdio_read(bus, mac, 0, 1) & 0x0024 == 0x0024   # link up, AN complete
    phy.link_up(False)
    assert mdio_read(bus, mac, 0, 1) & 0x0004 == 0


def test_mdio_write_reaches_phy(bus: FakeBus, mac: EthernetMac) -> None:
    phy = EthernetPhy("phy", 0, 0, bus, phy_props())
    mac.attach(phy, 0)
    mac.write(MACMIIDR, 4, 0x0061)                   # advertise 10 only
    mac.write(MACMIIAR, 4, 4 << 6 | eth.MACMIIAR_MW | eth.MACMIIAR_MB)
    assert phy.mdio_read(4) == 0x0061


def test_no_frames_pass_while_link_down(bus: FakeBus, mac: EthernetMac) -> None:
    phy = EthernetPhy("phy", 0, 0, bus, phy_props())
    mac.attach(phy, 0)
    bus.now_ns = 1_000_000
    descs = rx_ring(bus, mac, 2)
    start(mac, eth.DMAOMR_SR)
    phy.link_up(False)
    mac.receive_frame(frame(DEV_MAC))
    assert bus.word(descs[0]) & OWN
    phy.link_up(True)
    bus.now_ns += 1_000_000
    mac.receive_frame(frame(DEV_MAC))
    assert not bus.word(descs[0]) & OWN


def test_frames_flow_only_when_syscfg_matches_the_phy_wiring(bus: FakeBus,
                                                             mac: EthernetMac) -> None:
    from pybench.engine.builtin.peripherals.syscfg import PMC, Syscfg

    syscfg = Syscfg("syscfg", 0x40013800, 0x400, bus, {})  # type: ignore[arg-type]
    bus.peer = lambda cls: syscfg if cls is Syscfg else None  # type: ignore[attr-defined]
    phy = EthernetPhy("phy", 0, 0, bus, phy_props())   # LAN8742A: RMII
    mac.attach(phy, 0)
    bus.now_ns += 10**6                                 # auto-negotiation done
    assert phy.link and not mac._link_up()              # SYSCFG still selects MII
    notes = [d for k, d in bus.events if k == "ethernet"]
    assert len(notes) == 1 and "selects MII" in notes[0] and "wired for RMII" in notes[0]
    syscfg.write(PMC, 4, 1 << 23)
    assert mac._link_up()
