"""One image upload from the host to the device, by HTTP (multipart or raw) or TFTP.

An Upload lives in the host's state (host.apps["upload"]), so a snapshot of the host
taken in the middle of a transfer carries it, and the transfer goes on after a load().
It knows how far it got (`sent`, `total`), whether it finished (`done`), and turns the
device's answer into an UploadResult.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybench.net.host import Host
from pybench.net.http import (
    HttpError,
    HttpExchange,
    browser_boundary,
    multipart_request,
    raw_request,
)
from pybench.net.tcp import TcpConfig
from pybench.net.tftp import TftpWriter
from pybench.net.transport import HttpTransport, TftpTransport

VIAS = ("http", "tftp")
MODES = ("multipart", "raw")


@dataclass(frozen=True)
class UploadResult:
    """What the device said. `status`: the HTTP status, or for TFTP 0 when every block was
    acknowledged and the ERROR code otherwise; None when the device never answered."""

    via: str
    status: int | None
    reason: str               # one line: the device's text, or what went wrong
    bytes_sent: int
    total: int
    staging: str = ""         # the device's console verdict, when it printed one
    transferred: bool = False # the transport says the image went through (HTTP: an accepted
                              # status; TFTP: every block acknowledged)
    accepted: bool = False    # the device took the image (transferred, and its console
                              # said so where the description says how it does)


class Upload:
    """A transfer in progress; see the module docstring."""

    def __init__(self, host: Host, image: bytes, transport: HttpTransport | TftpTransport,
                 server: str, tcp_config: TcpConfig | None = None) -> None:
        self.image_size = len(image)
        self.http: HttpExchange | None = None
        self.tftp: TftpWriter | None = None
        self.accept_status: tuple[int, ...] = ()
        if isinstance(transport, HttpTransport):
            self.via = "http"
            steps = [s for s in transport.steps if s.upload]
            if len(transport.steps) != 1 or not steps:
                raise ValueError("an HTTP upload of more than one step is not supported yet")
            step = steps[0]
            if step.upload not in MODES:
                raise ValueError(f"mode {step.upload!r}: choose one of {', '.join(MODES)}")
            self.mode = step.upload
            self.accept_status = step.accept_status
            request = (multipart_request(step.path, server, step.filename, image,
                                         browser_boundary(host.rng), step.field)
                       if step.upload == "multipart" else raw_request(step.path, server, image))
            self.http = HttpExchange(host, server, transport.port, request, tcp_config)
        else:
            self.via, self.mode = "tftp", "octet"
            self.tftp = TftpWriter(host, server, transport.filename, image,
                                   blksize=transport.blksize,
                                   timeout_ns=round(transport.timeout_s * 1e9),
                                   port=transport.port)
            self.tftp.start()

    @property
    def total(self) -> int:
        return self.http.request_size if self.http else self.image_size

    @property
    def sent(self) -> int:
        """Bytes the device acknowledged (for HTTP: of the whole request)."""
        if self.http:
            return self.http.sent
        assert self.tftp is not None
        return self.tftp.bytes_acked

    @property
    def done(self) -> bool:
        if self.http:
            return self.http.done
        assert self.tftp is not None
        return self.tftp.done

    def result(self) -> UploadResult:
        if self.http:
            try:
                response = self.http.result()
            except HttpError as e:
                return UploadResult("http", None, str(e), self.sent, self.total)
            line = response.text.strip().splitlines()[0] if response.text.strip() else \
                response.reason
            ok = response.status in self.accept_status
            return UploadResult("http", response.status, line, self.sent, self.total,
                                transferred=ok, accepted=ok)
        assert self.tftp is not None
        if self.tftp.error is not None:
            return UploadResult("tftp", self.tftp.error.code, self.tftp.error.message,
                                self.sent, self.total)
        if not self.tftp.done:
            return UploadResult("tftp", None, "transfer not finished", self.sent, self.total)
        return UploadResult("tftp", 0, "all blocks acknowledged", self.sent, self.total,
                            transferred=True, accepted=True)
