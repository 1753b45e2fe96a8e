"""HTTP/1.1 client pieces: requests (GET, forms, multipart and raw POST), a response
parser, cookies, and one exchange over the bench's TCP client.

Pure byte work, no I/O: the request bytes go out over pybench.net.tcp in virtual time
(HttpExchange) or over any other stream. The multipart body is laid out as a browser's
form sends it: a "----WebKitFormBoundary" boundary, the part's Content-Disposition with
name and filename, its Content-Type, CRLF line ends everywhere.

HttpExchange keeps its side of the connection open until the response has ended, as
browsers and curl do, and closes after it: some servers (lwIP's httpd among them) take a
FIN as "close now" and drop the work they had pending for the request.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode

from pybench.net.host import Host
from pybench.net.tcp import TcpConfig, TcpConnection, TcpError

USER_AGENT = "pybench"
_BOUNDARY_CHARS = string.ascii_letters + string.digits


class HttpError(Exception):
    """The response could not be parsed, or the exchange failed underneath."""


def browser_boundary(rng: random.Random) -> str:
    """A boundary shaped like Chromium's: 16 random letters and digits after a prefix."""
    return "----WebKitFormBoundary" + "".join(rng.choice(_BOUNDARY_CHARS) for _ in range(16))


def multipart_body(boundary: str, field_name: str, filename: str, data: bytes,
                   content_type: str = "application/octet-stream") -> bytes:
    """One file field of a multipart/form-data body (RFC 7578), as browsers send it."""
    if any(c in filename for c in '"\r\n'):
        raise ValueError(f"filename {filename!r}: quotes and line breaks cannot be sent")
    head = (f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n"
            "\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode()


def multipart_form(boundary: str, fields: tuple[tuple[str, str], ...], field_name: str,
                   filename: str, data: bytes,
                   content_type: str = "application/octet-stream") -> bytes:
    """A multipart/form-data body with text fields first, then the file, as a form sends."""
    head = b""
    for name, value in fields:
        if any(c in name for c in '"\r\n'):
            raise ValueError(f"form field {name!r}: quotes and line breaks cannot be sent")
        head += (f"--{boundary}\r\n"
                 f'Content-Disposition: form-data; name="{name}"\r\n'
                 "\r\n").encode() + value.encode() + b"\r\n"
    return head + multipart_body(boundary, field_name, filename, data, content_type)


def form_body(fields: tuple[tuple[str, str], ...]) -> bytes:
    """application/x-www-form-urlencoded, in the order given."""
    return urlencode(fields).encode()


def build_request(method: str, path: str, host: str, body: bytes = b"",
                  headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"User-Agent: {USER_AGENT}",
             "Accept: */*", "Connection: close"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def multipart_request(path: str, host: str, filename: str, data: bytes,
                      boundary: str, field_name: str = "image") -> bytes:
    body = multipart_body(boundary, field_name, filename, data)
    return build_request("POST", path, host, body,
                         {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def raw_request(path: str, host: str, data: bytes) -> bytes:
    return build_request("POST", path, host, data,
                         {"Content-Type": "application/octet-stream"})


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: dict[str, str]     # names in lower case (the last one of a repeated header)
    body: bytes
    header_list: tuple[tuple[str, str], ...] = ()   # every header in order, names lowered

    def all(self, name: str) -> list[str]:
        """Every value of a header that may repeat (Set-Cookie)."""
        return [v for n, v in self.header_list if n == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class ResponseParser:
    """Feed it bytes as they arrive; `response` is set once the whole response is in.

    Knows Content-Length, chunked transfer coding, and a body that ends with the
    connection (call finish() at the peer's FIN).
    """

    buffer: bytearray = field(default_factory=bytearray)
    response: HttpResponse | None = None
    _head: tuple[int, str, list[tuple[str, str]]] | None = None

    def feed(self, data: bytes) -> None:
        if self.response is not None:
            return
        self.buffer += data
        if self._head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self._head = _parse_head(bytes(self.buffer[:end]))
            del self.buffer[:end + 4]
        self._try_body(final=False)

    def finish(self) -> HttpResponse:
        """The connection closed: complete the response or say what is missing."""
        if self.response is None:
            if self._head is None:
                raise HttpError(f"connection closed before the response header ended "
                                f"({len(self.buffer)} bytes received)")
            self._try_body(final=True)
        if self.response is None:
            raise HttpError("connection closed in the middle of the response body")
        return self.response

    def _try_body(self, final: bool) -> None:
        assert self._head is not None
        status, reason, pairs = self._head
        headers = dict(pairs)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = _dechunk(bytes(self.buffer))
            if body is not None:
                self.response = HttpResponse(status, reason, headers, body, tuple(pairs))
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise HttpError(f"bad Content-Length {headers['content-length']!r}") from None
            if len(self.buffer) >= length:
                self.response = HttpResponse(status, reason, headers,
                                             bytes(self.buffer[:length]), tuple(pairs))
        elif status in (204, 304) or 100 <= status < 200:
            self.response = HttpResponse(status, reason, headers, b"", tuple(pairs))
        elif final:
            self.response = HttpResponse(status, reason, headers, bytes(self.buffer),
                                         tuple(pairs))


def _parse_head(head: bytes) -> tuple[int, str, list[tuple[str, str]]]:
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError(f"bad status line {lines[0]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise HttpError(f"bad header line {line!r}")
        headers.append((name.strip().lower(), value.strip()))
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers


def _dechunk(data: bytes) -> bytes | None:
    """The body of a complete chunked message, or None while chunks are still missing."""
    body, pos = bytearray(), 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        try:
            size = int(data[pos:eol].split(b";")[0], 16)
        except ValueError:
            raise HttpError(f"bad chunk size {data[pos:eol]!r}") from None
        start = eol + 2
        if size == 0:
            return bytes(body) if data.find(b"\r\n", start) >= 0 else None
        if len(data) < start + size + 2:
            return None
        body += data[start:start + size]
        pos = start + size + 2


@dataclass
class CookieJar:
    """The cookies one device set, sent back on every later request to it.

    A bench talks to one device at a time, so names are the only key: Domain, Path and
    Expires are not looked at (virtual time has no calendar date); Max-Age=0 deletes.
    """

    cookies: dict[str, str] = field(default_factory=dict)

    def take(self, response: HttpResponse) -> None:
        for header in response.all("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(header)
            except CookieError:
                continue  # a cookie we cannot parse is one a browser would drop too
            for name, morsel in jar.items():
                if morsel["max-age"] in ("0", "-1"):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def header(self) -> dict[str, str]:
        """The Cookie header for the next request (none while the jar is empty)."""
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}


class HttpExchange:
    """One request and its response over a fresh TCP connection of the host.

    Lives in the host's state (host.apps), so a snapshot taken in the middle of an upload
    restores it with the rest; `done` says when to stop running the wire. It holds no
    callback: whoever runs the wire reports progress from `sent`.

    Our side stays open until the response has ended (Content-Length, the last chunk, or
    the server's FIN), then closes. `half_close=True` sends the FIN right after the
    request instead, as this client did before; kept to show servers that mind it.
    """

    def __init__(self, host: Host, server: str, port: int, request: bytes,
                 tcp_config: TcpConfig | None = None, half_close: bool = False) -> None:
        self.request_size = len(request)
        self.conn = TcpConnection(host, server, port, config=tcp_config)
        self.parser = ResponseParser()
        self.error: str | None = None
        # Called once, when the response has ended or the exchange failed (a bound
        # method, so a saved host carries it).
        self.on_end: Callable[[], None] | None = None
        self._ended = False
        self.conn.on_event = self._on_conn_event
        self.conn.connect()
        self.conn.send(request)
        if half_close:
            self.conn.close()

    def _on_conn_event(self) -> None:
        if self._ended:
            return
        self.poll()
        if self.parser.response is not None or self.error is not None:
            self._ended = True
            if self.on_end is not None:
                self.on_end()

    @property
    def sent(self) -> int:
        return self.conn.bytes_acked

    @property
    def done(self) -> bool:
        self.poll()
        return self.parser.response is not None or self.error is not None

    def poll(self) -> None:
        """Move received bytes into the parser; cheap to call often."""
        data = self.conn.read()
        try:
            if data:
                self.parser.feed(data)
            if self.parser.response is None and self.conn.peer_fin:
                self.parser.finish()
        except HttpError as e:
            self.error = str(e)
        if self.parser.response is None and self.error is None and self.conn.error:
            self.error = self.conn.error
        if (self.parser.response is not None or self.error is not None) \
                and not self.conn.closed:
            self.conn.close()  # the response has ended: now our FIN, as curl sends it

    def result(self) -> HttpResponse:
        self.poll()
        if self.parser.response is not None:
            return self.parser.response
        if self.error:
            raise HttpError(self.error)
        raise HttpError(f"no response yet ({self.sent} of {self.request_size} bytes sent)")


__all__ = ["CookieJar", "HttpError", "HttpExchange", "HttpResponse", "ResponseParser",
           "TcpError", "browser_boundary", "build_request", "form_body", "multipart_body",
           "multipart_form", "multipart_request", "raw_request"]
