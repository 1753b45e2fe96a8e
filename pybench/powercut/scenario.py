"""How an update is performed on an engine, in steps a campaign can snapshot and resume.

A scenario prepares an unpowered board (platform, bootloader, flash contents), then
performs the update as a list of steps. The campaign (runner.py) snapshots the machine
at the start of every step and, inside a step marked resumable, every K flash
operations; a cut restores the nearest snapshot and calls the steps again from there.
A resumable step must therefore carry on to its goal when called on a machine restored
from the middle of it: it keeps what it needs to know in the scenario's `state` dict,
which is saved and loaded with every snapshot (as the network host is).

After the last step the campaign waits itself for the application's ready line
(runner.settle): that wait is where the bootloader copies the image down.

Everything about the device (its layout, metadata, console lines, transports and how it
restarts) comes from its description; the files (bootloader, old and new image) default
to the description's and may be replaced.
"""

from __future__ import annotations

import copy
import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pybench.device import metadata
from pybench.device.model import Device
from pybench.device.program import program_factory
from pybench.engine.base import Engine
from pybench.errors import BenchError
from pybench.powercut.oracle import UpdateFacts
from pybench.powercut.settle import RunUntil, wait_ready


class StepFailed(BenchError):
    """A step did not reach its goal (in the golden run: the campaign cannot start)."""


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Engine], None]
    resumable: bool = False


class Scenario(ABC):
    """One way of getting the new image onto the board (backdoor, HTTP, TFTP)."""

    via: str = "?"

    def __init__(self, device: Device, boot: Path | None = None, old_image: Path | None = None,
                 new_image: Path | None = None, platform: Path | None = None) -> None:
        self.device = device
        self.boot = boot or device.firmware.bootloader
        self.platform = platform or device.board.platform
        self.old_path = old_image or _role(device, "old")
        self.new_path = new_image or _role(device, "new")
        self.old = _read(self.old_path, device)
        self.new = _read(self.new_path, device)
        if not self.boot.is_file():
            raise BenchError(f"{self.boot}: bootloader ELF not found (run `make firmware`)")
        self.state: dict[str, Any] = {}
        self.ready = device.console.ready               # the application's ready line
        self.bound_ns = device.oracle.recovery_bound_ns  # how long any wait may take

    def run_until(self, engine: Engine) -> RunUntil | None:
        """How to run the board while waiting (None: engine.run, nobody on the wire)."""
        return None

    def wait_ready(self, engine: Engine, key: str) -> None:
        """A resumable wait for the ready line (state under `key`); raises when it never came."""
        if not wait_ready(engine, self.state, key, self.ready, self.bound_ns,
                          self.run_until(engine)):
            raise StepFailed(f"{key}: no line matching {self.ready!r} within "
                             f"{self.bound_ns / 1e9:g} s")

    def facts(self, engine: Engine) -> UpdateFacts:
        """Call after prepare(): the bootloader region as programmed is part of the facts."""
        boot = self.device.layout.boot
        return UpdateFacts(self.old, self.new, engine.read_flash(boot.addr, boot.size),
                           self.device)

    def prepare(self, engine: Engine) -> None:
        """The factory state: bootloader and old image in flash, board unpowered."""
        engine.load_platform(self.platform)
        program_factory(engine, self.device, boot=self.boot, application=self.old_path)

    @abstractmethod
    def steps(self) -> list[Step]: ...

    def power_lost(self, engine: Engine) -> None:  # noqa: B027 - most scenarios keep nothing
        """The board lost power and is about to be powered on for a recovery. What
        happens next must depend on flash alone (the campaign reuses the outcome of an
        equal state): a scenario with a host drops what the host was doing."""

    def save(self) -> object:
        return copy.deepcopy(self.state)

    def restore(self, engine: Engine, engine_snap: object, saved: object) -> None:
        """Back to a snapshot: the engine's and the scenario's state (from save())."""
        engine.restore(engine_snap)
        self.load(saved)

    def load(self, saved: object) -> None:
        assert isinstance(saved, dict)
        self.state = copy.deepcopy(saved)


def _role(device: Device, role: str) -> Path:
    found = device.firmware.images.get(role)
    if found is None:
        raise BenchError(f"{device.source}: firmware.images has no {role!r} image (give "
                         f"--{'from' if role == 'old' else 'to'} FILE)")
    return found.path


def _read(path: Path, device: Device) -> bytes:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise BenchError(f"{path}: is a folder, not an image") from None
    except OSError as e:
        raise BenchError(f"{path}: cannot read the image: {e.strerror}") from None
    slot = device.layout.app_slot
    if len(data) <= device.image.header_size or len(data) > slot.size:
        raise BenchError(f"{path}: {len(data)} bytes is not an image that fits the "
                         f"{slot.name} region ({slot.size} bytes)")
    return data


class BackdoorScenario(Scenario):
    """The upload already happened: the new image is in the staging region with the
    metadata that says "staged" (a STAGED journal record, a flag word), written with
    write_flash; power on and the bootloader copies it down. Cuts cover the copy-down
    only; every cut is after the commit, so the new image must win."""

    via = "backdoor"

    def prepare(self, engine: Engine) -> None:
        super().prepare(engine)
        backdoor = self.device.transports.backdoor
        if backdoor is None:
            raise BenchError(f"--via backdoor: {self.device.source} has no "
                             "[transport.backdoor]")
        engine.write_flash(self.device.layout.region(backdoor.region).addr, self.new)
        for addr, data in metadata.staged_writes(self.device, self.new):
            engine.write_flash(addr, data)

    def steps(self) -> list[Step]:
        return [Step("power-on", lambda engine: engine.power_on())]


class NetworkScenario(Scenario):
    """Boot the old image, upload the new one over HTTP or TFTP, reboot (pybench.net).

    The bench's host rides on the engine (pybench.net.scenarios.bench); its state is
    saved and loaded with the scenario's. The upload is two steps: starting it (the host
    opens the transfer) and carrying it to its end, which is resumable: the transfer
    lives in the host's state, so a snapshot taken in its middle carries on from there.
    """

    def __init__(self, via: str, *args: Any) -> None:
        super().__init__(*args)
        self.via = via
        self.seed = 0
        self.engine: Engine | None = None
        try:
            self.net: Any = importlib.import_module("pybench.net.scenarios")
        except ModuleNotFoundError as e:
            raise BenchError(f"--via {via}: the network scenarios (pybench.net.scenarios) "
                             f"are not available: {e}") from None

    def prepare(self, engine: Engine) -> None:
        super().prepare(engine)
        self.engine = engine
        self.net.attach(engine, self.device, seed=self.seed)

    def run_until(self, engine: Engine) -> RunUntil | None:
        wire = self.net.bench(engine).wire
        return wire.run_until  # type: ignore[no-any-return]

    def _boot(self, engine: Engine) -> None:
        try:
            self.net.wait_console(engine, self.ready, self.bound_ns)
        except BenchError as e:
            raise StepFailed(f"boot-old: {e}") from None

    def _start_upload(self, engine: Engine) -> None:
        self.net.start_upload(engine, self.new, via=self.via)

    def _upload(self, engine: Engine) -> None:
        result = self.net.finish_upload(engine)
        if not result.accepted:
            raise StepFailed(f"upload via {self.via}: the device did not stage the image "
                             f"({result})")

    def _reboot(self, engine: Engine) -> None:
        try:
            self.net.restart(engine, self.via)
        except BenchError as e:
            raise StepFailed(f"restart: {e}") from None

    def steps(self) -> list[Step]:
        return [
            Step("power-on", lambda engine: engine.power_on()),
            Step("boot-old", self._boot),
            Step("upload-start", self._start_upload),
            Step("upload", self._upload, resumable=True),
            Step("reboot", self._reboot),
        ]

    def power_lost(self, engine: Engine) -> None:
        # The client's upload died with the board; a stray retransmission into the
        # recovering board would make its run depend on when power failed.
        b = self.net.bench(engine)
        b.wire.drop_in_flight()
        b.host.forget_transfers()

    def save(self) -> object:
        assert self.engine is not None
        b = self.net.bench(self.engine)
        return (copy.deepcopy(self.state), b.host.save(), b.console_mark)

    def load(self, saved: object) -> None:
        assert self.engine is not None and isinstance(saved, tuple)
        state, host, mark = saved
        b = self.net.bench(self.engine)
        self.state = copy.deepcopy(state)
        b.host.load(host)
        b.console_mark = mark

    def restore(self, engine: Engine, engine_snap: object, saved: object) -> None:
        # The wire's own load() also drops frames of the abandoned future.
        from pybench.net.wire import WireSnapshot

        assert isinstance(saved, tuple)
        state, host, mark = saved
        self.net.load(engine, (WireSnapshot(engine_snap, host), mark))
        self.state = copy.deepcopy(state)


def make_scenario(via: str, device: Device, boot: Path | None = None, old: Path | None = None,
                  new: Path | None = None, platform: Path | None = None) -> Scenario:
    if via == "backdoor":
        return BackdoorScenario(device, boot, old, new, platform)
    if via in ("http", "tftp"):
        if via not in device.transports.names:
            raise BenchError(f"--via {via}: {device.name} offers no {via} upload "
                             f"({device.source})")
        return NetworkScenario(via, device, boot, old, new, platform)
    raise BenchError(f"--via {via}: choose http, tftp or backdoor")
