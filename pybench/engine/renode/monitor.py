"""A client for Renode's monitor socket: send a command, read until the prompt returns.

Errors the monitor prints become BenchError naming the command; a prompt that does not
come back within the timeout is an error too (Renode stuck or gone). The parsing is in
protocol.py, so it is tested without Renode.
"""

from __future__ import annotations

import socket
import time

from pybench.engine.renode import protocol
from pybench.errors import BenchError

DEFAULT_TIMEOUT_S = 60.0


class Monitor:
    """One connection to `renode --port N`."""

    def __init__(self, host: str, port: int, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.prompt = ""
        self.log: list[tuple[str, str]] = []   # (command, reply) for reports and debugging
        self._sock: socket.socket | None = None

    def connect(self, deadline_s: float) -> None:
        """Connect, retrying until Renode listens (it opens the port after start-up)."""
        end = time.monotonic() + deadline_s
        last: OSError | None = None
        while time.monotonic() < end:
            try:
                self._sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError as e:
                last = e
                time.sleep(0.2)  # polling a TCP port Renode has not opened yet, not timing
        if self._sock is None:
            raise BenchError(
                f"Renode monitor at {self.host}:{self.port} did not accept a connection in"
                f" {deadline_s:.0f} s ({last})"
            )
        self._read_until_prompt("(connect)")

    def _read_until_prompt(self, command: str) -> str:
        assert self._sock is not None
        raw = b""
        end = time.monotonic() + self.timeout_s
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise BenchError(
                    f"Renode monitor: no prompt {self.timeout_s:.0f} s after {command!r}"
                    f" (last output: {protocol.clean(raw.decode(errors='replace'))[-200:]!r})"
                )
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise BenchError(f"Renode monitor closed the connection after {command!r}")
            raw += chunk
            text = protocol.clean(protocol.strip_telnet(raw).decode("utf-8", errors="replace"))
            split = protocol.split_prompt(text)
            if split is not None:
                output, self.prompt = split
                return output

    def run(self, command: str) -> str:
        """Execute one monitor command; its output (echo removed) or BenchError."""
        if self._sock is None:
            raise BenchError(f"Renode monitor not connected (command {command!r})")
        try:
            self._sock.sendall(command.encode() + b"\n")
        except OSError as e:
            raise BenchError(f"Renode monitor: cannot send {command!r}: {e}") from None
        body = protocol.reply_body(self._read_until_prompt(command), command)
        self.log.append((command, body))
        error = protocol.find_error(body)
        if error is not None:
            raise BenchError(f"Renode: {command!r} failed: {error}")
        return body

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
