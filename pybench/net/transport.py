"""How an image travels to a device, as data: HTTP requests in order, or a TFTP write.

A device description (pybench/device) maps its [transport] tables onto these; the
network host's Upload (pybench/net/upload.py) runs them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HttpStep:
    method: str                                  # "GET", "POST", "PUT"
    path: str
    form: tuple[tuple[str, str], ...] = ()       # application/x-www-form-urlencoded fields
    upload: str | None = None                    # None, "multipart" or "raw": carries the image
    field: str = "file"                          # multipart field name of the image
    filename: str = "image.bin"
    content_type: str = "application/octet-stream"   # for a raw upload
    accept_status: tuple[int, ...] = (200,)      # statuses that mean the step succeeded
    accept_text: str | None = None               # a regex the body must match (None: status)
    refuse_text: str | None = None               # a regex that means "refused" (upload steps)


@dataclass(frozen=True)
class HttpTransport:
    steps: tuple[HttpStep, ...]
    port: int = 80


@dataclass(frozen=True)
class TftpTransport:
    port: int = 69
    filename: str = "image.bin"
    blksize: int | None = None                   # None: no option, 512-byte blocks
    timeout_s: float = 0.5                       # first retransmission wait
    server_timeout_s: float = 10.0               # how long the server may take to answer
