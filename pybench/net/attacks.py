"""Hostile and heavy traffic for the server's robustness tests, made by the bench's host.

Three kinds of load a small embedded server must hold up under (issue 16), each a plain
object in virtual time like the rest of the host (pybench/net/host.py): no engine, no
thread, timers fired by the wire, callbacks that are bound methods so a snapshot of the
host (copy.deepcopy) carries an attack in progress.

- SlowHeaders ("slowloris"): connections that send a request head a byte at a time and
  never finish it, reopened by the next tick when the server ends them.
- SynFlood: SYNs whose SYN-ACKs are swallowed, as from a host that never completes the
  handshake (a spoofed source, or a firewall in the way).
- Burst: many clients opening a connection at about the same time, one request each.

Nothing here knows a device: the server's address and port are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from scapy.layers.inet import IP, TCP

from pybench.net.host import Host
from pybench.net.http import HttpError, HttpExchange, HttpResponse
from pybench.net.tcp import TcpConnection, TcpError, TcpState

SECOND = 1_000_000_000
MOD32 = 1 << 32

# Bytes a slow client trickles after its request line: header lines that never end the
# head (no empty line), so the server keeps waiting for more.
TRICKLE = b"X-a: b\r\n"


@dataclass
class SlowHeadersStats:
    opened: int = 0            # connections opened, reopenings included
    reopened: int = 0          # connections the server had ended, replaced by a tick
    bytes_trickled: int = 0


class SlowHeaders:
    """`connections` clients that each send `first`, then one byte of TRICKLE per interval.

    Each tick a connection the server ended is counted and opened again, as the slowloris
    tool does, so the attack keeps its number of connections for as long as it runs.
    """

    def __init__(self, host: Host, server: str, port: int, connections: int,
                 interval_ns: int = 30 * SECOND,
                 first: bytes = b"GET / HTTP/1.1\r\nHost: bench\r\n") -> None:
        if connections < 1 or interval_ns <= 0:
            raise ValueError("SlowHeaders: connections >= 1 and interval_ns > 0")
        self.host, self.server, self.port = host, server, port
        self.count, self.interval_ns, self.first = connections, interval_ns, first
        self.conns: list[TcpConnection] = []
        self.stats = SlowHeadersStats()
        self.running = False
        self._timer: int | None = None
        self._pos = 0

    def start(self) -> None:
        self.running = True
        self.conns = [self._open() for _ in range(self.count)]
        self._timer = self.host.call_later(self.interval_ns, self._tick)

    def stop(self) -> None:
        self.running = False
        self.host.timers.cancel(self._timer)
        self._timer = None
        for conn in self.conns:
            conn.abort()

    @property
    def established(self) -> int:
        """Connections of the attack the server has accepted and not ended."""
        return sum(1 for c in self.conns if c.established and not self._ended(c))

    @property
    def ended_by_server(self) -> int:
        """Connections the server accepted and then closed (FIN) or reset, so far."""
        return self.stats.reopened + sum(1 for c in self.conns if self._ended_by_server(c))

    def _open(self) -> TcpConnection:
        conn = TcpConnection(self.host, self.server, self.port)
        conn.connect()
        conn.send(self.first)
        self.stats.opened += 1
        return conn

    @staticmethod
    def _ended(conn: TcpConnection) -> bool:
        return conn.peer_fin or conn.state == TcpState.CLOSED

    @classmethod
    def _ended_by_server(cls, conn: TcpConnection) -> bool:
        return conn.rcv_nxt > 0 and cls._ended(conn)   # rcv_nxt: the SYN-ACK came

    def _tick(self) -> None:
        self._timer = None
        if not self.running:
            return
        byte = TRICKLE[self._pos % len(TRICKLE):][:1]
        self._pos += 1
        for i, conn in enumerate(self.conns):
            if self._ended(conn):
                if self._ended_by_server(conn):
                    self.stats.reopened += 1
                conn.abort()
                self.conns[i] = self._open()
                continue
            try:
                conn.send(byte)
                self.stats.bytes_trickled += 1
            except TcpError:
                pass   # still connecting: the byte waits for the next tick
        self._timer = self.host.call_later(self.interval_ns, self._tick)


class SynFlood:
    """Rounds of `count` SYNs from fresh ports, `spacing_ns` apart (so that the device's
    receive ring does not drop most of them), a round every `interval_ns` (0: one round).

    Registered as the host's TCP handler for its ports and swallows the SYN-ACKs, so the
    host's own stack does not answer them with resets (which would tidy the half-open
    connections away), as from a spoofed source or behind a firewall.
    """

    def __init__(self, host: Host, server: str, port: int, count: int,
                 interval_ns: int = 0, spacing_ns: int = 1_000_000) -> None:
        if count < 1 or interval_ns < 0 or spacing_ns < 0:
            raise ValueError("SynFlood: count >= 1, interval_ns >= 0 and spacing_ns >= 0")
        self.host, self.server, self.port = host, server, port
        self.count, self.interval_ns, self.spacing_ns = count, interval_ns, spacing_ns
        self.syns_sent = 0
        self.syn_acks = 0
        self.ports: list[int] = []
        self.running = False
        self._timers: list[int] = []

    def start(self) -> None:
        self.running = True
        self._send_round()

    def stop(self) -> None:
        self.running = False
        for timer in self._timers:
            self.host.timers.cancel(timer)
        self._timers.clear()
        for sport in self.ports:
            key = (sport, self.server, self.port)
            if self.host.tcp.get(key) is self:
                del self.host.tcp[key]

    def on_segment(self, ip: IP, tcp: TCP) -> None:
        if tcp.flags.S and tcp.flags.A:
            self.syn_acks += 1

    def _send_round(self) -> None:
        if not self.running:
            return
        self._timers = [self.host.call_later(i * self.spacing_ns, self._send_syn)
                        for i in range(self.count)]
        if self.interval_ns:
            self._timers.append(self.host.call_later(self.interval_ns, self._send_round))

    def _send_syn(self) -> None:
        if not self.running:
            return
        sport = self.host.free_port()
        self.host.tcp[(sport, self.server, self.port)] = self
        self.ports.append(sport)
        self.host.send_ip(IP(dst=self.server)
                          / TCP(sport=sport, dport=self.port, flags="S",
                                seq=self.host.rng.randrange(MOD32), window=65535,
                                options=[("MSS", 1460)]))
        self.syns_sent += 1


class Burst:
    """`clients` connections opened within `spread_ns`, each sending `request`.

    Each client starts at its own seeded-random offset inside the spread: clients on
    different machines never start in the same nanosecond, and clients that did would
    also retransmit in the same nanosecond forever after (their timers double in step),
    a lock-step no real network shows.
    """

    def __init__(self, host: Host, server: str, port: int, clients: int, request: bytes,
                 spread_ns: int = 0) -> None:
        if clients < 1 or spread_ns < 0:
            raise ValueError("Burst: clients >= 1 and spread_ns >= 0")
        self.host, self.server, self.port, self.request = host, server, port, request
        self.clients = clients
        self.exchanges: list[HttpExchange] = []
        offsets = sorted(host.rng.randrange(spread_ns) if spread_ns else 0
                         for _ in range(clients))
        for offset in offsets:
            if offset:
                host.call_later(offset, self._start_one)
            else:
                self._start_one()

    def _start_one(self) -> None:
        self.exchanges.append(HttpExchange(self.host, self.server, self.port, self.request))

    @property
    def done(self) -> bool:
        return len(self.exchanges) == self.clients and all(e.done for e in self.exchanges)

    def outcomes(self) -> list[HttpResponse | str]:
        """Each client's response, or the one line saying why it got none."""
        out: list[HttpResponse | str] = []
        for e in self.exchanges:
            try:
                out.append(e.result())
            except HttpError as err:
                out.append(str(err))
        return out
