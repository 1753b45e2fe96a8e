"""Robot Framework keywords for the bench, over pybench.net.scenarios.

The device comes from the Robot variable ${DEVICE} (a description file; by default
$PYBENCH_DEVICE or, in a checkout, our sample device), the engine from ${ENGINE}
("builtin" by default, or "renode"), so a suite runs unchanged on any device and either
engine: `robot --variable DEVICE:devices/sample-flag.toml --variable ENGINE:renode robot/`.
Images are named by their role in the description (old, new, newer...) or by a path.
Times given to keywords ("20 s", "500 ms") are virtual time of the board.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn
from robot.utils import timestr_to_secs

from pybench.device.model import Device
from pybench.device.select import device_from
from pybench.engine.base import Engine
from pybench.image.files import read_image
from pybench.net import malformed, scenarios
from pybench.net.upload import UploadResult


def _ns(timeout: str | float) -> int:
    return int(timestr_to_secs(timeout) * 1_000_000_000)


class BenchLibrary:
    """One board per suite (Start Board / Stop Board), and the last upload's result."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self, device: str | None = None) -> None:
        self._device_arg = device
        self._device: Device | None = None
        self._engine: Engine | None = None
        self._last: UploadResult | None = None
        self._output: Path | None = None

    @property
    def device(self) -> Device:
        if self._device is None:
            given = self._device_arg or BuiltIn().get_variable_value("${DEVICE}", None)
            self._device = device_from(Path(given) if given else None)
        return self._device

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise AssertionError("no board: call Start Board first")
        return self._engine

    # --- board ---------------------------------------------------------------------------
    def start_board(self, image: str = "old", boot: str | None = None,
                    engine: str | None = None, pcap: str | None = None, seed: int = 0) -> None:
        """Build the device's board with `image` in its application slot (a role in the
        description, or a path) and `boot` (default: the description's bootloader), and
        power it on.

        The wire is recorded to `pcap` (default: the suite's name in Robot's output
        directory) and the console is written next to it at Stop Board.
        """
        name = engine or BuiltIn().get_variable_value("${ENGINE}", "builtin")
        out_dir = Path(BuiltIn().get_variable_value("${OUTPUT DIR}", "."))
        suite = BuiltIn().get_variable_value("${SUITE NAME}", "suite").replace(" ", "_")
        self._output = Path(pcap) if pcap else out_dir / f"{suite}.pcap"
        self._engine = scenarios.create_board(name, self.device, self._path(image),
                                              Path(boot) if boot else None)
        scenarios.attach(self._engine, self.device, seed=int(seed), pcap=self._output)
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
        """Wait for the application's ready line (the description's console.ready)."""
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

    def json_should_report(self, path: str, key: str, expected: Any) -> None:
        """GET `path` (a JSON object) and compare one value; `key` may be dotted
        (journal.state)."""
        value: Any = scenarios.http_json(self.engine, path)
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                raise AssertionError(f"{path} has no {key!r}")
            value = value[part]
        if str(value) != str(expected):
            raise AssertionError(f"{path} {key} is {value!r}, expected {expected!r}")

    def send_malformed_frames(self, *names: str) -> None:
        """Send the named malformed frames (all of pybench.net.malformed when none)."""
        b = scenarios.bench(self.engine)
        http = self.device.transports.http
        tftp = self.device.transports.tftp
        target = malformed.Target(b.host.mac, b.host.ip, self.device.network.mac, b.device_ip,
                                  http_port=http.port if http else 80,
                                  tftp_port=tftp.port if tftp else 69,
                                  http_path=http.steps[-1].path if http else "/")
        frames = [(n, malformed.frame(n, target)) for n in names] if names \
            else malformed.all_frames(target)
        for name, frame in frames:
            logger.info(f"malformed: {name} ({len(frame)} bytes)")
            self.engine.send_frame(frame)
            b.wire.run_for(1_000_000)

    # --- updates -------------------------------------------------------------------------
    def upload_image_via_http(self, image: str, mode: str | None = None) -> UploadResult:
        """Upload over the description's HTTP steps (`mode` multipart or raw changes how
        the image is carried)."""
        return self._upload(image, "http", mode)

    def upload_image_via_tftp(self, image: str) -> UploadResult:
        return self._upload(image, "tftp", None)

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

    def restart_board(self, via: str = "http") -> None:
        """Restart the device after an upload by `via`, as its description says."""
        try:
            logger.info(scenarios.restart(self.engine, via))
        except scenarios.ScenarioError as e:
            raise AssertionError(str(e)) from None

    def board_should_run_version(self, version: int, timeout: str = "30 s") -> None:
        """Wait for the line that says `version` runs (console.version) and the ready line;
        then, where the description has an HTTP probe, ask it too."""
        scenarios.wait_version(self.engine, int(version), _ns(timeout))
        running = scenarios.probe_version(self.engine)
        if running is not None and running != int(version):
            raise AssertionError(f"the device's probe says version {running}, expected "
                                 f"{version}")

    def board_should_run_image(self, image: str, timeout: str = "30 s") -> None:
        """`image` (a role or a path) runs: its version's line, the ready line, the probe."""
        version = self._version(image)
        if version is None:
            raise AssertionError(f"{image}: no version known (give it in the description's "
                                 "firmware.images)")
        self.board_should_run_version(version, timeout)

    def board_should_not_have_faulted(self) -> None:
        """No fault event so far, and the CPU is not in a fault handler."""
        faults = [e for e in self.engine.events() if e.kind == "fault"]
        cpu = self.engine.cpu_state()
        if faults or cpu.in_fault_handler or cpu.lockup:
            raise AssertionError(f"the board faulted: {faults[-1].detail if faults else cpu}")

    def console_should_show_version(self, version: int) -> None:
        """Some console line so far says version `version` runs (console.version)."""
        console = self.device.console
        if not any(console.version_of(line) == int(version) for line in self.engine.uart().lines):
            raise AssertionError(f"no console line says version {version} runs "
                                 f"({console.version!r})")

    def probe_should_report_version(self, version: int) -> None:
        """The description's HTTP probe answers `version` (passes when there is no probe)."""
        running = scenarios.probe_version(self.engine)
        if running is not None and running != int(version):
            raise AssertionError(f"the probe says version {running}, expected {version}")

    def image_version(self, image: str) -> int:
        version = self._version(image)
        if version is None:
            raise AssertionError(f"{image}: no version known")
        return version

    def application_slot_should_hold(self, image: str) -> None:
        self._slot_should_hold(self.device.layout.app_slot.addr, image, "application slot")

    def staging_slot_should_hold(self, image: str) -> None:
        staging = self.device.layout.staging
        if staging is None:
            raise AssertionError(f"{self.device.name} has no staging region")
        self._slot_should_hold(staging.addr, image, "staging slot")

    def create_corrupt_image(self, fault: str, source: str = "new") -> str:
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
    def _upload(self, image: str, via: str, mode: str | None) -> UploadResult:
        path = self._path(image)
        self._last = scenarios.upload(self.engine, read_image(path), via=via,
                                      mode=mode, filename=path.name)
        logger.info(f"upload {via}: {self._last}")
        return self._last

    def _version(self, image: str) -> int | None:
        from pybench.net.cli import image_version

        found = self.device.firmware.images.get(image)
        if found is not None and found.version is not None:
            return found.version
        return image_version(self.device, read_image(self._path(image)))

    def _result(self) -> UploadResult:
        if self._last is None:
            raise AssertionError("no upload yet")
        return self._last

    def _slot_should_hold(self, addr: int, image: str, what: str) -> None:
        data = read_image(self._path(image))
        held = self.engine.read_flash(addr, len(data))
        if held != data:
            first = next(i for i, (a, b) in enumerate(zip(held, data, strict=True)) if a != b)
            raise AssertionError(f"{what} differs from {image} from byte {first:#x} on")

    def _path(self, name: str) -> Path:
        """An image by its role in the description (old, new...), or a path."""
        found = self.device.firmware.images.get(name)
        if found is not None:
            return found.path
        path = Path(name)
        if not path.exists():
            roles = ", ".join(self.device.firmware.images) or "none"
            raise AssertionError(f"{name}: no such file, nor an image role of "
                                 f"{self.device.name} ({roles})")
        return path
