"""HTTP transports: the connection stays open until the response ended, and an upload made
of steps (a login page, a login form, then the upload) carries its cookies, judges each
answer, and resumes from a saved host."""

from __future__ import annotations

import copy
import re
from email import message_from_bytes
from email.policy import HTTP

import pytest
from netfakes import FakeEngine, TcpPeer, arp_reply
from sample_device import DEVICE_IP, sample_host
from scapy.layers.inet import TCP
from scapy.layers.l2 import Ether

from pybench.net.http import CookieJar, HttpError, HttpExchange, HttpResponse, build_request
from pybench.net.transport import HttpStep, HttpTransport
from pybench.net.upload import ACCEPTED, FAILED, REFUSED, Upload
from pybench.net.wire import Wire

MS = 1_000_000
SECOND = 1_000_000_000
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nreset"


def _fin_times(engine: FakeEngine) -> list[int]:
    return [t for t, f in engine.received if TCP in Ether(f) and Ether(f)[TCP].flags.F]


@pytest.mark.parametrize("half_close", [True, False])
def test_server_that_drops_its_work_on_a_fin(half_close: bool) -> None:
    """lwIP's httpd takes a FIN as "close now": a client that half-closes after its
    request loses the answer (and the reset it asked for); ours waits for the response."""
    peer = TcpPeer(respond=lambda req: OK, work_ns=50 * MS, fin_drops_work=True)
    engine = FakeEngine(peer)
    wire = Wire(engine, sample_host(seed=1))
    request = build_request("GET", "/reset.cgi", DEVICE_IP)
    exchange = HttpExchange(wire.host, DEVICE_IP, 80, request, half_close=half_close)
    assert wire.run_until(lambda: exchange.done, 5 * SECOND)
    if half_close:
        assert peer.dropped
        with pytest.raises(HttpError, match="before the response header"):
            exchange.result()
        return
    assert exchange.result().text == "reset" and not peer.dropped
    assert wire.run_until(lambda: exchange.conn.closed, SECOND)
    # Our FIN went out only after the response had come in.
    request_end = max(t for t, f in engine.received if TCP in Ether(f)
                      and len(Ether(f)[TCP].payload) > 0)
    assert _fin_times(engine)[0] >= request_end + 50 * MS


def test_cookie_jar_takes_every_set_cookie_and_forgets_on_max_age_0() -> None:
    jar = CookieJar()
    pairs = (("set-cookie", "sid=abc123; Path=/; HttpOnly"), ("set-cookie", "lang=en"))
    jar.take(HttpResponse(302, "Found", dict(pairs), b"", pairs))
    assert jar.header() == {"Cookie": "sid=abc123; lang=en"}
    gone = (("set-cookie", "sid=; Max-Age=0"),)
    jar.take(HttpResponse(200, "OK", dict(gone), b"", gone))
    assert jar.header() == {"Cookie": "lang=en"}


class LoginDevice(FakeEngine):
    """A device with a login form before its upload form, as ST's IAP example has one:
    one TcpPeer per connection, the answers decided by path, password and cookie."""

    def __init__(self, password: str = "stm32", verdict: str = "ok",
                 work_ns: int = 0) -> None:
        super().__init__(self._frame)
        self.password = password
        self.verdict = verdict
        self.work_ns = work_ns
        self.conns: dict[int, TcpPeer] = {}
        self.requests: list[bytes] = []

    def _frame(self, frame: bytes, now: int) -> list:
        arp = arp_reply(frame)
        if arp is not None:
            return arp
        pkt = Ether(frame)
        if TCP not in pkt:
            return []
        sport = pkt[TCP].sport
        if pkt[TCP].flags.S and sport not in self.conns:
            self.conns[sport] = TcpPeer(mss=536, window=2048, respond=self._respond,
                                        work_ns=self.work_ns, fin_drops_work=True,
                                        iss=1_000_000 + 7919 * len(self.conns))
        peer = self.conns.get(sport)
        return peer(frame, now) if peer is not None else []

    def _respond(self, request: bytes) -> bytes:
        self.requests.append(request)
        head, _, body = request.partition(b"\r\n\r\n")
        line = head.split(b"\r\n", 1)[0].decode()
        logged_in = b"Cookie: sid=s3cr3t" in head
        if line == "GET /login.html HTTP/1.1":
            return _answer(200, b"<form action=/login method=post>")
        if line == "POST /login HTTP/1.1":
            if body == f"user=admin&password={self.password}".encode():
                return _answer(302, b"", b"Set-Cookie: sid=s3cr3t; Path=/\r\n"
                                         b"Location: /upload.html\r\n")
            return _answer(200, b"<p>Login failed</p>")
        if line in ("POST /upload HTTP/1.1", "PUT /fw HTTP/1.1"):
            if not logged_in:
                return _answer(403, b"login first")
            if self.verdict == "ok":
                return _answer(200, b"<p>Upload complete</p>")
            return _answer(200, b"<p>Upload failed: bad image</p>")
        return _answer(404, b"not found")

    def snapshot(self) -> object:
        return (super().snapshot(), copy.deepcopy((self.conns, self.requests)))

    def restore(self, snap: object) -> None:
        assert isinstance(snap, tuple)
        super().restore(snap[0])
        self.conns, self.requests = copy.deepcopy(snap[1])


def _answer(status: int, body: bytes, extra: bytes = b"") -> bytes:
    reason = {200: "OK", 302: "Found", 403: "Forbidden", 404: "Not Found"}[status]
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n".encode()
            + extra + b"Connection: close\r\n\r\n" + body)


def _iap(password: str = "stm32", upload: str = "multipart") -> HttpTransport:
    method, path = ("POST", "/upload") if upload == "multipart" else ("PUT", "/fw")
    return HttpTransport((
        HttpStep("GET", "/login.html", accept_text=r"<form"),
        HttpStep("POST", "/login", form=(("user", "admin"), ("password", password)),
                 accept_status=(302,)),
        HttpStep(method, path, upload=upload, field="firmware", filename="app.bin",
                 form=(("target", "app"),), accept_text="Upload complete",
                 refuse_text="Upload failed"),
    ))


def _run(device: LoginDevice, transport: HttpTransport, image: bytes) -> Upload:
    wire = Wire(device, sample_host(seed=6))
    up = Upload(wire.host, image, server=DEVICE_IP, transport=transport)
    assert wire.run_until(lambda: up.done, 60 * SECOND)
    return up


def test_login_then_multipart_upload_carries_the_cookie() -> None:
    image = bytes(i % 253 for i in range(9000))
    device = LoginDevice(work_ns=20 * MS)
    up = _run(device, _iap(), image)
    result = up.result()
    assert result.accepted and result.verdict == ACCEPTED
    assert (result.status, result.reason) == (200, "<p>Upload complete</p>")
    assert [(s.label, s.status, s.ok) for s in result.steps] == [
        ("GET /login.html", 200, True), ("POST /login", 302, True),
        ("POST /upload", 200, True)]
    assert len(device.conns) == 3                       # one connection per step
    head, _, body = device.requests[2].partition(b"\r\n\r\n")
    assert b"\r\nCookie: sid=s3cr3t\r\n" in head
    ctype = next(h for h in head.split(b"\r\n") if h.startswith(b"Content-Type:"))
    message = message_from_bytes(ctype + b"\r\n\r\n" + body, policy=HTTP)
    parts = list(message.iter_parts())
    assert [p.get_param("name", header="content-disposition") for p in parts] == [
        "target", "firmware"]
    assert parts[1].get_filename() == "app.bin" and parts[1].get_payload(decode=True) == image
    assert result.bytes_sent == result.total == len(device.requests[2])


def test_raw_put_upload_with_its_content_type() -> None:
    device = LoginDevice()
    up = _run(device, _iap(upload="raw"), b"\x01\x02" * 100)
    assert up.result().accepted
    head, _, body = device.requests[2].partition(b"\r\n\r\n")
    assert head.startswith(b"PUT /fw HTTP/1.1") and body == b"\x01\x02" * 100
    assert b"Content-Type: application/octet-stream" in head


def test_wrong_password_fails_at_the_login_step() -> None:
    device = LoginDevice(password="other")
    result = _run(device, _iap(), b"x" * 10).result()
    assert not result.accepted and result.verdict == FAILED
    assert result.reason == "POST /login: 200 <p>Login failed</p>"
    assert len(device.requests) == 2 and result.bytes_sent == 0


def test_refusal_carries_the_device_text() -> None:
    device = LoginDevice(verdict="bad")
    result = _run(device, _iap(), b"x" * 10).result()
    assert result.verdict == REFUSED and not result.accepted
    assert result.reason == "<p>Upload failed: bad image</p>"


def test_upload_saved_in_its_middle_finishes_the_same_after_load() -> None:
    image = bytes(i % 241 for i in range(30_000))
    device = LoginDevice()
    wire = Wire(device, sample_host(seed=8))
    wire.host.apps["upload"] = Upload(wire.host, image, server=DEVICE_IP, transport=_iap())
    assert wire.run_until(lambda: wire.host.apps["upload"].sent > 10_000, 30 * SECOND)
    snap = wire.save()
    assert wire.run_until(lambda: wire.host.apps["upload"].done, 60 * SECOND)
    first, first_frames = wire.host.apps["upload"].result(), list(device.received)
    wire.load(snap)
    assert wire.run_until(lambda: wire.host.apps["upload"].done, 60 * SECOND)
    assert wire.host.apps["upload"].result() == first and first.accepted
    assert device.received == first_frames


def test_transport_data_is_checked() -> None:
    with pytest.raises(ValueError, match="exactly one step must carry the image"):
        HttpTransport((HttpStep("GET", "/"),))
    with pytest.raises(ValueError, match="a GET cannot carry the image"):
        HttpStep("GET", "/u", upload="raw")
    with pytest.raises(ValueError, match="accept_text"):
        HttpStep("POST", "/u", accept_text="(")
    with pytest.raises(ValueError, match=re.escape("method 'DELETE'")):
        HttpStep("DELETE", "/u")
