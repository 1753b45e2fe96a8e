"""The board's console (USART1) through Renode's server socket terminal."""

from __future__ import annotations

import socket

from pybench.engine.base import UartLog
from pybench.engine.renode.protocol import strip_telnet
from pybench.errors import BenchError


class LineAssembler:
    """Bytes in, whole console lines out ("\\r\\n"-terminated, a bare "\\n" accepted)."""

    def __init__(self) -> None:
        self.log = UartLog()
        self._partial = ""

    def feed(self, data: bytes) -> list[str]:
        text = data.decode("utf-8", errors="replace")
        self.log.text += text
        self._partial += text
        *done, self._partial = self._partial.split("\n")
        lines = [line.rstrip("\r") for line in done]
        self.log.lines.extend(lines)
        return lines


class ConsoleSocket:
    """A client of `emulation CreateServerSocketTerminal PORT "term" false`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.lines = LineAssembler()
        try:
            self._sock = socket.create_connection(("127.0.0.1", port), timeout=10.0)
        except OSError as e:
            raise BenchError(f"Renode console terminal on port {port}: {e}") from None
        self._sock.setblocking(False)

    def drain(self) -> list[str]:
        """Everything Renode has sent so far, as new complete lines."""
        new: list[str] = []
        while True:
            try:
                chunk = self._sock.recv(65536)
            except BlockingIOError:
                return new
            except OSError as e:
                raise BenchError(f"Renode console terminal on port {self.port}: {e}") from None
            if not chunk:
                return new
            new += self.lines.feed(strip_telnet(chunk))

    def close(self) -> None:
        self._sock.close()
