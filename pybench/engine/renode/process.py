"""Starting and stopping the Renode process the engine drives."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
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


def robot_command_line(exe: str, server_port: int) -> list[str]:
    """Renode serving its own Robot keywords over XML-RPC (as renode-test starts it)."""
    extra = shlex.split(os.environ.get("PYBENCH_RENODE_ARGS", "")) or list(DEFAULT_ARGS)
    return [exe, *extra, "--hide-log", "--robot-server-port", str(server_port)]


def log_reason(log: str, most: int = 3) -> str:
    """The last error lines of a Renode log ("[ERROR]" lines, exceptions), joined."""
    errors = [line.strip() for line in log.splitlines()
              if "[ERROR]" in line or "Exception" in line]
    return " | ".join(errors[-most:])


def private_env(work: Path) -> dict[str, str]:
    """Variables that keep one Renode apart from every other.

    At start-up Renode deletes each directory in its temp dir whose name starts with
    `renode-` and does not end in a live process id: with a shared TMPDIR that would
    reach other Renodes' folders and the user's. Its configuration and its monitor
    history live under the XDG config folder; a history file shared by concurrent
    Renodes grows until every command is slow."""
    tmp, config = work / "tmp", work / "config"
    tmp.mkdir(exist_ok=True)
    config.mkdir(exist_ok=True)
    return {"TMPDIR": str(tmp), "XDG_CONFIG_HOME": str(config)}


class RenodeProcess:
    """One Renode, its monitor on a local port, its own output in a log file.

    `renode` is a launcher script that starts Mono (or dotnet): the process is started in
    a session of its own and stopped as a process group, so the emulator goes with it."""

    def __init__(self, exe: str, monitor_port: int, env: dict[str, str], log: Path,
                 argv: list[str] | None = None) -> None:
        self.log = log
        self.argv = argv or command_line(exe, monitor_port)
        self._log_file = log.open("wb")
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=self._log_file,
                stderr=subprocess.STDOUT, env={**os.environ, **env}, start_new_session=True,
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

    def reason(self) -> str:
        """Renode's own words for a failure: the last error lines of its log, if any."""
        try:
            return log_reason(self.log.read_text(errors="replace"))
        except OSError:
            return ""

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop Renode and everything its launcher started (its process group)."""
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.proc.wait(grace_s)
        self._signal_group(signal.SIGKILL)   # a child that outlived its launcher
        self._log_file.close()
