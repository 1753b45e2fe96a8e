"""How a device takes an image over the network, as plain data.

A device description (pybench/device/) is mapped onto these classes; pybench/net/upload.py
runs them. Nothing here knows a device: paths, field names, ports and the texts that mean
"accepted" all come from the description.

- HttpTransport: a sequence of HTTP requests, each over its own connection, cookies carried
  from one to the next (a login page, a login form, then the upload). Exactly one step
  carries the image, as a multipart form field or as the raw request body.
- TftpTransport: one TFTP write request, with the waits a slow server needs (a device that
  erases its flash before it acknowledges the request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HTTP_METHODS = ("GET", "POST", "PUT")
UPLOAD_KINDS = ("multipart", "raw")


@dataclass(frozen=True)
class HttpStep:
    """One request. `upload` says whether, and how, this step carries the image."""

    method: str                                  # "GET", "POST", "PUT"
    path: str
    form: tuple[tuple[str, str], ...] = ()       # application/x-www-form-urlencoded fields
    upload: str | None = None                    # None, "multipart" or "raw"
    field: str = "file"                          # multipart field name of the image
    filename: str = "image.bin"
    content_type: str = "application/octet-stream"   # for a raw upload
    accept_status: tuple[int, ...] = (200,)      # statuses that mean the step succeeded
    accept_text: str | None = None               # a regex the body must match (None: status only)
    refuse_text: str | None = None               # a regex that means "refused" (upload steps)

    def __post_init__(self) -> None:
        if self.method not in HTTP_METHODS:
            raise ValueError(f"method {self.method!r}: choose one of {', '.join(HTTP_METHODS)}")
        if not self.path.startswith("/") or any(c in self.path for c in " \r\n"):
            raise ValueError(f"path {self.path!r}: must start with / and hold no blanks")
        if self.upload is not None and self.upload not in UPLOAD_KINDS:
            raise ValueError(f"upload {self.upload!r}: choose multipart, raw or none")
        if self.upload is not None and self.method == "GET":
            raise ValueError(f"{self.method} {self.path}: a GET cannot carry the image")
        if any(c in self.filename for c in '"\r\n'):
            raise ValueError(f"filename {self.filename!r}: quotes and line breaks cannot be sent")
        if not self.accept_status or any(not 100 <= s <= 599 for s in self.accept_status):
            raise ValueError(f"accept_status {self.accept_status!r}: HTTP statuses 100..599")
        for name in ("accept_text", "refuse_text"):
            pattern = getattr(self, name)
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as e:
                    raise ValueError(f"{name} {pattern!r}: not a regular expression: {e}"
                                     ) from None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class HttpTransport:
    steps: tuple[HttpStep, ...]
    port: int = 80

    def __post_init__(self) -> None:
        carriers = [s for s in self.steps if s.upload is not None]
        if len(carriers) != 1:
            raise ValueError(f"HTTP transport: exactly one step must carry the image "
                             f"(upload = multipart or raw), found {len(carriers)}")
        if not 1 <= self.port <= 0xFFFF:
            raise ValueError(f"port {self.port}: outside 1..65535")

    @property
    def upload_index(self) -> int:
        return next(i for i, s in enumerate(self.steps) if s.upload is not None)


@dataclass(frozen=True)
class TftpTransport:
    port: int = 69
    filename: str = "image.bin"
    blksize: int | None = None                   # None: no option, RFC 1350 512-byte blocks
    timeout_s: float = 0.5                       # first retransmission wait
    server_timeout_s: float = 10.0               # how long the server may take to answer

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 0xFFFF:
            raise ValueError(f"port {self.port}: outside 1..65535")
        if self.blksize is not None and not 8 <= self.blksize <= 65464:
            raise ValueError(f"blksize {self.blksize}: outside 8..65464 (RFC 2348)")
        if not 0 < self.timeout_s <= self.server_timeout_s:
            raise ValueError(f"timeout_s {self.timeout_s:g} and server_timeout_s "
                             f"{self.server_timeout_s:g}: need 0 < timeout_s <= "
                             f"server_timeout_s")
        if not self.filename or "\0" in self.filename:
            raise ValueError(f"filename {self.filename!r}: empty or holds a NUL")


Transport = HttpTransport | TftpTransport
