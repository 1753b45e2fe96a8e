"""Robot Framework keywords for the bench, over pybench.net.scenarios.

The engine comes from the Robot variable ${ENGINE} ("builtin" by default, or "renode"),
so a suite runs unchanged on either: `robot --variable ENGINE:renode robot/`. Times
given to keywords ("20 s", "500 ms") are virtual time of the board.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn
from robot.utils import timestr_to_secs

from pybench import layout
from pybench.engine.base import Engine
from pybench.net import malformed, scenarios
from pybench.net.upload import UploadResult
from pybench.paths import build_dir, platform_file


def _ns(timeout: str | float) -> int:
    return int(timestr_to_secs(timeout) * 1_000_000_000)


class BenchLibrary:
    """One board per suite (Start Board / Stop Board), and the last upload's result."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._last: UploadResult | None = None
        self._output: Path | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise AssertionError("no board: call Start Board first")
        return self._engine

    # --- board ---------------------------------------------------------------------------
    def start_board(self, image: str = "app-v1.img", boot: str = "boot.elf",
                    engine: str | None = None, pcap: str | None = None, seed: int = 0) -> None:
        """Build a board with `boot` and `image` (names in build/ or paths) and power it on.

        The wire is recorded to `pcap` (default: the suite's name in Robot's output
        directory) and the console is written next to it at Stop Board.
        """
        name = engine or BuiltIn().get_variable_value("${ENGINE}", "builtin")
        out_dir = Path(BuiltIn().get_variable_value("${OUTPUT DIR}", "."))
        suite = BuiltIn().get_variable_value("${SUITE NAME}", "suite").replace(" ", "_")
        self._output = Path(pcap) if pcap else out_dir / f"{suite}.pcap"
        self._engine = scenarios.create_board(name, self._path(boot), self._path(image),
                                              platform_file())
        scenarios.attach(self._engine, seed=int(seed), pcap=self._output)
        self._engine.power_on()
        logger.info(f"board on {name} engine, wire recorded to {self._output}")

    def stop_board(self) -> None:
        if self._engine is None:
            return
        if self._output is not None:
            self._output.with_suffix(".uart.log").write_text(self._engine.uart().text)
        scenarios.detach(self._engine)
        self._engine.close()
        self._engine = None

    def power_cycle_board(self) -> None:
        """Power off and on again (flash kept)."""
        self.engine.power_on()

    # --- console -------------------------------------------------------------------------
    def wait_for_console_line(self, pattern: str, timeout: str = "20 s") -> str:
        """Run until a console line after the last matched one matches `pattern` (regex)."""
        return scenarios.wait_console(self.engine, pattern, _ns(timeout))

    def board_should_be_up(self, timeout: str = "20 s") -> str:
        """Wait for the application's "net: up" line."""
        return scenarios.boot_and_wait(self.engine, _ns(timeout))

    def console_should_contain(self, text: str) -> None:
        if text not in self.engine.uart().text:
            raise AssertionError(f"console has no {text!r}")

    def console_should_not_contain(self, text: str) -> None:
        if text in self.engine.uart().text:
            raise AssertionError(f"console has {text!r}")

    # --- network -------------------------------------------------------------------------
    def ping_board(self, count: int = 3, size: int = 32, timeout: str = "1 s") -> list[float]:
        """Ping; the round trips in virtual microseconds. Fails on a lost reply."""
        rtts = scenarios.ping(self.engine, int(count), int(size), _ns(timeout))
        logger.info("RTT (virtual us): " + ", ".join(f"{r / 1000:.1f}" for r in rtts))
        return [r / 1000 for r in rtts]

    def http_request_should_answer(self, method: str, path: str, status: int,
                                   body: str = "") -> str:
        response = scenarios.http_request(self.engine, method, path, body.encode())
        if response.status != int(status):
            raise AssertionError(f"{method} {path}: {response.status} "
                                 f"{response.text.strip()[:80]!r}, expected {status}")
        return response.text

    def raw_http_request_should_answer(self, request: str, status: int) -> str:
        """Send `request` as it is (write CRLF as \\r\\n) and check the status."""
        response = scenarios.http_exchange(self.engine, request.encode("latin-1"))
        if response.status != int(status):
            raise AssertionError(f"{request[:40]!r}: {response.status}, expected {status}")
        return response.text

    def status_should_report(self, key: str, expected: Any) -> None:
        """GET /status and compare one value; `key` may be dotted (journal.state)."""
        value: Any = scenarios.status(self.engine)
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                raise AssertionError(f"/status has no {key!r}")
            value = value[part]
        if str(value) != str(expected):
            raise AssertionError(f"/status {key} is {value!r}, expected {expected!r}")

    def send_malformed_frames(self, *names: str) -> None:
        """Send the named malformed frames (all of pybench.net.malformed when none)."""
        frames = [(n, malformed.frame(n)) for n in names] if names else malformed.all_frames()
        b = scenarios.bench(self.engine)
        for name, frame in frames:
            logger.info(f"malformed: {name} ({len(frame)} bytes)")
            self.engine.send_frame(frame)
            b.wire.run_for(1_000_000)

    # --- updates -------------------------------------------------------------------------
    def upload_image_via_http(self, image: str, mode: str = "multipart") -> UploadResult:
        return self._upload(image, "http", mode)

    def upload_image_via_tftp(self, image: str) -> UploadResult:
        return self._upload(image, "tftp", "multipart")

    def upload_should_be_accepted(self) -> None:
        result = self._result()
        if not result.accepted:
            raise AssertionError(f"upload refused: {result}")

    def upload_should_be_rejected(self, status: int | None = None, reason: str = "") -> None:
        """The device refused the last upload (with `status` and `reason` text, if given)."""
        result = self._result()
        if result.accepted:
            raise AssertionError(f"upload was accepted: {result}")
        if status is not None and result.status != int(status):
            raise AssertionError(f"upload refused with {result.status}, expected {status}")
        if reason and reason not in f"{result.reason} {result.staging}":
            raise AssertionError(f"refusal {result.reason!r} / {result.staging!r} does not "
                                 f"mention {reason!r}")

    def reboot_board(self) -> None:
        status = scenarios.reboot(self.engine)
        if status != 202:
            raise AssertionError(f"POST /reboot answered {status}")

    def board_should_run_version(self, version: int, timeout: str = "30 s") -> None:
        """Wait for "app: firmware v<version>" and "net: up", then check /status."""
        scenarios.wait_version(self.engine, int(version), _ns(timeout))
        self.status_should_report("version_number", int(version))

    def application_slot_should_hold(self, image: str) -> None:
        self._slot_should_hold(layout.load().APP_SLOT_ADDR, image, "application slot")

    def staging_slot_should_hold(self, image: str) -> None:
        self._slot_should_hold(layout.load().STAGING_ADDR, image, "staging slot")

    def create_corrupt_image(self, fault: str, source: str = "app-v2.img") -> str:
        """`python -m pybench image corrupt`: a bad copy of `source`; returns its path."""
        out_dir = Path(BuiltIn().get_variable_value("${OUTPUT DIR}", "."))
        out = out_dir / f"bad-{fault}.img"
        cmd = [sys.executable, "-m", "pybench", "image", "corrupt", str(self._path(source)),
               "-o", str(out), "--fault", fault]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            raise AssertionError(f"{' '.join(cmd)}: {done.stderr.strip()}")
        return str(out)

    # --- helpers -------------------------------------------------------------------------
    def _upload(self, image: str, via: str, mode: str) -> UploadResult:
        path = self._path(image)
        self._last = scenarios.upload(self.engine, scenarios.read_image(path), via=via,
                                      mode=mode, filename=path.name)
        logger.info(f"upload {via}: {self._last}")
        return self._last

    def _result(self) -> UploadResult:
        if self._last is None:
            raise AssertionError("no upload yet")
        return self._last

    def _slot_should_hold(self, addr: int, image: str, what: str) -> None:
        data = scenarios.read_image(self._path(image))
        held = self.engine.read_flash(addr, len(data))
        if held != data:
            first = next(i for i, (a, b) in enumerate(zip(held, data, strict=True)) if a != b)
            raise AssertionError(f"{what} differs from {image} from byte {first:#x} on")

    @staticmethod
    def _path(name: str) -> Path:
        path = Path(name)
        return path if path.is_absolute() or path.exists() else build_dir() / name
