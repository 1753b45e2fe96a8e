"""A small HTTP server for the TAP tests, run inside a namespace as the "board".

It answers like the firmware's endpoints (GET /, POST /update with a multipart or raw
body) and reports what it received as JSON, so the tests can compare digests. It prints
"ready" once listening. Usage: python kernel_http_server.py ADDRESS PORT
"""

from __future__ import annotations

import hashlib
import json
import sys
from email import message_from_bytes
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(200, b"<html><body>kernel board</body></html>\n", "text/html")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        ctype = self.headers.get("Content-Type", "")
        info: dict[str, object] = {"received": len(body)}
        if ctype.startswith("multipart/form-data"):
            message = message_from_bytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body,
                                         policy=HTTP)
            parts = list(message.iter_parts())
            if len(parts) != 1:
                self._answer(400, b"expected one part\n", "text/plain")
                return
            data = parts[0].get_payload(decode=True)
            info.update(mode="multipart", filename=parts[0].get_filename(),
                        field=parts[0].get_param("name", header="content-disposition"))
        else:
            data = body
            info.update(mode="raw")
        info.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
        self._answer(202, json.dumps(info).encode() + b"\n")


def main() -> None:
    server = HTTPServer((sys.argv[1], int(sys.argv[2])), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
