"""The board's console (USART1) as recorded by recorders.py into the mailbox."""

from __future__ import annotations

from pathlib import Path

from pybench.engine.base import UartLog


class LineAssembler:
    """Bytes in, whole console lines out ("\\r\\n"-terminated, a bare "\\n" accepted)."""

    def __init__(self) -> None:
        self.log = UartLog()
        self.partial = ""

    def feed(self, data: bytes) -> list[str]:
        text = data.decode("utf-8", errors="replace")
        self.log.text += text
        self.partial += text
        *done, self.partial = self.partial.split("\n")
        lines = [line.rstrip("\r") for line in done]
        self.log.lines.extend(lines)
        return lines

    def restore(self, log: UartLog, partial: str) -> None:
        self.log = UartLog(log.text, list(log.lines))
        self.partial = partial


class ConsoleFile:
    """console.txt in the mailbox: every byte USART1 sent, appended as it was sent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = LineAssembler()
        self._offset = 0

    def drain(self) -> list[str]:
        """Everything the board printed since the last call, as new complete lines."""
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        return self.lines.feed(data) if data else []

    def close(self) -> None:
        """Nothing held open between reads."""
