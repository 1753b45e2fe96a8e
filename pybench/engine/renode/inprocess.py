"""Renode loaded into this process through pyrenode3 (pythonnet), as the engine's monitor.

With PYBENCH_RENODE_INPROCESS=1 and pyrenode3 importable (it is not on PyPI: its README
installs it from its repository; pythonnet is on PyPI; PYRENODE_BUILD_DIR, PYRENODE_PKG
or PYRENODE_BIN select the Renode build), the engine sends its monitor commands to a
Monitor object in this process instead of a socket: no round trip per command. One
Renode per process (pyrenode3 loads it once); an engine that closes clears the emulation
for the next. Elsewhere the socket monitor is used.
"""

from __future__ import annotations

import importlib.util
import os

from pybench.engine.renode import protocol
from pybench.errors import BenchError

ENV = "PYBENCH_RENODE_INPROCESS"


def wanted() -> bool:
    return os.environ.get(ENV) == "1"


def available() -> bool:
    return wanted() and importlib.util.find_spec("pyrenode3") is not None


class InProcessMonitor:
    """The socket Monitor's interface (run, close, log) over pyrenode3's Monitor."""

    def __init__(self) -> None:
        try:
            from pyrenode3.wrappers import Emulation, Monitor
        except Exception as e:   # pythonnet and clr_loader raise their own kinds
            raise BenchError(f"{ENV}=1: cannot load Renode through pyrenode3: {e}") from None
        self._monitor = Monitor()
        self._emulation = Emulation()
        self._emulation.clear()
        self.log: list[tuple[str, str]] = []

    def run(self, command: str) -> str:
        out, err = self._monitor.execute(command)
        body = protocol.clean(str(out or "")).strip("\n")
        self.log.append((command, body))
        error = protocol.clean(str(err or "")).strip()
        if error:
            raise BenchError(f"Renode: {command!r} failed: {': '.join(error.splitlines())}")
        found = protocol.find_error(body)
        if found is not None:
            raise BenchError(f"Renode: {command!r} failed: {found}")
        return body

    def close(self) -> None:
        self._emulation.clear()
