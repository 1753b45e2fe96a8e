"""TFTP write client in virtual time: RFC 1350 octet mode, blksize (RFC 2348) via OACK
(RFC 2347), retransmission on timeout, ERROR packets raised with their code and message.

Retransmission waits start at `timeout_ns` and double after each unanswered packet, so a
server that stalls (one that erases its flash before it acknowledges the request) is not
flooded; the client gives up only when `server_timeout_ns` passed without progress. The
first answer fixes the server's transfer ID: an answer from another port (a second
transfer the server opened for a retransmitted request) gets ERROR 5 and is otherwise
ignored, so one upload is one transfer on our side.

Packets are built and parsed with scapy's TFTP layers; the client is a UDP handler of
the host (pybench/net/host.py) and keeps all its state in itself, so it is saved with
the host.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from scapy.layers.tftp import (
    TFTP,
    TFTP_ACK,
    TFTP_DATA,
    TFTP_ERROR,
    TFTP_OACK,
    TFTP_WRQ,
    TFTP_Option,
    TFTP_Options,
)
from scapy.packet import Packet, Raw

from pybench.net.host import Host

TFTP_PORT = 69
DEFAULT_BLKSIZE = 512
MIN_BLKSIZE, MAX_BLKSIZE = 8, 65464          # RFC 2348's range
ETHERNET_BLKSIZE = 1468                       # 1500 - IP 20 - UDP 8 - TFTP 4

# RFC 1350 error codes
ERR_UNDEFINED = 0
ERR_UNKNOWN_TID = 5
ERR_OPTION = 8                                # RFC 2347: option negotiation failed


class TftpError(Exception):
    """The transfer failed: the server sent ERROR, or it stopped answering (code None)."""

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(f"TFTP error {code}: {message}" if code is not None else message)
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[type[TftpError], tuple[int | None, str]]:
        # Copied with the host's state at every campaign snapshot, and pickled to workers:
        # rebuilt from its fields, not from the formatted text in args.
        return (TftpError, (self.code, self.message))


class Op(int, enum.Enum):
    RRQ = 1
    WRQ = 2
    DATA = 3
    ACK = 4
    ERROR = 5
    OACK = 6


@dataclass
class TftpPacket:
    """A decoded TFTP packet: the fields that matter for its opcode."""

    op: Op
    block: int = 0
    data: bytes = b""
    code: int = 0
    message: str = ""
    filename: str = ""
    mode: str = ""
    options: dict[str, str] = field(default_factory=dict)


def _options(options: dict[str, str]) -> TFTP_Options:
    return TFTP_Options(options=[TFTP_Option(oname=k.encode(), value=v.encode())
                                 for k, v in options.items()])


def encode_wrq(filename: str, options: dict[str, str] | None = None) -> bytes:
    pkt: Packet = TFTP() / TFTP_WRQ(filename=filename.encode(), mode=b"octet")
    if options:
        pkt = pkt / _options(options)
    return bytes(pkt)


def encode_data(block: int, data: bytes) -> bytes:
    return bytes(TFTP() / TFTP_DATA(block=block & 0xFFFF) / Raw(data)) if data else \
        bytes(TFTP() / TFTP_DATA(block=block & 0xFFFF))


def encode_ack(block: int) -> bytes:
    return bytes(TFTP() / TFTP_ACK(block=block & 0xFFFF))


def encode_error(code: int, message: str) -> bytes:
    return bytes(TFTP() / TFTP_ERROR(errorcode=code, errormsg=message.encode()))


def encode_oack(options: dict[str, str]) -> bytes:
    return bytes(TFTP() / TFTP_OACK() / _options(options))


def decode(payload: bytes) -> TftpPacket:
    """Parse a TFTP packet; ValueError names what is wrong with it."""
    if len(payload) < 2:
        raise ValueError(f"TFTP packet of {len(payload)} bytes")
    try:
        op = Op(int.from_bytes(payload[:2], "big"))
    except ValueError:
        raise ValueError(f"unknown TFTP opcode {int.from_bytes(payload[:2], 'big')}") from None
    pkt = TFTP(payload)
    if op == Op.DATA:
        return TftpPacket(op, block=pkt[TFTP_DATA].block, data=bytes(pkt[TFTP_DATA].payload))
    if op == Op.ACK:
        return TftpPacket(op, block=pkt[TFTP_ACK].block)
    if op == Op.ERROR:
        err = pkt[TFTP_ERROR]
        return TftpPacket(op, code=err.errorcode,
                          message=bytes(err.errormsg).decode("utf-8", "replace"))
    options = {}
    if TFTP_Options in pkt:
        options = {bytes(o.oname).decode("ascii", "replace").lower():
                   bytes(o.value).decode("ascii", "replace")
                   for o in pkt[TFTP_Options].options}
    if op in (Op.RRQ, Op.WRQ):
        req = pkt[TFTP_WRQ] if op == Op.WRQ else pkt.payload
        return TftpPacket(op, filename=bytes(req.filename).decode("utf-8", "replace"),
                          mode=bytes(req.mode).decode("ascii", "replace").lower(),
                          options=options)
    return TftpPacket(op, options=options)


class TftpState(str, enum.Enum):
    REQUESTING = "requesting"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"


class TftpWriter:
    """Writes one file to a TFTP server (see the module docstring)."""

    def __init__(self, host: Host, server: str, filename: str, data: bytes,
                 blksize: int | None = ETHERNET_BLKSIZE, timeout_ns: int = 500_000_000,
                 server_timeout_ns: int = 10_000_000_000, port: int = TFTP_PORT,
                 retries: int | None = None) -> None:
        if blksize is not None and not MIN_BLKSIZE <= blksize <= MAX_BLKSIZE:
            raise ValueError(f"blksize {blksize} outside {MIN_BLKSIZE}..{MAX_BLKSIZE}")
        self.host = host
        self.server = server
        self.server_port = port
        self.filename = filename
        self.data = data
        self.requested_blksize = blksize
        self.blksize = DEFAULT_BLKSIZE
        if not 0 < timeout_ns <= server_timeout_ns:
            raise ValueError(f"TFTP waits: need 0 < timeout ({timeout_ns} ns) <= server "
                             f"timeout ({server_timeout_ns} ns)")
        self.timeout_ns = timeout_ns
        self.server_timeout_ns = server_timeout_ns
        self.retries = retries                # a cap on retransmissions in a row, or None
        self.stray_answers = 0                # packets from another server TID
        self.local_port = host.free_port()
        self.tid: int | None = None           # the server's port for this transfer
        self.state = TftpState.REQUESTING
        self.error: TftpError | None = None
        self.block = 0                        # last block sent (0: the request)
        self.acked_blocks = 0
        self.retransmits = 0
        self._tries = 0
        self._wait_ns = timeout_ns
        self._progress_ns = host.now_ns       # when the server last moved the transfer on
        self._timer: int | None = None
        self._last: bytes = b""
        self._last_port = port

    # --- control ---------------------------------------------------------------------
    def start(self) -> None:
        self.host.udp[self.local_port] = self
        self._progress_ns = self.host.now_ns
        options = {}
        if self.requested_blksize:
            # tsize (RFC 2349) lets the server refuse an oversized image before block 1.
            options = {"blksize": str(self.requested_blksize), "tsize": str(len(self.data))}
        self._send(encode_wrq(self.filename, options), self.server_port)

    @property
    def done(self) -> bool:
        return self.state in (TftpState.DONE, TftpState.FAILED)

    @property
    def bytes_acked(self) -> int:
        return min(len(self.data), self.acked_blocks * self.blksize)

    @property
    def total_blocks(self) -> int:
        # A file that is an exact multiple of the block size ends with an empty block.
        return len(self.data) // self.blksize + 1

    def check(self) -> None:
        if self.error is not None:
            raise self.error

    # --- packets in -----------------------------------------------------------------------
    def on_udp(self, src_ip: str, sport: int, dport: int, payload: bytes) -> None:
        if self.done or src_ip != self.server:
            return
        if self.tid is not None and sport != self.tid:
            # RFC 1350: a packet from another TID gets an error, the transfer goes on.
            # That is also how a second transfer, opened by the server for one of our
            # retransmitted requests, is turned down.
            self.stray_answers += 1
            self.host.udp_send(src_ip, self.local_port, sport,
                               Raw(encode_error(ERR_UNKNOWN_TID, "Unknown transfer ID")))
            return
        try:
            pkt = decode(payload)
        except ValueError as e:
            self._fail(ERR_UNDEFINED, str(e), tell=sport)
            return
        if pkt.op == Op.ERROR:
            self._fail(pkt.code, pkt.message, tell=None)
            return
        if self.tid is None:
            self.tid = sport
        if self.state == TftpState.REQUESTING and pkt.op in (Op.OACK, Op.ACK):
            self._progress()
        if self.state == TftpState.REQUESTING:
            if pkt.op == Op.OACK:
                self._on_oack(pkt.options)
            elif pkt.op == Op.ACK and pkt.block == 0:
                self.blksize = DEFAULT_BLKSIZE  # the server ignored our options
                self.state = TftpState.SENDING
                self._send_block(1)
            return
        if pkt.op == Op.ACK and pkt.block == self.block & 0xFFFF:
            self._progress()
            self.acked_blocks = self.block
            if self.block >= self.total_blocks:
                self._finish()
            else:
                self._send_block(self.block + 1)
        # A duplicate ACK of the previous block is ignored: answering it would double
        # every packet from then on (the Sorcerer's Apprentice bug, RFC 1123 4.2.3.1).

    def _on_oack(self, options: dict[str, str]) -> None:
        for name, value in options.items():
            if name == "blksize":
                size = int(value) if value.isdigit() else -1
                if not (MIN_BLKSIZE <= size <= (self.requested_blksize or DEFAULT_BLKSIZE)):
                    self._fail(ERR_OPTION, f"server chose blksize {value!r}", tell=self.tid)
                    return
                self.blksize = size
            elif name != "tsize":
                self._fail(ERR_OPTION, f"server answered unrequested option {name!r}",
                           tell=self.tid)
                return
        self.state = TftpState.SENDING
        self._send_block(1)

    # --- packets out -------------------------------------------------------------------
    def _send_block(self, block: int) -> None:
        self.block = block
        start = (block - 1) * self.blksize
        assert self.tid is not None
        self._tries = 0
        self._send(encode_data(block, self.data[start:start + self.blksize]), self.tid)

    def _progress(self) -> None:
        """The server moved the transfer on: waits start small again."""
        self._progress_ns = self.host.now_ns
        self._wait_ns = self.timeout_ns

    def _send(self, payload: bytes, port: int) -> None:
        self._last = payload
        self._last_port = port
        self.host.timers.cancel(self._timer)
        self.host.udp_send(self.server, self.local_port, port, Raw(payload))
        self._arm()

    def _arm(self) -> None:
        # Never wait past the moment the server runs out of time.
        left = self._progress_ns + self.server_timeout_ns - self.host.now_ns
        self._timer = self.host.call_later(max(0, min(self._wait_ns, left)),
                                           self._on_timeout)

    def _on_timeout(self) -> None:
        self._timer = None
        if self.done:
            return
        self._tries += 1
        what = "request" if self.state == TftpState.REQUESTING else f"block {self.block}"
        silent_ns = self.host.now_ns - self._progress_ns
        if silent_ns >= self.server_timeout_ns:
            self._fail(None, f"{self.server}: no answer to {what} for "
                             f"{silent_ns / 1e9:g} s ({self._tries - 1} retransmissions)",
                       tell=None)
            return
        if self.retries is not None and self._tries > self.retries:
            self._fail(None, f"{self.server}: no answer to {what} after {self.retries} "
                             f"retransmissions", tell=None)
            return
        self.retransmits += 1
        self._wait_ns = min(self._wait_ns * 2, self.server_timeout_ns)
        tries = self._tries
        self._send(self._last, self._last_port)
        self._tries = tries

    def _fail(self, code: int | None, message: str, tell: int | None) -> None:
        if tell is not None and code is not None:
            self.host.udp_send(self.server, self.local_port, tell,
                               Raw(encode_error(code, message)))
        self.error = TftpError(code, message)
        self.state = TftpState.FAILED
        self._stop()

    def _finish(self) -> None:
        self.state = TftpState.DONE
        self._stop()

    def _stop(self) -> None:
        self.host.timers.cancel(self._timer)
        self._timer = None
        if self.host.udp.get(self.local_port) is self:
            del self.host.udp[self.local_port]
