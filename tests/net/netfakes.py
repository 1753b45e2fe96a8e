"""A scripted board for the network tests: an Engine whose Ethernet port is a Python peer.

FakeEngine implements the engine interface with virtual time only: frames the host
sends go to a peer function, which answers with frames after given virtual delays.
The peers below (ARP, TCP receiver, TFTP server) are small and scripted, so each test
decides what gets lost, delayed or refused.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sample_device import DEVICE_IP, DEVICE_MAC, HOST_MAC
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet, Raw

from pybench.engine.base import (
    BoardEvent,
    CpuState,
    Engine,
    FlashOp,
    PowerCut,
    RunResult,
    StopCondition,
    StopReason,
    UartLog,
)
from pybench.net.tftp import Op, decode, encode_ack, encode_error, encode_oack

Reply = list[tuple[int, bytes]]           # (delay in ns, frame)
Peer = Callable[[bytes, int], Reply]


class FakeEngine(Engine):
    name = "fake"

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self._now = 0
        self._queue: list[tuple[int, int, bytes]] = []
        self._seq = 0
        self._out: list[tuple[int, bytes]] = []
        self.received: list[tuple[int, bytes]] = []   # frames the host sent, with times
        self._uart = UartLog()

    # the parts the wire uses
    def run(self, duration_ns: int, stop: StopCondition | None = None) -> RunResult:
        deadline = self._now + duration_ns
        while self._queue and self._queue[0][0] <= deadline:
            time_ns, _, frame = heapq.heappop(self._queue)
            self._now = max(self._now, time_ns)
            self._out.append((self._now, frame))
            if stop is not None and stop():
                return RunResult(StopReason.CONDITION, self._now)
        self._now = deadline
        return RunResult(StopReason.DEADLINE, self._now)

    @property
    def now_ns(self) -> int:
        return self._now

    def send_frame(self, frame: bytes) -> None:
        self.received.append((self._now, frame))
        for delay, reply in self.peer(frame, self._now):
            self.emit(reply, delay)

    def emit(self, frame: bytes, delay_ns: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (self._now + delay_ns, self._seq, frame))

    def take_frames(self) -> list[tuple[int, bytes]]:
        out, self._out = self._out, []
        return out

    def snapshot(self) -> object:
        return (self._now, list(self._queue), self._seq, list(self.received))

    def restore(self, snap: object) -> None:
        assert isinstance(snap, tuple)
        self._now, queue, self._seq, received = snap
        self._queue = list(queue)
        self.received = list(received)

    def uart(self) -> UartLog:
        return self._uart

    # the rest of the interface, unused by the network tests
    def load_platform(self, platform: Path) -> None: ...
    def load_elf(self, elf: Path) -> None: ...
    def power_on(self) -> None: ...
    def arm_power_cut(self, cut: PowerCut | None) -> None: ...
    def cpu_state(self) -> CpuState:
        return CpuState(pc=0, sp=0, ipsr=0, in_fault_handler=False)
    def events(self) -> list[BoardEvent]:
        return []
    def read_flash(self, addr: int, size: int) -> bytes:
        return b"\xff" * size
    def write_flash(self, addr: int, data: bytes) -> None: ...
    def flash_trace(self) -> Sequence[FlashOp]:
        return []
    def reset_trace(self) -> None: ...


def device_frame(packet: Packet) -> bytes:
    return bytes(Ether(src=DEVICE_MAC, dst=HOST_MAC) / packet)


def arp_reply(frame: bytes) -> Reply | None:
    """The device's answer to an ARP request for its address, None for other frames."""
    pkt = Ether(frame)
    if ARP in pkt and pkt[ARP].op == 1 and pkt[ARP].pdst == DEVICE_IP:
        return [(10_000, device_frame(ARP(op="is-at", hwsrc=DEVICE_MAC, psrc=DEVICE_IP,
                                          hwdst=pkt[ARP].hwsrc, pdst=pkt[ARP].psrc)))]
    return None


@dataclass
class TcpPeer:
    """A scripted TCP server: accepts one connection, ACKs in-order data, and can lose
    segments, hold its window shut, and answer the stream with a response and FIN."""

    mss: int = 536
    window: int = 4096
    delay_ns: int = 1_000_000
    drop: Callable[[int, TCP], bool] = lambda index, seg: False   # index of data segment
    window_for: Callable[[int], int] | None = None                 # window after n bytes
    respond: Callable[[bytes], bytes | None] = lambda data: None   # full request -> reply
    silent_after_syn: bool = False
    refuse: bool = False
    iss: int = 1_000_000
    data: bytearray = field(default_factory=bytearray)
    segments: list[tuple[int, TCP]] = field(default_factory=list)   # (time, data segment)
    syns: list[int] = field(default_factory=list)
    rcv_nxt: int = 0
    snd_nxt: int = 0
    fin_received: bool = False
    responded: bool = False
    closed: bool = False
    max_in_flight: int = 0

    def __call__(self, frame: bytes, now: int) -> Reply:
        arp = arp_reply(frame)
        if arp is not None:
            return arp
        pkt = Ether(frame)
        if TCP not in pkt:
            return []
        seg = pkt[TCP]
        if seg.flags.S:
            self.syns.append(now)
            if self.refuse:
                return self._reply(seg, "RA", seq=0, ack=seg.seq + 1)
            self.rcv_nxt = seg.seq + 1
            self.snd_nxt = self.iss + 1
            return self._reply(seg, "SA", seq=self.iss, ack=self.rcv_nxt,
                               options=[("MSS", self.mss)])
        if self.silent_after_syn:
            return []
        payload = bytes(seg.payload)
        out: Reply = []
        if payload:
            index = len(self.segments)
            self.segments.append((now, seg))
            self.max_in_flight = max(self.max_in_flight,
                                     (seg.seq + len(payload)) - self.rcv_nxt)
            if self.drop(index, seg):
                return []
            if seg.seq == self.rcv_nxt and len(self.data) + len(payload) <= self._window_now():
                self.data += payload
                self.rcv_nxt += len(payload)
            elif seg.seq == self.rcv_nxt:
                pass  # beyond the window: not taken, the ACK says where we are
        if seg.flags.F and seg.seq + len(payload) == self.rcv_nxt:
            self.rcv_nxt += 1
            self.fin_received = True
        if payload or seg.flags.F:
            out += self._reply(seg, "A", seq=self.snd_nxt, ack=self.rcv_nxt)
        if self.fin_received and not self.responded:
            self.responded = True
            reply = self.respond(bytes(self.data))
            if reply is not None:
                out += self._reply(seg, "PA", seq=self.snd_nxt, ack=self.rcv_nxt, data=reply)
                self.snd_nxt += len(reply)
            out += self._reply(seg, "FA", seq=self.snd_nxt, ack=self.rcv_nxt)
            self.snd_nxt += 1
        if seg.flags.A and not payload and not seg.flags.F and self.responded:
            self.closed = seg.ack == self.snd_nxt
        return out

    def _window_now(self) -> int:
        if self.window_for is None:
            return len(self.data) + self.window
        return len(self.data) + self.window_for(len(self.data))

    def _reply(self, seg: TCP, flags: str, seq: int, ack: int, data: bytes = b"",
               options: list[tuple[str, int]] | None = None) -> Reply:
        window = self.window if self.window_for is None else self.window_for(len(self.data))
        tcp = TCP(sport=seg.dport, dport=seg.sport, seq=seq % (1 << 32), ack=ack % (1 << 32),
                  flags=flags, window=window, options=options or [])
        packet = IP(src=DEVICE_IP, dst=seg.underlayer.src) / tcp
        if data:
            packet = packet / Raw(data)
        return [(self.delay_ns, device_frame(packet))]


@dataclass
class TftpPeer:
    """A scripted TFTP server for one write: what it answers to the request and blocks."""

    oack: dict[str, str] | None = None        # None: ignore options, answer ACK 0
    error: tuple[int, str] | None = None      # answer the request with this ERROR
    lose_acks: set[int] = field(default_factory=set)   # blocks whose first DATA is lost
    dup_ack_after: int | None = None          # send the ACK of this block twice
    tid: int = 40000
    delay_ns: int = 1_000_000
    blocks: dict[int, bytes] = field(default_factory=dict)
    requests: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    data_times: list[tuple[int, int]] = field(default_factory=list)   # (time, block)
    errors_seen: list[tuple[int, str]] = field(default_factory=list)
    client_port: int = 0

    def __call__(self, frame: bytes, now: int) -> Reply:
        arp = arp_reply(frame)
        if arp is not None:
            return arp
        pkt = Ether(frame)
        if UDP not in pkt:
            return []
        udp = pkt[UDP]
        msg = decode(bytes(udp.payload))
        if msg.op == Op.WRQ:
            self.client_port = udp.sport
            self.requests.append((now, msg.options))
            if self.error:
                return self._send(encode_error(*self.error))
            return self._send(encode_oack(self.oack) if self.oack is not None
                              else encode_ack(0))
        if msg.op == Op.ERROR:
            self.errors_seen.append((msg.code, msg.message))
            return []
        if msg.op == Op.DATA:
            self.data_times.append((now, msg.block))
            if msg.block in self.lose_acks:
                self.lose_acks.discard(msg.block)
                return []
            self.blocks[msg.block] = msg.data
            reply = self._send(encode_ack(msg.block))
            if self.dup_ack_after == msg.block:
                reply += self._send(encode_ack(msg.block))
            return reply
        return []

    def file(self) -> bytes:
        return b"".join(self.blocks[i] for i in sorted(self.blocks))

    def _send(self, payload: bytes, sport: int | None = None) -> Reply:
        packet = IP(src=DEVICE_IP, dst="192.168.7.1") / UDP(
            sport=sport or self.tid, dport=self.client_port) / Raw(payload)
        return [(self.delay_ns, device_frame(packet))]
