"""The host's TCP client against a scripted peer, in virtual time."""

from __future__ import annotations

import itertools

from netfakes import FakeEngine, TcpPeer
from sample_device import DEVICE_IP, sample_host
from scapy.layers.inet import TCP
from scapy.layers.l2 import Ether

from pybench.net.tcp import TcpConfig, TcpConnection, TcpState
from pybench.net.wire import Wire

MS = 1_000_000
SECOND = 1_000_000_000


def _open(peer: TcpPeer, config: TcpConfig | None = None, seed: int = 1
          ) -> tuple[Wire, TcpConnection, FakeEngine]:
    engine = FakeEngine(peer)
    wire = Wire(engine, sample_host(seed))
    conn = TcpConnection(wire.host, DEVICE_IP, 80, config=config)
    conn.connect()
    return wire, conn, engine


def _sent_segments(engine: FakeEngine) -> list[tuple[int, TCP]]:
    return [(t, Ether(f)[TCP]) for t, f in engine.received if TCP in Ether(f)]


def test_syn_carries_our_mss_and_peer_mss_cuts_the_stream() -> None:
    peer = TcpPeer(mss=536, window=8192)
    wire, conn, engine = _open(peer)
    data = bytes(range(256)) * 8   # 2048 bytes
    conn.send(data)
    conn.close()
    assert wire.run_until(lambda: peer.fin_received and conn.closed, SECOND)
    syn = _sent_segments(engine)[0][1]
    assert syn.flags == "S" and dict(syn.options)["MSS"] == 1460
    assert [len(seg.payload) for _, seg in peer.segments] == [536, 536, 536, 440]
    assert bytes(peer.data) == data
    assert conn.bytes_acked == len(data)
    assert conn.state == TcpState.TIME_WAIT


def test_never_more_in_flight_than_the_peer_window() -> None:
    peer = TcpPeer(mss=1460, window=1000)
    wire, conn, _ = _open(peer)
    data = b"x" * 10_000
    conn.send(data)
    assert wire.run_until(lambda: conn.bytes_acked == len(data), 5 * SECOND)
    assert peer.max_in_flight <= 1000
    assert bytes(peer.data) == data


def test_lost_segments_are_sent_again_with_exponential_backoff() -> None:
    peer = TcpPeer(drop=lambda index, seg: True)   # a black hole after the handshake
    config = TcpConfig(rto_min_ns=100 * MS, rto_max_ns=SECOND, max_retries=6)
    wire, conn, _ = _open(peer, config)
    conn.send(b"hello")
    assert wire.run_until(lambda: conn.closed, 30 * SECOND)
    times = [t for t, _ in peer.segments]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # The SYN-ACK's 2 ms round trip gives an RTO under the minimum: 100 ms, then doubling
    # up to the 1 s cap.
    assert gaps == [100 * MS, 200 * MS, 400 * MS, 800 * MS, SECOND, SECOND]
    assert conn.error is not None and "no answer after 6 retransmissions" in conn.error
    assert conn.stats.timeouts == 7


def test_one_lost_segment_is_recovered_and_the_stream_is_intact() -> None:
    lost: set[int] = set()

    def drop_third_once(index: int, seg: TCP) -> bool:
        if index == 2 and index not in lost:
            lost.add(index)
            return True
        return False

    peer = TcpPeer(mss=536, window=65535, drop=drop_third_once)
    wire, conn, _ = _open(peer)
    data = bytes(i % 251 for i in range(20_000))
    conn.send(data)
    assert wire.run_until(lambda: conn.bytes_acked == len(data), 10 * SECOND)
    assert bytes(peer.data) == data
    assert conn.stats.retransmits >= 1
    assert conn.stats.fast_retransmits == 1   # the duplicate ACKs came before the RTO


def test_zero_window_is_probed_until_it_opens() -> None:
    peer = TcpPeer(mss=536, window=0)
    config = TcpConfig(rto_initial_ns=100 * MS, rto_min_ns=100 * MS, rto_max_ns=SECOND)
    wire, conn, _ = _open(peer, config)
    conn.send(b"abcdef")
    assert wire.run_until(lambda: len(peer.segments) >= 3, 10 * SECOND)
    probe_times = [t for t, _ in peer.segments]
    assert all(len(seg.payload) == 1 for _, seg in peer.segments)
    gaps = [b - a for a, b in itertools.pairwise(probe_times)]
    assert gaps[1] == 2 * gaps[0]               # probes back off
    assert peer.data == b""
    peer.window = 4096
    assert wire.run_until(lambda: conn.bytes_acked == 6, 10 * SECOND)
    assert bytes(peer.data) == b"abcdef"
    assert conn.stats.window_probes >= 3


def test_response_and_fin_are_received_then_the_connection_closes() -> None:
    peer = TcpPeer(respond=lambda req: b"pong:" + req)
    wire, conn, _ = _open(peer)
    conn.send(b"ping")
    conn.close()
    received = bytearray()

    def finished() -> bool:
        received.extend(conn.read())
        return conn.closed and peer.closed

    assert wire.run_until(finished, SECOND)
    assert bytes(received) == b"pong:ping"
    assert conn.peer_fin and conn.error is None


def test_refused_connection_reports_the_port() -> None:
    peer = TcpPeer(refuse=True)
    wire, conn, _ = _open(peer)
    assert wire.run_until(lambda: conn.closed, SECOND)
    assert conn.error == f"connection refused by {DEVICE_IP}:80"


def test_unanswered_syn_is_retried_then_given_up() -> None:
    engine = FakeEngine(lambda frame, now: TcpPeer()(frame, now) if b"\x08\x06" in frame[12:14]
                        else [])
    wire = Wire(engine, sample_host(seed=3))
    conn = TcpConnection(wire.host, DEVICE_IP, 80,
                         config=TcpConfig(rto_initial_ns=100 * MS, max_retries=3))
    conn.connect()
    assert wire.run_until(lambda: conn.closed, 10 * SECOND)
    syns = [t for t, seg in _sent_segments(engine) if seg.flags == "S"]
    # The first SYN waited for the ARP reply; the timer runs from connect() at time 0.
    assert syns[1:] == [100 * MS, 300 * MS, 700 * MS]
    assert conn.error and "no answer" in conn.error


def test_host_state_restored_mid_transfer_replays_identically() -> None:
    peer = TcpPeer(mss=536, window=2048)
    wire, conn, engine = _open(peer, seed=7)
    conn.send(bytes(range(256)) * 40)
    assert wire.run_until(lambda: conn.bytes_acked >= 4000, SECOND)
    saved = wire.save()
    peer_state = (bytes(peer.data), peer.rcv_nxt, len(peer.segments))

    def finish() -> list[bytes]:
        live = wire.host.tcp[(conn.local_port, DEVICE_IP, 80)]
        assert isinstance(live, TcpConnection)
        wire.run_until(lambda: live.bytes_acked == 10240, 5 * SECOND)
        return [f for _, f in engine.received]

    first = finish()
    wire.load(saved)
    peer.data, peer.rcv_nxt = bytearray(peer_state[0]), peer_state[1]
    del peer.segments[peer_state[2]:]
    second = finish()
    assert first == second
    assert bytes(peer.data) == bytes(range(256)) * 40


def test_host_random_stream_goes_on_the_same_after_load() -> None:
    host = sample_host(seed=5)
    host.rng.random()
    saved = host.save()
    ahead = [host.rng.randrange(1 << 32) for _ in range(5)]
    host.load(saved)
    assert [host.rng.randrange(1 << 32) for _ in range(5)] == ahead
    host.load(saved)            # the saved copy is its own generator: still at its place
    assert [host.rng.randrange(1 << 32) for _ in range(5)] == ahead
