"""The server holds up (issue 16): the real firmware in the built-in engine, attacked by the
bench's host in virtual time (pybench/net/attacks.py) while a client asks for its status
and updates it.

- slow headers: connections trickling a request head one byte every 30 s, more of them
  than the server has connection slots;
- a SYN flood: half-open connections that never complete, more than the slots;
- a burst: twenty clients connecting within 10 ms (the receive ring and FIFO hold twelve
  frames, so SYNs, ACKs and requests are lost), every one of them must be answered;
- eight clients at once, each connected before any of them finishes its request.

The client that must get through is the host's ordinary one (pybench/net/tcp.py): it
gives up after 8 retransmissions (about 25 s of virtual time), which is the bound here.
Skipped until `make firmware` built the images and the built-in engine is importable.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from sample_device import DEVICE_IP, SAMPLE

from pybench.engine.base import Engine
from pybench.net import scenarios
from pybench.net.attacks import Burst, SlowHeaders, SynFlood
from pybench.net.http import ResponseParser, build_request
from pybench.net.tcp import TcpConnection
from pybench.net.upload import Upload, UploadResult
from pybench.paths import build_dir

SECOND = scenarios.SECOND
HTTP_PORT = scenarios.http_port(SAMPLE)
# More than the server's connection table holds (8), so an attack fills it.
ATTACKERS = 10
BURST_SPREAD_NS = 10_000_000


def _available() -> bool:
    build = build_dir()
    return (all((build / f).is_file() for f in ("boot.elf", "app-v1.img", "app-v2.img"))
            and importlib.util.find_spec("pybench.engine.builtin.engine") is not None)


pytestmark = pytest.mark.skipif(not _available(),
                                reason="needs build/app-v1.img and the built-in engine")


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Engine]:
    engine = scenarios.create_board("builtin", SAMPLE)
    scenarios.attach(engine, SAMPLE, seed=3, pcap=tmp_path / "wire.pcap")
    engine.power_on()
    scenarios.boot_and_wait(engine)
    yield engine
    (tmp_path / "wire.uart.log").write_text(engine.uart().text)
    scenarios.detach(engine)
    engine.close()


def _update_alongside(engine: Engine, via: str) -> UploadResult:
    """Upload v2 while the host's other traffic (the attack) goes on: scenarios.upload()
    would forget every other transfer of the host first."""
    b = scenarios.bench(engine)
    image = (build_dir() / "app-v2.img").read_bytes()
    b.host.apps["upload"] = Upload(b.host, image, server=b.device_ip,
                                   transport=scenarios.upload_transport(b.device, via))
    b.host.apps["upload_mark"] = max(b.console_mark, len(engine.uart().lines))
    return scenarios.finish_upload(engine, timeout_ns=120 * SECOND)


def _served_and_updated(engine: Engine) -> None:
    """A status request gets its answer, then an update over HTTP and one over TFTP
    (the second replaces the first in the staging slot) are staged."""
    info = scenarios.http_json(engine, "/status")   # ScenarioError when the client gives up
    assert info["version_number"] == 1
    for via in ("http", "tftp"):
        result = _update_alongside(engine, via)
        assert result.accepted, result
        assert result.staging.startswith("staging: staged v2"), result


def test_slow_headers_keep_no_one_waiting(board: Engine) -> None:
    b = scenarios.bench(board)
    attack = SlowHeaders(b.host, DEVICE_IP, HTTP_PORT, ATTACKERS, interval_ns=30 * SECOND)
    attack.start()
    b.wire.run_for(SECOND)
    assert attack.established >= 4   # the attack holds slots (all of them on v1 before)
    _served_and_updated(board)
    # The server ended the attack's connections (the head deadline); the attack goes on.
    assert attack.ended_by_server > 0 and attack.running
    attack.stop()


def test_syn_flood_keeps_no_one_waiting(board: Engine) -> None:
    b = scenarios.bench(board)
    flood = SynFlood(b.host, DEVICE_IP, HTTP_PORT, ATTACKERS, interval_ns=10 * SECOND)
    flood.start()
    b.wire.run_for(SECOND // 2)
    assert flood.syn_acks >= 4   # the device holds half-open connections for them
    _served_and_updated(board)
    flood.stop()


def _burst(engine: Engine) -> Burst:
    b = scenarios.bench(engine)
    return Burst(b.host, DEVICE_IP, HTTP_PORT, 20, build_request("GET", "/status", DEVICE_IP),
                 spread_ns=BURST_SPREAD_NS)


def _not_served(burst: Burst) -> list[str]:
    return [o if isinstance(o, str) else f"{o.status} {o.text.strip()}"
            for o in burst.outcomes() if isinstance(o, str) or o.status != 200]


def test_burst_of_twenty_clients_all_served(board: Engine) -> None:
    b = scenarios.bench(board)
    burst = _burst(board)
    assert b.wire.run_until(lambda: burst.done, 60 * SECOND)
    failed = _not_served(burst)
    assert not failed, f"{len(failed)} of 20 clients not served: {failed[:3]}"
    # Again with an update running through each burst.
    for via in ("http", "tftp"):
        burst = _burst(board)
        result = _update_alongside(board, via)
        assert result.accepted, result
        assert b.wire.run_until(lambda current=burst: current.done, 60 * SECOND)
        failed = _not_served(burst)
        assert not failed, f"{len(failed)} of 20 clients not served during the {via} update"


def test_eight_clients_connected_at_once_are_all_served(board: Engine) -> None:
    b = scenarios.bench(board)
    request = build_request("GET", "/status", DEVICE_IP)
    conns = [TcpConnection(b.host, DEVICE_IP, HTTP_PORT) for _ in range(8)]
    for conn in conns:
        conn.connect()
        conn.send(request[:-2])   # all but the last CRLF: each waits for its end
    assert b.wire.run_until(lambda: all(c.established for c in conns), 2 * SECOND), \
        f"{sum(c.established for c in conns)} of 8 connections accepted"
    b.wire.run_for(SECOND)
    assert all(c.established and not c.peer_fin for c in conns)
    for conn in conns:
        conn.send(request[-2:])
    parsers = [ResponseParser() for _ in conns]

    def answered() -> bool:
        for conn, parser in zip(conns, parsers, strict=True):
            parser.feed(conn.read())
        return all(p.response is not None for p in parsers)

    assert b.wire.run_until(answered, 5 * SECOND)
    assert [p.response.status for p in parsers if p.response] == [200] * 8
