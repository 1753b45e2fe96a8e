"""HTTP requests byte for byte, the response parser, and one exchange over the TCP client."""

from __future__ import annotations

import random
from email import message_from_bytes
from email.policy import HTTP

import pytest
from netfakes import FakeEngine, TcpPeer
from sample_device import DEVICE_IP, sample_host

from pybench.net.http import (
    HttpError,
    HttpExchange,
    ResponseParser,
    browser_boundary,
    multipart_body,
    multipart_request,
    raw_request,
)
from pybench.net.wire import Wire

SECOND = 1_000_000_000
BOUNDARY = "----WebKitFormBoundaryAbC123xyZ0987654"


def test_multipart_body_is_what_a_browser_sends() -> None:
    body = multipart_body(BOUNDARY, "image", "app-v2.img", b"\x00\xffFIMG\r\n--")
    assert body == (
        b"------WebKitFormBoundaryAbC123xyZ0987654\r\n"
        b'Content-Disposition: form-data; name="image"; filename="app-v2.img"\r\n'
        b"Content-Type: application/octet-stream\r\n"
        b"\r\n"
        b"\x00\xffFIMG\r\n--"
        b"\r\n------WebKitFormBoundaryAbC123xyZ0987654--\r\n"
    )


def test_multipart_request_parses_back_with_the_email_library() -> None:
    data = bytes(random.Random(5).randrange(256) for _ in range(3000))
    request = multipart_request("/update", DEVICE_IP, "app-v2.img", data, BOUNDARY)
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /update HTTP/1.1"
    assert f"Content-Length: {len(body)}" in lines
    content_type = next(v for v in lines if v.startswith("Content-Type:"))
    message = message_from_bytes(content_type.encode() + b"\r\n\r\n" + body, policy=HTTP)
    (part,) = list(message.iter_parts())
    assert part.get_param("name", header="content-disposition") == "image"
    assert part.get_filename() == "app-v2.img"
    assert part.get_content_type() == "application/octet-stream"
    assert part.get_payload(decode=True) == data


def test_boundary_looks_like_chromium_and_follows_the_seed() -> None:
    a, b = browser_boundary(random.Random(1)), browser_boundary(random.Random(1))
    assert a == b and a.startswith("----WebKitFormBoundary") and len(a) == 38
    assert a != browser_boundary(random.Random(2))


def test_filename_with_a_quote_is_refused() -> None:
    with pytest.raises(ValueError, match="filename"):
        multipart_body(BOUNDARY, "image", 'a"b.img', b"")


def test_raw_request_headers() -> None:
    request = raw_request("/update", DEVICE_IP, b"abcd")
    assert request == (b"POST /update HTTP/1.1\r\nHost: 192.168.7.2\r\nUser-Agent: pybench\r\n"
                       b"Accept: */*\r\nConnection: close\r\n"
                       b"Content-Type: application/octet-stream\r\nContent-Length: 4\r\n"
                       b"\r\nabcd")


@pytest.mark.parametrize("split", [1, 3, 7, 1000])
def test_response_with_content_length_fed_in_pieces(split: int) -> None:
    raw = b"HTTP/1.1 202 Accepted\r\nContent-Length: 7\r\nX-A: b\r\n\r\nstaged\n"
    parser = ResponseParser()
    for i in range(0, len(raw), split):
        parser.feed(raw[i:i + split])
    assert parser.response is not None
    assert (parser.response.status, parser.response.reason) == (202, "Accepted")
    assert parser.response.headers["x-a"] == "b"
    assert parser.response.body == b"staged\n"


def test_chunked_response() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n")
    assert parser.response is None
    parser.feed(b"5;x=y\r\npedia\r\n0\r\n\r\n")
    assert parser.response is not None and parser.response.body == b"Wikipedia"


def test_body_ended_by_close_and_truncated_response() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.0 400 Bad Request\r\n\r\nbad magic\n")
    assert parser.finish().text == "bad magic\n"
    short = ResponseParser()
    short.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(HttpError, match="middle of the response body"):
        short.finish()
    with pytest.raises(HttpError, match="bad status line"):
        ResponseParser().feed(b"SSH-2.0-x\r\n\r\n")


def test_exchange_over_the_tcp_client() -> None:
    reply = b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 17\r\n\r\nimage too large\r\n"
    peer = TcpPeer(mss=536, window=2048, respond=lambda req: reply)
    wire = Wire(FakeEngine(peer), sample_host(seed=4))
    data = b"\x55" * 5000
    request = raw_request("/update", DEVICE_IP, data)
    exchange = HttpExchange(wire.host, DEVICE_IP, 80, request)
    assert wire.run_until(lambda: exchange.done, 5 * SECOND)
    response = exchange.result()
    assert response.status == 413 and response.text == "image too large\r\n"
    assert bytes(peer.data) == request
    assert exchange.sent == len(request)
