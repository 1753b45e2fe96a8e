"""A host-side TCP client in virtual time, on scapy's TCP layer (RFC 9293, 6298, 5681).

Good enough to talk to a small embedded stack: active open with an MSS option, a byte
stream cut to the peer's MSS and window, retransmission on a timeout measured in virtual
time (RFC 6298 estimator, Karn's rule, exponential backoff, bounded retries), fast
retransmit on three duplicate ACKs, slow start and congestion avoidance, zero-window
probes, in-order receive, FIN in both directions and RST.

Sequence numbers are kept relative to the initial ones (ISS, IRS) as plain ints, which
makes the arithmetic readable; they are turned into 32-bit wire values only when a
segment is built or parsed. No delayed ACK: every data segment is acknowledged at once,
which keeps the exchange deterministic and easy to read in a pcap.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scapy.layers.inet import IP, TCP
from scapy.packet import Raw

from pybench.net.host import Host, tcp_payload

MOD32 = 1 << 32


class TcpError(Exception):
    """The connection failed: refused, reset, or the peer stopped answering."""


class TcpState(str, enum.Enum):
    CLOSED = "CLOSED"
    SYN_SENT = "SYN-SENT"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"


# States in which our side may still put data or a FIN on the wire.
_SENDING = (TcpState.ESTABLISHED, TcpState.CLOSE_WAIT, TcpState.FIN_WAIT_1,
            TcpState.CLOSING, TcpState.LAST_ACK)


@dataclass(frozen=True)
class TcpConfig:
    """Knobs of the client; times are virtual nanoseconds."""

    mss: int = 1460                   # what we announce; the peer's MSS limits what we send
    rcv_wnd: int = 65535              # what we advertise (no window scaling)
    rto_initial_ns: int = 250_000_000
    rto_min_ns: int = 100_000_000     # lower than RFC 6298's 1 s: the peer is a LAN device
    rto_max_ns: int = 4_000_000_000
    max_retries: int = 8              # timeouts in a row before the connection gives up
    initial_cwnd: int = 4             # segments (RFC 5681 allows up to 4 for our MSS)
    fast_retransmit: bool = True
    time_wait_ns: int = 1_000_000_000


@dataclass
class TcpStats:
    segments_sent: int = 0
    retransmits: int = 0              # segments sent again, for any reason
    timeouts: int = 0
    fast_retransmits: int = 0
    window_probes: int = 0


class TcpConnection:
    """One active-open connection from the host (see the module docstring)."""

    def __init__(self, host: Host, remote_ip: str, remote_port: int,
                 local_port: int | None = None, config: TcpConfig | None = None) -> None:
        self.host = host
        self.cfg = config or TcpConfig()
        self.remote_ip = remote_ip
        self.remote_port = remote_port
        self.local_port = local_port if local_port is not None else host.free_port()
        self.state = TcpState.CLOSED
        self.error: str | None = None
        self.stats = TcpStats()
        self.iss = host.rng.randrange(MOD32)
        self.irs = 0
        # Send side, relative sequence numbers: the SYN is 0, the first data byte 1.
        self._tx = bytearray()        # bytes from snd_una on (unacknowledged or unsent)
        self.snd_una = 0
        self.snd_nxt = 0
        self.snd_wnd = 0
        self.peer_mss = 536           # RFC 9293's default when the SYN-ACK has no option
        self.cwnd = 0
        self.ssthresh = 1 << 30
        self.snd_max = 0              # highest sequence number sent so far, plus one
        self._acked_data = 0
        self._fin_rel: int | None = None   # where our FIN goes, fixed by close()
        # Receive side.
        self.rcv_nxt = 0
        self._rx = bytearray()
        self.peer_fin = False
        self.bytes_received = 0
        # Timers and estimators.
        self.rto_ns = self.cfg.rto_initial_ns
        self._srtt: int | None = None
        self._rttvar = 0
        self._rtt_sample: tuple[int, int] | None = None   # (seq that must be acked, sent at)
        self._rto_timer: int | None = None
        self._retries = 0
        self._dupacks = 0
        self._persist_timer: int | None = None
        self._persist_backoff = 0
        self._probes_unanswered = 0
        # Called after every segment in and when the connection ends: what sits on top
        # (an HTTP exchange) moves on at the virtual time things happen. A bound method,
        # so a saved host carries it.
        self.on_event: Callable[[], None] | None = None

    # --- what the application calls ----------------------------------------------
    def connect(self) -> None:
        self.host.tcp[(self.local_port, self.remote_ip, self.remote_port)] = self
        self.state = TcpState.SYN_SENT
        self.snd_nxt = self.snd_max = 1
        self._rtt_sample = (1, self.host.now_ns)
        self._emit(0, "S", b"", options=[("MSS", self.cfg.mss)])
        self._arm_rto()

    def send(self, data: bytes) -> None:
        if self._fin_rel is not None or self.state not in (*_SENDING, TcpState.SYN_SENT):
            raise TcpError(f"cannot send in state {self.state.value}")
        self._tx += data
        self._output()

    def close(self) -> None:
        """Send FIN once every queued byte went out (a half close: we still read)."""
        if self.state == TcpState.SYN_SENT or self.state in _SENDING:
            if self._fin_rel is None:
                self._fin_rel = self._data_end()
            self._output()

    def abort(self) -> None:
        if self.state not in (TcpState.CLOSED, TcpState.SYN_SENT, TcpState.TIME_WAIT):
            self._emit(self.snd_nxt, "R", b"")
        self._finish(None)

    def read(self) -> bytes:
        data, self._rx = bytes(self._rx), bytearray()
        return data

    @property
    def established(self) -> bool:
        return self.state not in (TcpState.CLOSED, TcpState.SYN_SENT)

    @property
    def closed(self) -> bool:
        """Nothing more will happen: both FINs are through, or the connection failed."""
        return self.state in (TcpState.CLOSED, TcpState.TIME_WAIT)

    @property
    def bytes_acked(self) -> int:
        """Application bytes the peer acknowledged."""
        return self._acked_data

    @property
    def unacked(self) -> int:
        return len(self._tx)

    # --- segments in -------------------------------------------------------------------
    def on_segment(self, ip: IP, tcp: TCP) -> None:
        payload = tcp_payload(ip, tcp)
        flags = tcp.flags
        rel_ack = (tcp.ack - self.iss) % MOD32
        if self.state == TcpState.SYN_SENT:
            self._on_syn_sent(tcp, flags, rel_ack)
            return
        rel_seq = (tcp.seq - self.irs) % MOD32
        if flags.R:
            # Accept a reset only inside the window, as RFC 5961 asks, so stray ones do not
            # kill the connection.
            if self.rcv_nxt <= rel_seq <= self.rcv_nxt + self.cfg.rcv_wnd:
                self._finish("connection reset by peer")
            return
        if flags.S:
            self._send_ack()  # our ACK of the SYN-ACK got lost: the peer sent it again
            return
        if flags.A:
            self._on_ack(tcp, rel_ack, bool(payload) or bool(flags.F))
        self._on_data(rel_seq, payload, bool(flags.F))
        if self.state not in (TcpState.CLOSED,):
            self._output()
        if self.on_event is not None:
            self.on_event()

    def _on_syn_sent(self, tcp: TCP, flags: Any, rel_ack: int) -> None:
        if flags.R:
            if flags.A and rel_ack == 1:
                self._finish(f"connection refused by {self.remote_ip}:{self.remote_port}")
            return
        if not (flags.S and flags.A) or rel_ack != 1:
            return
        self.irs = tcp.seq
        self.rcv_nxt = 1
        for name, value in tcp.options:
            if name == "MSS":
                self.peer_mss = int(value)  # type: ignore[call-overload]
        self.snd_una = 1
        self.snd_wnd = tcp.window
        self.cwnd = self.cfg.initial_cwnd * self.peer_mss
        self._take_rtt(rel_ack)
        self._retries = 0
        self._cancel_rto()
        self.state = TcpState.ESTABLISHED
        self._send_ack()
        self._output()

    def _on_ack(self, tcp: TCP, rel_ack: int, carries_data: bool) -> None:
        self._probes_unanswered = 0
        old_wnd = self.snd_wnd
        if self.snd_una < rel_ack <= self.snd_max:
            acked = rel_ack - self.snd_una
            data_acked = max(0, min(rel_ack, self._data_end()) - self._tx_base())
            del self._tx[:data_acked]
            self._acked_data += data_acked
            self.snd_una = rel_ack
            self.snd_nxt = max(self.snd_nxt, rel_ack)
            self._take_rtt(rel_ack)
            self._retries = 0
            self._dupacks = 0
            self.rto_ns = self._computed_rto()
            if self.cwnd < self.ssthresh:
                self.cwnd += min(acked, self.peer_mss)
            else:
                self.cwnd += max(1, self.peer_mss * self.peer_mss // self.cwnd)
            self._cancel_rto()
            if self.snd_nxt > self.snd_una:
                self._arm_rto()
            if self._fin_rel is not None and rel_ack > self._fin_rel:
                self._on_fin_acked()
        elif (rel_ack == self.snd_una and not carries_data and tcp.window == old_wnd
              and self.snd_nxt > self.snd_una):
            self._dupacks += 1
            if self._dupacks == 3 and self.cfg.fast_retransmit:
                self._fast_retransmit()
        elif rel_ack > self.snd_max:
            self._send_ack()  # acknowledges something never sent: tell the peer where we are
            return
        self.snd_wnd = tcp.window
        if self.snd_wnd > 0 and self._persist_timer is not None:
            self.host.timers.cancel(self._persist_timer)
            self._persist_timer = None
            self._persist_backoff = 0

    def _on_fin_acked(self) -> None:
        if self.state == TcpState.FIN_WAIT_1:
            self.state = TcpState.FIN_WAIT_2
        elif self.state == TcpState.CLOSING:
            self._enter_time_wait()
        elif self.state == TcpState.LAST_ACK:
            self._finish(None)

    def _on_data(self, rel_seq: int, payload: bytes, fin: bool) -> None:
        if self.state in (TcpState.CLOSED, TcpState.TIME_WAIT) and not fin:
            return
        end = rel_seq + len(payload)
        if payload and rel_seq <= self.rcv_nxt < end and not self.peer_fin:
            fresh = payload[self.rcv_nxt - rel_seq:]
            self._rx += fresh
            self.bytes_received += len(fresh)
            self.rcv_nxt = end
        if fin and end == self.rcv_nxt and not self.peer_fin:
            self.peer_fin = True
            self.rcv_nxt += 1
            if self.state == TcpState.ESTABLISHED:
                self.state = TcpState.CLOSE_WAIT
            elif self.state == TcpState.FIN_WAIT_1:
                self.state = TcpState.CLOSING
            elif self.state == TcpState.FIN_WAIT_2:
                self._enter_time_wait()
        if payload or fin:
            self._send_ack()  # also a duplicate ACK for out-of-order or repeated data

    # --- segments out -----------------------------------------------------------------
    def _tx_base(self) -> int:
        """Relative sequence number of the first byte in _tx (data starts after the SYN)."""
        return max(self.snd_una, 1)

    def _data_end(self) -> int:
        """Relative sequence number just past the last queued data byte."""
        return self._tx_base() + len(self._tx)

    def _output(self) -> None:
        if self.state not in _SENDING:
            return
        data_end = self._data_end()
        while self.snd_nxt < data_end:
            flight = self.snd_nxt - self.snd_una
            usable = min(self.snd_wnd, self.cwnd) - flight
            n = min(self.peer_mss, usable, data_end - self.snd_nxt)
            if n <= 0:
                break
            if n < self.peer_mss and n < data_end - self.snd_nxt and flight > 0:
                break  # avoid the silly window syndrome: wait for a fuller window
            offset = self.snd_nxt - self._tx_base()
            chunk = bytes(self._tx[offset:offset + n])
            last = self.snd_nxt + n == data_end
            self._emit(self.snd_nxt, "PA" if last else "A", chunk)
            if self._rtt_sample is None:
                self._rtt_sample = (self.snd_nxt + n, self.host.now_ns)
            self.snd_nxt += n
            self.snd_max = max(self.snd_max, self.snd_nxt)
            self._arm_rto()
        if self._fin_rel is not None and self.snd_nxt == self._fin_rel:
            self._emit(self.snd_nxt, "FA", b"")
            self.snd_nxt += 1
            self.snd_max = max(self.snd_max, self.snd_nxt)
            if self.state == TcpState.ESTABLISHED:
                self.state = TcpState.FIN_WAIT_1
            elif self.state == TcpState.CLOSE_WAIT:
                self.state = TcpState.LAST_ACK
            self._arm_rto()
        if (self.snd_nxt < data_end and self.snd_wnd == 0 and self.snd_nxt == self.snd_una
                and self._persist_timer is None):
            delay = min(self.rto_ns << self._persist_backoff, self.cfg.rto_max_ns)
            self._persist_timer = self.host.call_later(delay, self._on_persist)

    def _emit(self, rel_seq: int, flags: str, payload: bytes,
              options: list[tuple[str, int]] | None = None) -> None:
        window = max(0, min(0xFFFF, self.cfg.rcv_wnd - len(self._rx)))
        seg = TCP(sport=self.local_port, dport=self.remote_port,
                  seq=(self.iss + rel_seq) % MOD32,
                  ack=(self.irs + self.rcv_nxt) % MOD32 if "A" in flags else 0,
                  flags=flags, window=window, options=options or [])
        packet = IP(dst=self.remote_ip) / seg
        if payload:
            packet = packet / Raw(payload)
        self.stats.segments_sent += 1
        self.host.send_ip(packet)

    def _send_ack(self) -> None:
        self._emit(self.snd_nxt, "A", b"")

    # --- timers -------------------------------------------------------------------------
    def _arm_rto(self) -> None:
        if self._rto_timer is None:
            self._rto_timer = self.host.call_later(self.rto_ns, self._on_rto)

    def _cancel_rto(self) -> None:
        self.host.timers.cancel(self._rto_timer)
        self._rto_timer = None

    def _on_rto(self) -> None:
        self._rto_timer = None
        if self.closed or self.snd_nxt == self.snd_una:
            return
        self._retries += 1
        self.stats.timeouts += 1
        if self._retries > self.cfg.max_retries:
            self._finish(f"{self.remote_ip}:{self.remote_port}: no answer after "
                         f"{self.cfg.max_retries} retransmissions")
            return
        self.rto_ns = min(self.rto_ns * 2, self.cfg.rto_max_ns)
        self._rtt_sample = None  # Karn: no RTT from a retransmitted segment
        if self.state == TcpState.SYN_SENT:
            self.stats.retransmits += 1
            self._emit(0, "S", b"", options=[("MSS", self.cfg.mss)])
            self._arm_rto()
            return
        flight = self.snd_nxt - self.snd_una
        self.ssthresh = max(flight // 2, 2 * self.peer_mss)
        self.cwnd = self.peer_mss
        # Go back N: everything after snd_una is sent again, paced by the reset cwnd.
        self.snd_nxt = self.snd_una
        segments = self.stats.segments_sent
        self._output()
        self.stats.retransmits += self.stats.segments_sent - segments
        self._arm_rto()

    def _fast_retransmit(self) -> None:
        flight = self.snd_nxt - self.snd_una
        self.ssthresh = max(flight // 2, 2 * self.peer_mss)
        self.cwnd = self.ssthresh
        self._rtt_sample = None
        self.stats.fast_retransmits += 1
        self.stats.retransmits += 1
        n = min(self.peer_mss, len(self._tx))
        if n:
            self._emit(self._tx_base(), "A", bytes(self._tx[:n]))
        elif self._fin_rel is not None:
            self._emit(self._fin_rel, "FA", b"")

    def _on_persist(self) -> None:
        self._persist_timer = None
        if self.closed or self.snd_wnd > 0 or self.snd_nxt >= self._data_end():
            self._persist_backoff = 0
            return
        self._probes_unanswered += 1
        if self._probes_unanswered > self.cfg.max_retries:
            self._finish(f"{self.remote_ip}:{self.remote_port}: window stayed closed and "
                         f"{self.cfg.max_retries} probes got no answer")
            return
        # The probe carries the next byte; a peer whose window opened keeps it.
        offset = self.snd_nxt - self._tx_base()
        self.stats.window_probes += 1
        self._emit(self.snd_nxt, "A", bytes(self._tx[offset:offset + 1]))
        self.snd_max = max(self.snd_max, self.snd_nxt + 1)
        self._persist_backoff += 1
        delay = min(self.rto_ns << self._persist_backoff, self.cfg.rto_max_ns)
        self._persist_timer = self.host.call_later(delay, self._on_persist)

    def _take_rtt(self, rel_ack: int) -> None:
        if self._rtt_sample is None or rel_ack < self._rtt_sample[0]:
            return
        sample = self.host.now_ns - self._rtt_sample[1]
        self._rtt_sample = None
        if self._srtt is None:
            self._srtt, self._rttvar = sample, sample // 2
        else:
            self._rttvar = (3 * self._rttvar + abs(self._srtt - sample)) // 4
            self._srtt = (7 * self._srtt + sample) // 8
        self.rto_ns = self._computed_rto()

    def _computed_rto(self) -> int:
        if self._srtt is None:
            return self.rto_ns
        rto = self._srtt + max(1_000_000, 4 * self._rttvar)
        return max(self.cfg.rto_min_ns, min(rto, self.cfg.rto_max_ns))

    @property
    def srtt_ns(self) -> int | None:
        return self._srtt

    def _enter_time_wait(self) -> None:
        self.state = TcpState.TIME_WAIT
        self._cancel_rto()
        self.host.call_later(self.cfg.time_wait_ns, self._unregister)

    def _finish(self, error: str | None) -> None:
        if error and self.error is None:
            self.error = error
        self.state = TcpState.CLOSED
        self._cancel_rto()
        self.host.timers.cancel(self._persist_timer)
        self._persist_timer = None
        self._unregister()
        if self.on_event is not None:
            self.on_event()

    def _unregister(self) -> None:
        key = (self.local_port, self.remote_ip, self.remote_port)
        if self.host.tcp.get(key) is self:
            del self.host.tcp[key]

    def check(self) -> None:
        """Raise TcpError when the connection failed."""
        if self.error:
            raise TcpError(self.error)
