"""TFTP packets on scapy's layers, and the write client against a scripted server."""

from __future__ import annotations

import pytest
from netfakes import FakeEngine, TftpPeer
from sample_device import DEVICE_IP, sample_host

from pybench.net.tftp import (
    ERR_OPTION,
    ERR_UNKNOWN_TID,
    Op,
    TftpError,
    TftpState,
    TftpWriter,
    decode,
    encode_ack,
    encode_data,
    encode_error,
    encode_oack,
    encode_wrq,
)
from pybench.net.transport import TftpTransport
from pybench.net.wire import Wire

MS = 1_000_000
SECOND = 1_000_000_000


def test_wrq_bytes_follow_rfc_1350_and_2347() -> None:
    assert encode_wrq("app.img", {"blksize": "1468"}) == (
        b"\x00\x02app.img\x00octet\x00blksize\x001468\x00")
    msg = decode(encode_wrq("app.img", {"blksize": "1468", "tsize": "9"}))
    assert (msg.op, msg.filename, msg.mode) == (Op.WRQ, "app.img", "octet")
    assert msg.options == {"blksize": "1468", "tsize": "9"}


@pytest.mark.parametrize("block", [1, 0xFFFF, 0x10000])
def test_data_and_ack_round_trip(block: int) -> None:
    assert encode_data(block, b"xyz")[:2] == b"\x00\x03"
    msg = decode(encode_data(block, b"xyz"))
    assert (msg.op, msg.block, msg.data) == (Op.DATA, block & 0xFFFF, b"xyz")
    assert decode(encode_data(block, b"")).data == b""
    assert decode(encode_ack(block)).block == block & 0xFFFF


def test_error_and_oack_round_trip() -> None:
    err = decode(encode_error(2, "Access violation"))
    assert (err.op, err.code, err.message) == (Op.ERROR, 2, "Access violation")
    assert encode_error(2, "x") == b"\x00\x05\x00\x02x\x00"
    assert decode(encode_oack({"blksize": "512"})).options == {"blksize": "512"}


def test_decode_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="opcode 9"):
        decode(b"\x00\x09abc")
    with pytest.raises(ValueError, match="1 bytes"):
        decode(b"\x00")


def _write(peer: TftpPeer, data: bytes, **kwargs: int) -> tuple[TftpWriter, Wire]:
    wire = Wire(FakeEngine(peer), sample_host(seed=2))
    writer = TftpWriter(wire.host, DEVICE_IP, "app-v3.img", data, **kwargs)
    writer.start()
    wire.run_until(lambda: writer.done, 60 * SECOND)
    return writer, wire


def test_blksize_negotiated_by_oack() -> None:
    data = bytes(i % 253 for i in range(5000))
    peer = TftpPeer(oack={"blksize": "1024"})
    writer, _ = _write(peer, data, blksize=1468)
    writer.check()
    assert peer.requests[0][1] == {"blksize": "1468", "tsize": "5000"}
    assert writer.blksize == 1024
    assert [len(peer.blocks[i]) for i in sorted(peer.blocks)] == [1024] * 4 + [904]
    assert peer.file() == data


def test_server_without_options_gets_512_byte_blocks_and_a_final_empty_block() -> None:
    data = b"\xab" * 1024
    peer = TftpPeer(oack=None)
    writer, _ = _write(peer, data)
    assert writer.state == TftpState.DONE and writer.blksize == 512
    assert [len(peer.blocks[i]) for i in sorted(peer.blocks)] == [512, 512, 0]
    assert peer.file() == data and writer.bytes_acked == 1024


def test_lost_block_is_sent_again_after_the_timeout() -> None:
    peer = TftpPeer(oack={"blksize": "512"}, lose_acks={2})
    writer, _ = _write(peer, b"\x01" * 1500, blksize=512, timeout_ns=300 * MS)
    writer.check()
    sends_of_2 = [t for t, block in peer.data_times if block == 2]
    assert len(sends_of_2) == 2 and sends_of_2[1] - sends_of_2[0] == 300 * MS
    assert writer.retransmits == 1 and peer.file() == b"\x01" * 1500


def test_duplicate_ack_does_not_double_the_traffic() -> None:
    peer = TftpPeer(oack={"blksize": "512"}, dup_ack_after=1)
    writer, _ = _write(peer, b"\x02" * 1500, blksize=512)
    writer.check()
    assert [block for _, block in peer.data_times] == [1, 2, 3]


def test_error_packet_is_raised_with_code_and_message() -> None:
    peer = TftpPeer(error=(3, "Disk full or allocation exceeded"))
    writer, _ = _write(peer, b"\x00" * 100)
    with pytest.raises(TftpError) as info:
        writer.check()
    assert (info.value.code, info.value.message) == (3, "Disk full or allocation exceeded")
    assert str(info.value) == "TFTP error 3: Disk full or allocation exceeded"


def test_bigger_blksize_than_asked_is_refused_with_error_8() -> None:
    peer = TftpPeer(oack={"blksize": "9000"})
    writer, _ = _write(peer, b"\x00" * 100, blksize=1468)
    assert writer.state == TftpState.FAILED and writer.error is not None
    assert writer.error.code == ERR_OPTION
    assert peer.errors_seen == [(ERR_OPTION, "server chose blksize '9000'")]


def _silent_wire() -> Wire:
    """A device that answers ARP and nothing else."""
    return Wire(FakeEngine(lambda frame, now: TftpPeer()(frame, now)
                           if frame[12:14] == b"\x08\x06" else []), sample_host(seed=2))


def _wrq_times(wire: Wire) -> list[int]:
    engine = wire.engine
    assert isinstance(engine, FakeEngine)
    return [t for t, f in engine.received if f[12:14] == b"\x08\x00"]


def test_silent_server_gets_doubling_waits_then_the_client_gives_up() -> None:
    wire = _silent_wire()
    writer = TftpWriter(wire.host, DEVICE_IP, "x.img", b"1234", timeout_ns=100 * MS,
                        server_timeout_ns=2 * SECOND)
    writer.start()
    assert wire.run_until(lambda: writer.done, 10 * SECOND)
    assert writer.error is not None and writer.error.code is None
    assert writer.error.message.endswith("no answer to request for 2 s (4 retransmissions)")
    # The first request waits for the ARP reply; the waits count from when it was queued.
    assert [t // MS for t in _wrq_times(wire)[1:]] == [100, 300, 700, 1500]
    assert wire.engine.now_ns == 2 * SECOND


def test_retry_cap_still_ends_early_when_asked() -> None:
    wire = _silent_wire()
    writer = TftpWriter(wire.host, DEVICE_IP, "x.img", b"1234", timeout_ns=100 * MS,
                        retries=2)
    writer.start()
    assert wire.run_until(lambda: writer.done, 10 * SECOND)
    assert writer.error is not None
    assert "no answer to request after 2 retransmissions" in writer.error.message
    assert len(_wrq_times(wire)) == 3


def test_waits_must_fit_in_the_server_timeout() -> None:
    with pytest.raises(ValueError, match="timeout"):
        TftpWriter(sample_host(), DEVICE_IP, "x.img", b"", timeout_ns=2 * SECOND,
                   server_timeout_ns=SECOND)


def test_packet_from_another_port_gets_unknown_tid() -> None:
    peer = TftpPeer(oack={"blksize": "512"})
    wire = Wire(FakeEngine(peer), sample_host(seed=2))
    writer = TftpWriter(wire.host, DEVICE_IP, "x.img", b"z" * 2000, blksize=512)
    writer.start()
    assert wire.run_until(lambda: writer.block == 2, SECOND)
    engine = wire.engine
    assert isinstance(engine, FakeEngine)
    stray = peer._send(encode_ack(2), sport=41111)
    engine.emit(stray[0][1])
    assert wire.run_until(lambda: writer.done, 10 * SECOND)
    writer.check()
    assert peer.file() == b"z" * 2000
    from scapy.layers.inet import UDP
    from scapy.layers.l2 import Ether
    errors = [Ether(f)[UDP] for _, f in engine.received
              if UDP in Ether(f) and Ether(f)[UDP].dport == 41111]
    assert len(errors) == 1 and decode(bytes(errors[0].payload)).code == ERR_UNKNOWN_TID


def test_server_that_erases_7_s_before_its_first_ack() -> None:
    """The waits double while the server erases; its answers to our retransmitted requests
    (each a transfer of its own, from another port) get ERROR 5, and the file goes to the
    first transfer only."""
    data = bytes(i % 251 for i in range(3000))
    peer = TftpPeer(oack=None, stall_ns=7 * SECOND, tid_per_request=True)
    wire = Wire(FakeEngine(peer), sample_host(seed=2))
    transport = TftpTransport()      # 0.5 s first wait, the server may take 10 s
    writer = TftpWriter(wire.host, DEVICE_IP, transport.filename, data,
                        blksize=transport.blksize, timeout_ns=int(transport.timeout_s * SECOND),
                        server_timeout_ns=int(transport.server_timeout_s * SECOND))
    writer.start()
    assert wire.run_until(lambda: writer.done, 60 * SECOND)
    writer.check()
    assert [t // MS for t, _ in peer.requests] == [0, 500, 1500, 3500]
    assert peer.file() == data and peer.data_ports == {peer.tid}
    assert peer.error_ports == [peer.tid + 1, peer.tid + 2, peer.tid + 3]
    assert {code for code, _ in peer.errors_seen} == {ERR_UNKNOWN_TID}
    assert writer.tid == peer.tid and writer.stray_answers == 3


def test_constant_short_waits_would_give_up_on_the_erasing_server() -> None:
    """What the client did before: 0.5 s x 5, then failure while the server still erases."""
    peer = TftpPeer(oack=None, stall_ns=7 * SECOND)
    wire = Wire(FakeEngine(peer), sample_host(seed=2))
    writer = TftpWriter(wire.host, DEVICE_IP, "x.bin", b"x" * 100, blksize=None,
                        timeout_ns=500 * MS, server_timeout_ns=3 * SECOND)
    writer.start()
    assert wire.run_until(lambda: writer.done, 60 * SECOND)
    assert writer.error is not None and "no answer to request for 3 s" in writer.error.message
    assert peer.blocks == {}


def test_progress_resets_the_wait() -> None:
    """After a stall, a lost block is sent again after the first wait, not a doubled one."""
    peer = TftpPeer(oack=None, stall_ns=2 * SECOND, lose_acks={2})
    wire = Wire(FakeEngine(peer), sample_host(seed=2))
    writer = TftpWriter(wire.host, DEVICE_IP, "x.bin", b"y" * 1500, blksize=None,
                        timeout_ns=300 * MS)
    writer.start()
    assert wire.run_until(lambda: writer.done, 60 * SECOND)
    writer.check()
    sends_of_2 = [t for t, block in peer.data_times if block == 2]
    assert len(sends_of_2) == 2 and sends_of_2[1] - sends_of_2[0] == 300 * MS


def test_a_tftp_error_survives_copy_and_pickle() -> None:
    """It is part of the host's state that campaigns snapshot and send to workers."""
    import copy
    import pickle

    from pybench.net.tftp import TftpError

    for e in (TftpError(2, "access violation"), TftpError(None, "no answer")):
        for again in (copy.deepcopy(e), pickle.loads(pickle.dumps(e))):
            assert (again.code, again.message, str(again)) == (e.code, e.message, str(e))
