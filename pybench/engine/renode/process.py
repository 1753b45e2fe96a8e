"""Starting and stopping the Renode process the engine drives."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

from pybench.errors import BenchError

NOT_INSTALLED = "Renode not installed (renode not on PATH): see docs/renode.md"
# --disable-gui: no monitor window (Renode before 1.15 spelled it --disable-xwt, set
# PYBENCH_RENODE_ARGS for those); --plain: no colours in what Renode prints itself.
DEFAULT_ARGS = ("--disable-gui", "--plain")


def find_renode() -> str:
    """The renode executable (PYBENCH_RENODE overrides PATH), or BenchError."""
    override = os.environ.get("PYBENCH_RENODE")
    exe = shutil.which(override) if override else shutil.which("renode")
    if exe is None:
        if override:
            raise BenchError(
                f"PYBENCH_RENODE={override!r} is not an executable: see docs/renode.md"
            )
        raise BenchError(NOT_INSTALLED)
    return exe


def free_port() -> int:
    """A TCP port nobody listens on now (Renode binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command_line(exe: str, monitor_port: int) -> list[str]:
    extra = shlex.split(os.environ.get("PYBENCH_RENODE_ARGS", "")) or list(DEFAULT_ARGS)
    return [exe, *extra, "--port", str(monitor_port)]


class RenodeProcess:
    """One Renode, its monitor on a local port, its own output in a log file."""

    def __init__(self, exe: str, monitor_port: int, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.argv = command_line(exe, monitor_port)
        self._log_file = log.open("wb")
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=self._log_file,
                stderr=subprocess.STDOUT, env={**os.environ, **env},
            )
        except OSError as e:
            self._log_file.close()
            raise BenchError(f"cannot start {' '.join(self.argv)}: {e.strerror}") from None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, n: int = 400) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self, grace_s: float = 5.0) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(grace_s)
        self._log_file.close()
