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


def test_silent_server_times_out_after_bounded_retries() -> None:
    wire = Wire(FakeEngine(lambda frame, now: TftpPeer()(frame, now)
                           if frame[12:14] == b"\x08\x06" else []), sample_host(seed=2))
    writer = TftpWriter(wire.host, DEVICE_IP, "x.img", b"1234", timeout_ns=100 * MS, retries=3)
    writer.start()
    assert wire.run_until(lambda: writer.done, 10 * SECOND)
    assert writer.error is not None and writer.error.code is None
    assert "no answer to request after 3 retransmissions" in writer.error.message
    assert wire.engine.now_ns == 400 * MS


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
