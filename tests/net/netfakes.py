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
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import ICMP, IP, TCP, UDP
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

# (delay in ns, frame), or (delay, work): work() runs at that time and answers with frames.
Reply = list[tuple[int, "bytes | Callable[[], Reply]"]]
BROADCAST_IP = "255.255.255.255"
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
            if callable(frame):
                for delay, reply in frame():
                    self.emit(reply, delay)
                continue
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

    def emit(self, frame: bytes | Callable[[], Reply], delay_ns: int = 0) -> None:
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


def http_request_complete(data: bytes) -> bool:
    """The bytes hold a whole HTTP request: its head and Content-Length bytes of body."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep or not head.split(b" ", 1)[0].isalpha():
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


@dataclass
class TcpPeer:
    """A scripted TCP server: accepts one connection, ACKs in-order data, and can lose
    segments, hold its window shut, and answer the stream with a response and FIN.

    It answers once `complete(data)` says the request is in (an HTTP request with its
    body), or at the client's FIN. `work_ns` puts time between the request and the
    answer; with `fin_drops_work`, a FIN that arrives in that time makes it close without
    answering and without doing the work, as lwIP's httpd does (`dropped` says so)."""

    mss: int = 536
    window: int = 4096
    delay_ns: int = 1_000_000
    drop: Callable[[int, TCP], bool] = lambda index, seg: False   # index of data segment
    window_for: Callable[[int], int] | None = None                 # window after n bytes
    respond: Callable[[bytes], bytes | None] = lambda data: None   # full request -> reply
    complete: Callable[[bytes], bool] = http_request_complete
    work_ns: int = 0
    fin_drops_work: bool = False
    working: bool = False
    dropped: bool = False
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
        if self.working and self.fin_received and self.fin_drops_work:
            # The client's FIN ends the connection for this server: the work is dropped.
            self.working, self.dropped, self.responded = False, True, True
            out += self._reply(seg, "FA", seq=self.snd_nxt, ack=self.rcv_nxt)
            self.snd_nxt += 1
        elif not self.responded and not self.working and (
                self.fin_received or self.complete(bytes(self.data))):
            if self.work_ns:
                self.working = True
                out.append((self.work_ns, lambda: self._answer(seg)))
            else:
                out += self._answer(seg)
        if seg.flags.A and not payload and not seg.flags.F and self.responded:
            self.closed = seg.ack == self.snd_nxt
        return out

    def _answer(self, seg: TCP) -> Reply:
        """The response and the server's FIN (nothing when the work was dropped)."""
        if self.responded:
            return []
        self.working = False
        self.responded = True
        out: Reply = []
        reply = self.respond(bytes(self.data))
        if reply is not None:
            out += self._reply(seg, "PA", seq=self.snd_nxt, ack=self.rcv_nxt, data=reply)
            self.snd_nxt += len(reply)
        out += self._reply(seg, "FA", seq=self.snd_nxt, ack=self.rcv_nxt)
        self.snd_nxt += 1
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
    """A scripted TFTP server for one write: what it answers to the request and blocks.

    `stall_ns` makes it answer a request that long after it came (a device erasing its
    flash), and DATA that arrives while an erase runs waits for its end. With
    `tid_per_request` every request, retransmissions too, opens a transfer of its own
    from a new port (tid, tid + 1, ...), as a naive server does."""

    oack: dict[str, str] | None = None        # None: ignore options, answer ACK 0
    error: tuple[int, str] | None = None      # answer the request with this ERROR
    lose_acks: set[int] = field(default_factory=set)   # blocks whose first DATA is lost
    dup_ack_after: int | None = None          # send the ACK of this block twice
    tid: int = 40000
    delay_ns: int = 1_000_000
    stall_ns: int = 0
    tid_per_request: bool = False
    busy_until: int = 0
    blocks: dict[int, bytes] = field(default_factory=dict)
    requests: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    data_times: list[tuple[int, int]] = field(default_factory=list)   # (time, block)
    data_ports: set[int] = field(default_factory=set)   # server ports the DATA went to
    errors_seen: list[tuple[int, str]] = field(default_factory=list)
    error_ports: list[int] = field(default_factory=list)
    answer_times: list[tuple[int, int]] = field(default_factory=list)   # (time, our port)
    client_port: int = 0
    _now: int = 0

    def __call__(self, frame: bytes, now: int) -> Reply:
        arp = arp_reply(frame)
        if arp is not None:
            return arp
        pkt = Ether(frame)
        if UDP not in pkt:
            return []
        udp = pkt[UDP]
        msg = decode(bytes(udp.payload))
        self._now = now
        wait = max(0, self.busy_until - now)  # DATA waits for a running erase
        if msg.op == Op.WRQ:
            self.client_port = udp.sport
            self.requests.append((now, msg.options))
            self.busy_until = max(self.busy_until, now + self.stall_ns)
            port = self.tid + (len(self.requests) - 1 if self.tid_per_request else 0)
            wait = self.stall_ns
            if self.error:
                return self._send(encode_error(*self.error), port, wait)
            return self._send(encode_oack(self.oack) if self.oack is not None
                              else encode_ack(0), port, wait)
        if msg.op == Op.ERROR:
            self.errors_seen.append((msg.code, msg.message))
            self.error_ports.append(udp.dport)
            return []
        if msg.op == Op.DATA:
            self.data_times.append((now, msg.block))
            self.data_ports.add(udp.dport)
            if msg.block in self.lose_acks:
                self.lose_acks.discard(msg.block)
                return []
            self.blocks[msg.block] = msg.data
            reply = self._send(encode_ack(msg.block), udp.dport, wait)
            if self.dup_ack_after == msg.block:
                reply += self._send(encode_ack(msg.block), udp.dport, wait)
            return reply
        return []

    def file(self) -> bytes:
        return b"".join(self.blocks[i] for i in sorted(self.blocks))

    def _send(self, payload: bytes, sport: int | None = None, wait: int = 0) -> Reply:
        port = sport or self.tid
        packet = IP(src=DEVICE_IP, dst="192.168.7.1") / UDP(
            sport=port, dport=self.client_port) / Raw(payload)
        self.answer_times.append((self._now + wait + self.delay_ns, port))
        return [(wait + self.delay_ns, device_frame(packet))]


@dataclass
class DhcpClientPeer:
    """A device that gets its address by DHCP, on scapy's layers: DISCOVER at start(),
    REQUEST for the first offer, renewals (unicast to the server) at T1 after each ACK;
    once bound it answers ARP and ping for its address. `events` lists what it got."""

    mac: str = DEVICE_MAC
    xid: int = 0x1234
    broadcast_flag: bool = False
    renew: bool = True
    address: str | None = None
    server: str | None = None
    server_mac: str | None = None
    t1_s: int = 0
    lease_s: int = 0
    events: list[tuple[int, str, str]] = field(default_factory=list)  # (time, kind, yiaddr)
    _now: int = 0

    def start(self) -> Reply:
        return [(0, self._client_frame(BROADCAST_IP, "ff:ff:ff:ff:ff:ff",
                                       [("message-type", "discover")]))]

    def __call__(self, frame: bytes, now: int) -> Reply:
        self._now = now
        pkt = Ether(frame)
        if ARP in pkt and pkt[ARP].op == 1 and self.address and pkt[ARP].pdst == self.address:
            return [(10_000, bytes(Ether(src=self.mac, dst=pkt[ARP].hwsrc) / ARP(
                op="is-at", hwsrc=self.mac, psrc=self.address, hwdst=pkt[ARP].hwsrc,
                pdst=pkt[ARP].psrc)))]
        if ICMP in pkt and pkt[ICMP].type == 8 and self.address and pkt[IP].dst == self.address:
            return [(10_000, bytes(Ether(src=self.mac, dst=pkt.src)
                                   / IP(src=self.address, dst=pkt[IP].src)
                                   / ICMP(type="echo-reply", id=pkt[ICMP].id,
                                          seq=pkt[ICMP].seq) / Raw(bytes(pkt[ICMP].payload))))]
        if BOOTP not in pkt or DHCP not in pkt or pkt[BOOTP].xid != self.xid:
            return []
        options = {o[0]: o[1] for o in pkt[DHCP].options if isinstance(o, tuple)}
        kind = {2: "offer", 5: "ack", 6: "nak"}.get(int(options.get("message-type", 0)), "?")
        yiaddr = str(pkt[BOOTP].yiaddr)
        self.events.append((now, kind, yiaddr))
        if kind == "offer" and self.address is None:
            return [(10_000, self._client_frame(BROADCAST_IP, "ff:ff:ff:ff:ff:ff", [
                ("message-type", "request"), ("server_id", options["server_id"]),
                ("requested_addr", yiaddr)]))]
        if kind == "ack":
            self.address, self.server, self.server_mac = yiaddr, options["server_id"], pkt.src
            self.t1_s, self.lease_s = options["renewal_time"], options["lease_time"]
            if self.renew:
                return [(self.t1_s * 1_000_000_000, self._renewal)]
        if kind == "nak":
            self.address = None
        return []

    def _renewal(self) -> Reply:
        assert self.address is not None and self.server is not None
        return [(0, self._client_frame(self.server, self.server_mac or "ff:ff:ff:ff:ff:ff",
                                       [("message-type", "request")], ciaddr=self.address))]

    def _client_frame(self, dst: str, dst_mac: str, options: list[object],
                      ciaddr: str = "0.0.0.0") -> bytes:
        src = ciaddr if ciaddr != "0.0.0.0" else "0.0.0.0"
        return bytes(Ether(src=self.mac, dst=dst_mac) / IP(src=src, dst=dst)
                     / UDP(sport=68, dport=67)
                     / BOOTP(op=1, xid=self.xid, ciaddr=ciaddr,
                             flags=0x8000 if self.broadcast_flag else 0,
                             chaddr=bytes.fromhex(self.mac.replace(":", "")))
                     / DHCP(options=[*options, "end"]))
