"""Renode's own Robot keywords, with Renode's names and arguments, on either engine.

Suites written for Renode (`Execute Command`, `Create Terminal Tester`, `Wait For Line
On Uart`, `Create Network Interface Tester`, `Send Frame`, `Wait For Outgoing
Packet`...) run unchanged with `robot --variable ENGINE:builtin|renode`:

- ENGINE:renode: every keyword passes through to Renode's own implementation. The
  library starts `renode --robot-server-port N` (as Renode's renode-test does) and calls
  the keyword on that XML-RPC server; named arguments travel as "name=value", as
  Renode's server reads them.
- ENGINE:builtin: the keywords are implemented over the built-in engine, and
  `Execute Command` understands the monitor commands such suites use to set a board up
  and run it (renode_monitor.py lists them); any other command fails with a one-line
  message naming it. Timeouts are virtual seconds, as on Renode.

Renode reads a Python peripheral's script name relative to its own folder (its launcher
changes to it): a suite loads our board through ${PLATFORM} from the variable file
pybench.robot.renode_platform, which gives Renode a copy naming the script absolutely.
"""

from __future__ import annotations

import contextlib
import time
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robot.libraries.BuiltIn import BuiltIn

from pybench import layout
from pybench.chip import F407
from pybench.engine.base import Engine
from pybench.errors import BenchError
from pybench.paths import platform_file
from pybench.robot import renode_monitor as rm

DEFAULT_UART_TIMEOUT_S = 8.0
SERVER_START_S = 120.0
# How far the built-in engine runs between looks at the console or the wire while a
# keyword waits (virtual time; the engine itself stops at each line and frame).
SLICE_NS = 10_000_000


def _engine_name(engine: str | None) -> str:
    name = engine or BuiltIn().get_variable_value("${ENGINE}", "builtin")
    if name not in ("builtin", "renode"):
        raise AssertionError(f"ENGINE {name!r}: choose builtin or renode")
    return str(name)


def _execdir() -> Path:
    """Where Robot was started (relative @paths are read from there), or the cwd."""
    from robot.libraries.BuiltIn import RobotNotRunningError
    try:
        return Path(BuiltIn().get_variable_value("${EXECDIR}", "."))
    except RobotNotRunningError:
        return Path.cwd()


def _flag(value: object) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


# --- Renode: pass-through ----------------------------------------------------------------
class RenodeServer:
    """A Renode started with its Robot server, and calls of its keywords."""

    def __init__(self) -> None:
        import tempfile

        from pybench.engine.renode.process import (
            RenodeProcess,
            find_renode,
            free_port,
            private_env,
            robot_command_line,
        )

        self.work = Path(tempfile.mkdtemp(prefix="pybench-renode-robot-"))
        port = free_port()
        platforms = platform_file().parent
        env = {"PYBENCH_RENODE_MAILBOX": str(self.work),
               "PYBENCH_PLATFORM_DIR": str(platforms),
               "PYBENCH_FLASH_LAYOUT": str(layout.header_path()),
               **private_env(self.work)}
        self.process = RenodeProcess(find_renode(), port, env, self.work / "renode.log",
                                     argv=robot_command_line(find_renode(), port))
        self.proxy = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/", allow_none=True)
        end = time.monotonic() + SERVER_START_S
        while True:
            try:
                self.proxy.get_keyword_names()
                break
            except (OSError, xmlrpc.client.ProtocolError):
                if not self.process.alive() or time.monotonic() > end:
                    self.close()
                    raise AssertionError(f"Renode's Robot server did not start: "
                                         f"{self.process.tail()!r}") from None
                time.sleep(0.2)  # polling a server that is starting, not timing

    def run(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        wire = [str(a) for a in args] + [f"{k}={v}" for k, v in kwargs.items()
                                        if v is not None]
        try:
            result = self.proxy.run_keyword(name.replace(" ", ""), wire)
        except xmlrpc.client.Fault as e:
            raise AssertionError(f"Renode: {name}: {e.faultString}") from None
        except OSError as e:
            raise AssertionError(f"Renode: {name}: {e}; its log: "
                                 f"{self.process.reason() or self.process.tail()!r}") from None
        if result.get("status") != "PASS":
            raise AssertionError(str(result.get("error") or f"{name} failed").strip())
        return result.get("return")

    def close(self) -> None:
        import shutil
        with contextlib.suppress(OSError, xmlrpc.client.Error):   # it may stop as it answers
            self.proxy.run_keyword("StopRemoteServer", [])
        self.process.stop()
        shutil.rmtree(self.work, ignore_errors=True)


# --- the built-in engine ------------------------------------------------------------------
@dataclass
class _Tester:
    kind: str                     # "uart" or "net"
    timeout_s: float
    line: int = 0                 # uart: lines already consumed
    frames: list[tuple[int, bytes]] = field(default_factory=list)


class BuiltinBoard:
    """Renode's keywords over the built-in engine."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.machine = ""
        self.started = False
        self.powered = False
        self.testers: list[_Tester] = []
        self.default_uart_timeout = DEFAULT_UART_TIMEOUT_S

    def _board(self) -> Engine:
        if self.engine is None:
            raise AssertionError("no platform loaded: Execute Command  machine "
                                 "LoadPlatformDescription @file.repl first")
        return self.engine

    def execute(self, command: str) -> str:
        try:
            cmd = rm.parse(command, _execdir())
        except rm.UnsupportedCommand as e:
            raise AssertionError(str(e)) from None
        try:
            return self._do(cmd)
        except (BenchError, OSError) as e:
            raise AssertionError(f"{command!r}: {e}") from None

    def _do(self, cmd: rm.Command) -> str:
        if cmd.kind == "mach-create":
            if self.machine:
                raise AssertionError("the built-in engine runs one machine")
            self.machine = cmd.target or "machine-0"
        elif cmd.kind == "load-platform":
            from pybench.net.scenarios import make_engine
            if self.engine is not None:
                raise AssertionError("a platform is already loaded")
            assert cmd.path is not None
            self.engine = make_engine("builtin", cmd.path)
        elif cmd.kind == "load-elf":
            assert cmd.path is not None
            self._board().load_elf(cmd.path)
        elif cmd.kind == "load-binary":
            assert cmd.path is not None
            self._board().write_flash(cmd.address, cmd.path.read_bytes())
        elif cmd.kind == "set-range":
            self._set_range(cmd)
        elif cmd.kind == "run-for":
            if self.started:   # Renode's rule and words
                raise AssertionError("This action is not available when emulation is "
                                     "already started")
            self._power()
            self._board().run(cmd.ns)
        elif cmd.kind == "start":
            self._power()
            self.started = True
        elif cmd.kind == "pause":
            self.started = False
        # "reset-macro": a software reset already restarts from the boot vectors here;
        # "advance-immediately": the built-in engine never waits for the wall clock.
        return ""

    def _set_range(self, cmd: rm.Command) -> None:
        if cmd.address + cmd.length > F407.flash_size:
            raise AssertionError(f"sysbus.{cmd.target} SetRange: past the end of flash")
        if cmd.value == 0xFF and cmd.address == 0 and cmd.length == F407.flash_size:
            return   # erasing all of flash: it starts erased here
        self._board().write_flash(F407.flash_base + cmd.address,
                                  bytes([cmd.value & 0xFF]) * cmd.length)

    def _power(self) -> None:
        if not self.powered:
            self._board().power_on()
            self.powered = True

    def start(self) -> None:
        self._power()
        self.started = True

    # --- testers ----------------------------------------------------------------------
    def create_tester(self, kind: str, target: str, timeout: float | None) -> int:
        want = "sysbus.usart1" if kind == "uart" else "sysbus.ethernet"
        if target != want:
            raise AssertionError(f"the built-in engine has no {kind} tester for {target!r}"
                                 f" (it has {want})")
        self.testers.append(_Tester(kind, self.default_uart_timeout if timeout is None
                                    else float(timeout)))
        return len(self.testers) - 1

    def tester(self, kind: str, tester_id: int | None) -> _Tester:
        ids = [i for i, t in enumerate(self.testers) if t.kind == kind]
        if not ids:
            raise AssertionError(f"no {kind} tester: create one first")
        index = ids[-1] if tester_id is None else int(tester_id)
        if index not in ids:
            raise AssertionError(f"no {kind} tester with id {tester_id}")
        return self.testers[index]

    def _wait(self, timeout_s: float, found: Any) -> Any:
        """Run until found() gives something, for at most timeout_s of virtual time."""
        eng = self._board()
        if not self.started:
            raise AssertionError("the emulation is paused: Start Emulation first")
        end = eng.now_ns + round(timeout_s * 1_000_000_000)
        hit = None

        def look() -> bool:   # the engine calls it at each line and frame
            nonlocal hit
            if hit is None:
                hit = found()
            return hit is not None

        while not look() and eng.now_ns < end:
            eng.run(min(SLICE_NS, end - eng.now_ns), look)
        return hit

    def wait_line(self, content: str, timeout: float | None, tester_id: int | None,
                  regex: bool) -> dict[str, Any]:
        import re
        t = self.tester("uart", tester_id)
        eng = self._board()
        rx = re.compile(content) if regex else None

        def found() -> dict[str, Any] | None:
            lines = eng.uart().lines
            for i in range(t.line, len(lines)):
                line = lines[i]
                m = rx.search(line) if rx is not None else None
                if (rx is None and content in line) or m is not None:
                    t.line = i + 1
                    return {"line": line, "timestamp": eng.now_ns / 1e6,
                            "groups": list(m.groups()) if m is not None else []}
            return None

        hit = self._wait(t.timeout_s if timeout is None else float(timeout), found)
        if hit is None:
            raise AssertionError(f"Terminal tester failed!\n\nExpected: {content!r} on "
                                 f"sysbus.usart1 within {timeout or t.timeout_s} s")
        return hit

    def should_not_be_on_uart(self, content: str, timeout: float | None,
                              tester_id: int | None, regex: bool) -> None:
        t = self.tester("uart", tester_id)
        start = t.line
        try:
            hit = self.wait_line(content, timeout, tester_id, regex)
        except AssertionError:
            t.line = start
            return
        raise AssertionError(f"Terminal tester failed!\n\nUnexpected line: {hit['line']!r}")

    def send_frame(self, hex_bytes: str, tester_id: int | None) -> None:
        self.tester("net", tester_id)
        frame = bytes.fromhex(hex_bytes)
        body = rm.strip_fcs(frame)
        if body is not None:   # a frame with a bad FCS is dropped, as Renode's MAC does
            self._power()
            self._board().send_frame(body)

    def wait_packet(self, timeout: float, tester_id: int | None, pattern: str = "",
                    index: int = 0, max_packets: int | None = None) -> dict[str, Any]:
        t = self.tester("net", tester_id)
        eng = self._board()
        checked = 0

        def found() -> dict[str, Any] | None:
            nonlocal checked
            t.frames += eng.take_frames()
            while t.frames and (max_packets is None or checked < max_packets):
                when, frame = t.frames.pop(0)
                checked += 1
                if not pattern or rm.bytes_match(pattern, index, frame):
                    return {"bytes": frame, "timestamp": when / 1e6}
            return None

        hit = self._wait(float(timeout), found)
        if hit is None:
            raise AssertionError("No packet received in the expected time frame." if not pattern
                                 else "Requested packet not received in the expected time frame.")
        return hit

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None


class RenodeKeywords:
    """Renode's keywords; the engine from ${ENGINE} (or the `engine` library argument)."""

    ROBOT_LIBRARY_SCOPE = "SUITE"
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, engine: str | None = None) -> None:
        self._engine_arg = engine
        self._renode: RenodeServer | None = None
        self._builtin: BuiltinBoard | None = None
        self.ROBOT_LIBRARY_LISTENER = self

    # --- which engine ---------------------------------------------------------------------
    def _backend(self) -> RenodeServer | BuiltinBoard:
        if self._renode is None and self._builtin is None:
            if _engine_name(self._engine_arg) == "renode":
                self._renode = RenodeServer()
            else:
                self._builtin = BuiltinBoard()
        backend = self._renode or self._builtin
        assert backend is not None
        return backend

    def _pass(self, name: str, *args: Any, **kwargs: Any) -> Any | None:
        """On Renode, the keyword's own result; None on the built-in engine."""
        backend = self._backend()
        if isinstance(backend, RenodeServer):
            return backend.run(name, args, kwargs)
        return None

    def _board(self) -> BuiltinBoard:
        backend = self._backend()
        assert isinstance(backend, BuiltinBoard)
        return backend

    def _on_renode(self) -> bool:
        return isinstance(self._backend(), RenodeServer)

    def end_suite(self, data: Any, result: Any) -> None:
        self.stop_remote_server()

    # --- Renode's keywords -----------------------------------------------------------------
    def execute_command(self, command: str, machine: str | None = None) -> str:
        if self._on_renode():
            return str(self._pass("Execute Command", command, machine=machine) or "")
        return self._board().execute(command)

    def reset_emulation(self) -> None:
        if self._on_renode():
            self._pass("Reset Emulation")
            return
        self._board().close()
        self._builtin = BuiltinBoard()

    def start_emulation(self) -> None:
        if self._on_renode():
            self._pass("Start Emulation")
        else:
            self._board().start()

    def stop_remote_server(self) -> None:
        """Renode's name for ending the session: Renode (or the built-in board) stops."""
        if self._renode is not None:
            self._renode.close()
        if self._builtin is not None:
            self._builtin.close()
        self._renode = self._builtin = None

    def set_default_uart_timeout(self, timeout: float) -> None:
        if self._on_renode():
            self._pass("Set Default Uart Timeout", timeout)
        else:
            self._board().default_uart_timeout = float(timeout)

    def create_terminal_tester(self, uart: str, timeout: float | None = None,
                               machine: str | None = None) -> int:
        if self._on_renode():
            return int(self._pass("Create Terminal Tester", uart, timeout=timeout,
                                  machine=machine))
        return self._board().create_tester("uart", uart, timeout)

    def wait_for_line_on_uart(self, content: str, timeout: float | None = None,
                              testerId: int | None = None,
                              treatAsRegex: bool = False,
                              ) -> Any:
        if self._on_renode():
            return self._pass("Wait For Line On Uart", content, timeout=timeout,
                              testerId=testerId, treatAsRegex=treatAsRegex)
        return self._board().wait_line(content, timeout, testerId, _flag(treatAsRegex))

    def should_not_be_on_uart(self, content: str, timeout: float | None = None,
                              testerId: int | None = None,
                              treatAsRegex: bool = False,
                              ) -> None:
        if self._on_renode():
            self._pass("Should Not Be On Uart", content, timeout=timeout, testerId=testerId,
                       treatAsRegex=treatAsRegex)
        else:
            self._board().should_not_be_on_uart(content, timeout, testerId,
                                                _flag(treatAsRegex))

    def create_network_interface_tester(self, networkInterface: str,
                                        machine: str | None = None) -> int:
        if self._on_renode():
            return int(self._pass("Create Network Interface Tester", networkInterface,
                                  machine=machine))
        return self._board().create_tester("net", networkInterface, None)

    def send_frame(self, bytes: str, testerId: int | None = None) -> None:
        if self._on_renode():
            self._pass("Send Frame", bytes, testerId=testerId)
        else:
            self._board().send_frame(bytes, testerId)

    def wait_for_outgoing_packet(self, timeout: float,
                                 testerId: int | None = None) -> Any:
        if self._on_renode():
            return self._pass("Wait For Outgoing Packet", timeout, testerId=testerId)
        return self._board().wait_packet(timeout, testerId)

    def wait_for_outgoing_packet_with_bytes_at_index(
            self, bytes: str, index: int, maxPackets: int, timeout: float,
            testerId: int | None = None) -> Any:
        if self._on_renode():
            return self._pass("Wait For Outgoing Packet With Bytes At Index", bytes, index,
                              maxPackets, timeout, testerId=testerId)
        return self._board().wait_packet(timeout, testerId, bytes, int(index),
                                         int(maxPackets))
