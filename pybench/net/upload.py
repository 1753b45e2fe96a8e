"""One image upload from the host to the device, by HTTP (multipart or raw) or TFTP.

An Upload lives in the host's state (host.apps["upload"]), so a snapshot of the host
taken in the middle of a transfer carries it, and the transfer goes on after a load().
It knows how far it got (`sent`, `total`), whether it finished (`done`), and turns the
device's answer into an UploadResult.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybench.net.host import DEVICE_IP, Host
from pybench.net.http import (
    HttpError,
    HttpExchange,
    browser_boundary,
    multipart_request,
    raw_request,
)
from pybench.net.tcp import TcpConfig
from pybench.net.tftp import TftpWriter

UPDATE_PATH = "/update"
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
    staging: str = ""         # the staging writer's console verdict, when it printed one

    @property
    def accepted(self) -> bool:
        """The device took the image: HTTP 202, or for TFTP every block and a staged line."""
        if self.via == "http":
            return self.status == 202
        return self.status == 0 and self.staging.startswith("staging: staged")


class Upload:
    """A transfer in progress; see the module docstring."""

    def __init__(self, host: Host, image: bytes, via: str = "http", mode: str = "multipart",
                 filename: str = "image.img", server: str = DEVICE_IP,
                 tcp_config: TcpConfig | None = None, tftp_blksize: int | None = 1468) -> None:
        if via not in VIAS:
            raise ValueError(f"via {via!r}: choose one of {', '.join(VIAS)}")
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: choose one of {', '.join(MODES)}")
        self.via, self.mode = via, mode
        self.image_size = len(image)
        self.http: HttpExchange | None = None
        self.tftp: TftpWriter | None = None
        if via == "http":
            request = (multipart_request(UPDATE_PATH, server, filename, image,
                                         browser_boundary(host.rng))
                       if mode == "multipart" else raw_request(UPDATE_PATH, server, image))
            self.http = HttpExchange(host, server, 80, request, tcp_config)
        else:
            self.tftp = TftpWriter(host, server, filename, image, blksize=tftp_blksize)
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
            return UploadResult("http", response.status, line, self.sent, self.total)
        assert self.tftp is not None
        if self.tftp.error is not None:
            return UploadResult("tftp", self.tftp.error.code, self.tftp.error.message,
                                self.sent, self.total)
        if not self.tftp.done:
            return UploadResult("tftp", None, "transfer not finished", self.sent, self.total)
        return UploadResult("tftp", 0, "all blocks acknowledged", self.sent, self.total)
