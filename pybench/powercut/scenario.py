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
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from pybench import journal
from pybench.device import metadata
from pybench.device.model import Device, MetadataKind
from pybench.device.program import program_factory
from pybench.engine.base import Engine
from pybench.errors import BenchError
from pybench.image.files import read_image
from pybench.journal import JournalRecord, State
from pybench.powercut import chain, content
from pybench.powercut.oracle import UpdateFacts
from pybench.powercut.settle import RunUntil, wait_ready


class StepFailed(BenchError):
    """A step did not reach its goal (in the golden run: the campaign cannot start)."""


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Engine], None]
    resumable: bool = False
    link: int | None = None     # link k of the chain starts here: its cuts are judged by
                                # its facts from this step's first flash operation on


class Scenario(ABC):
    """One way of getting the new image onto the board (backdoor, HTTP, TFTP)."""

    via: str = "?"

    def __init__(self, device: Device, boot: Path | None = None, old_image: Path | None = None,
                 new_image: Path | None = None, platform: Path | None = None,
                 content_fault: str | None = None, expect: str | None = None,
                 seed: int = 0, extras: Extras | None = None) -> None:
        self.device = device
        self.boot = boot or device.firmware.bootloader
        self.platform = platform or device.board.platform
        self.old_path = old_image or _role(device, "old")
        self.new_path = new_image or _role(device, "new")
        self.old = _read(self.old_path, device)
        self.good_new = _read(self.new_path, device)
        self.extras = extras or Extras()
        self.fault_seed = seed
        fill = self.extras.journal_fill
        if fill:
            if device.metadata.kind is not MetadataKind.JOURNAL:
                raise BenchError(f"--journal-fill: {device.name} keeps no journal")
            if not 0 < fill < journal_slots(device):
                raise BenchError(f"--journal-fill {fill}: choose 1..{journal_slots(device) - 1}")
        if self.extras.at_rest == "staging":
            content_fault = content_fault or "flip-body"
        self.content_fault = content_fault
        try:
            self.new = self.good_new if content_fault is None else \
                content.damaged(self.good_new, content_fault, seed)
        except ValueError as e:
            raise BenchError(f"--content-fault: {e}") from None
        # What the update must end on: "new" installed, or "old" (refused) still running.
        self.expect = expect or ("old" if content_fault else "new")
        if self.expect not in ("old", "new"):
            raise BenchError(f"--expect {self.expect!r}: choose old or new")
        # The updates in a row (one unless --chain): each link's image and expectation.
        self.links = [chain.Link(self.new_path, self.new, self.good_new, content_fault,
                                 self.expect)]
        if self.extras.chain:
            if content_fault or expect:
                raise BenchError("--chain: give each link its fault (IMAGE+FAULT), not "
                                 "--content-fault or --expect")
            if self.extras.at_rest:
                raise BenchError("--chain: not with --at-rest")
            self.links = chain.resolve(self.extras.chain, device, seed)
            last = self.links[-1]
            self.new, self.good_new, self.content_fault = last.image, last.good, last.fault
            self.new_path, self.expect = last.path, last.expect
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
        """Call after prepare(): the bootloader region as programmed is part of the facts.
        Those of the last link (the only one unless --chain)."""
        return self.link_facts(engine, len(self.links) - 1)

    def link_facts(self, engine: Engine, k: int) -> UpdateFacts:
        """The facts of link k: the image running when it starts, the one it sends."""
        boot = self.device.layout.boot
        link = self.links[k]
        old = chain.running_before(self.old, self.links, k)
        return UpdateFacts(old, link.image, engine.read_flash(boot.addr, boot.size),
                           self.device, link.expect)

    def check_link(self, engine: Engine, k: int) -> None:
        """After link k's restart and ready line: the image it must leave is in the slot."""
        want = self.links[k].image if self.links[k].expect == "new" else \
            chain.running_before(self.old, self.links, k)
        slot = self.device.layout.app_slot.addr
        if engine.read_flash(slot, len(want)) != want:
            raise StepFailed(f"link {k + 1} ({self.links[k].path.name}"
                             f"{'+' + str(self.links[k].fault) if self.links[k].fault else ''}): "
                             f"the application slot does not hold the image it must leave")

    def prepare(self, engine: Engine) -> None:
        """The factory state: bootloader and old image in flash, board unpowered."""
        engine.load_platform(self.platform)
        program_factory(engine, self.device, boot=self.boot, application=self.old_path)
        if self.extras.journal_fill:
            for name, data in zip(self.device.metadata.regions, self.factory_journal(),
                                  strict=True):
                engine.write_flash(self.device.layout.region(name).addr, data)

    def factory_journal(self) -> tuple[bytes, bytes]:
        """The journal's two regions as prepare() leaves them: erased, or the history.
        (Computed, not read back: an engine need not read flash before power-on.)"""
        a_reg, b_reg = (self.device.layout.region(n) for n in self.device.metadata.regions)
        a = b = b""
        if self.extras.journal_fill:
            a, b = history(self.device, self.old, self.extras.journal_fill)
        return a.ljust(a_reg.size, b"\xff"), b.ljust(b_reg.size, b"\xff")

    def write_staged(self, engine: Engine, k: int = 0) -> None:
        """Link k's image in the backdoor region, and the metadata that says it is staged,
        appended as the device's staging writer does (after the journal's history; for a
        damaged image, the record a writer whose check had a bug would append)."""
        backdoor = self.device.transports.backdoor
        if backdoor is None:
            raise BenchError(f"--via backdoor: {self.device.source} has no "
                             "[transport.backdoor]")
        link = self.links[k]
        engine.write_flash(self.device.layout.region(backdoor.region).addr, link.image)
        if self.device.metadata.kind is MetadataKind.JOURNAL:
            a, b = self.factory_journal() if k == 0 else (
                engine.read_flash(r.addr, r.size) for r in
                (self.device.layout.region(n) for n in self.device.metadata.regions))
            writes = chain.staged_append(self.device, a, b, link.image, link.good)
        else:
            writes = metadata.staged_writes(self.device, link.image)
        for addr, data in writes:
            engine.write_flash(addr, data)

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


@dataclass(frozen=True)
class Extras:
    """What else a campaign puts on the board (docs/powercut.md, "Faults at rest" and
    "Journal history")."""

    at_rest: str | None = None   # "slot": a bit of the installed image flips between
                                 # boots; "staging": one of the staged image (flip-body)
    journal_fill: int = 0        # history: sector B full of older records, A this many
    chain: tuple[chain.LinkSpec, ...] = ()   # updates in a row after the factory image


def _reset(engine: Engine) -> None:
    """A system reset (the application restarting itself after an upload), done within
    the step: a reset still pending is not part of a snapshot."""
    engine.system_reset()
    engine.run(1_000)


def journal_slots(device: Device) -> int:
    return device.layout.region(device.metadata.regions[0]).size // journal.RECORD_SIZE


def history(device: Device, old: bytes, fill: int) -> tuple[bytes, bytes]:
    """Journal regions A and B after many earlier updates to `old`: B full of DONE
    records (seq 1..slots), A holding `fill` more. The next record goes into A at slot
    `fill`; once A is full the journal compacts into B, which must be erased first."""
    slots = journal_slots(device)
    if not 0 < fill < slots:
        raise BenchError(f"--journal-fill {fill}: choose 1..{slots - 1}")
    rec = staged_record(old)

    def done(seq: int) -> bytes:
        # DONE raises the floor to the installed version (docs/journal.md).
        return replace(rec, seq=seq, state=State.DONE, floor=rec.image_version).encode()

    b = b"".join(done(seq) for seq in range(1, slots + 1))
    a = b"".join(done(slots + 1 + i) for i in range(fill))
    return a, b


def _role(device: Device, role: str) -> Path:
    found = device.firmware.images.get(role)
    if found is None:
        raise BenchError(f"{device.source}: firmware.images has no {role!r} image (give "
                         f"--{'from' if role == 'old' else 'to'} FILE)")
    return found.path


def _read(path: Path, device: Device) -> bytes:
    data = read_image(path)
    slot = device.layout.app_slot
    if len(data) <= device.image.header_size or len(data) > slot.size:
        raise BenchError(f"{path}: {len(data)} bytes is not an image that fits the "
                         f"{slot.name} region ({slot.size} bytes)")
    return data


def staged_record(image: bytes, seq: int = 1, good: bytes | None = None) -> JournalRecord:
    """The STAGED record the staging writer appends once an image is verified (for a
    damaged image: the record a writer whose check had a bug would append, its fields
    from the `good` image where the damaged header does not parse)."""
    version, digest = content.claimed_record_fields(image, good or image)
    return JournalRecord(seq=seq, state=State.STAGED, image_size=len(image),
                         image_version=version, digest=digest)


class BackdoorScenario(Scenario):
    """The upload already happened: the new image is in the staging region with the
    metadata that says "staged" (a STAGED journal record, a flag word), written with
    write_flash; power on and the bootloader copies it down. Cuts cover the copy-down
    only; every cut is after the commit, so the new image must win.
    With a content fault, the damaged image is staged with the metadata that says
    "staged", as if the upload's own check had a bug: the bootloader must refuse it."""

    via = "backdoor"

    def prepare(self, engine: Engine) -> None:
        super().prepare(engine)
        self.write_staged(engine)

    def steps(self) -> list[Step]:
        steps = [Step("power-on", lambda engine: engine.power_on(), link=0)]
        for k in range(1, len(self.links)):
            # The previous link to its end, then the next image staged by the bench (as
            # an upload would leave it) and the board reset: the bootloader takes it.
            steps += [Step(f"ready-{k}", partial(self._link_ready, k - 1), resumable=True),
                      Step(f"stage-{k + 1}", partial(self._stage_link, k)),
                      Step(f"reset-{k + 1}", _reset, link=k)]
        if self.extras.at_rest == "slot":
            # The update runs to its end; then, with the board off, a bit of the installed
            # image flips (a retention error) and the board is powered on again.
            steps += [Step("update", lambda engine: self.wait_ready(engine, "update"),
                           resumable=True),
                      Step("flip-slot", self._flip_slot),
                      Step("power-on-again", lambda engine: engine.power_on())]
        return steps

    def _link_ready(self, k: int, engine: Engine) -> None:
        self.wait_ready(engine, f"ready-{k + 1}")
        self.check_link(engine, k)

    def _stage_link(self, k: int, engine: Engine) -> None:
        # Let the ready line's end leave the UART first (see _flip_slot).
        engine.run(2_000_000)
        self.write_staged(engine, k)

    def _flip_slot(self, engine: Engine) -> None:
        # Let the ready line's end leave the UART first: a line cut short by the power-on
        # would be completed after the next wait had counted the lines.
        engine.run(2_000_000)
        slot = self.device.layout.app_slot.addr
        flipped = content.damaged(engine.read_flash(slot, len(self.new)), "flip-body",
                                  self.fault_seed)
        engine.write_flash(slot, flipped)


class NetworkScenario(Scenario):
    """Boot the old image, upload the new one over HTTP or TFTP, reboot (pybench.net).

    The bench's host rides on the engine (pybench.net.scenarios.bench); its state is
    saved and loaded with the scenario's. The upload is two steps: starting it (the host
    opens the transfer) and carrying it to its end, which is resumable: the transfer
    lives in the host's state, so a snapshot taken in its middle carries on from there.
    """

    def __init__(self, via: str, *args: Any) -> None:
        super().__init__(*args)
        staging = self.device.layout.staging
        if staging is not None and len(self.new) > staging.size:
            raise BenchError(f"{self.new_path}: {len(self.new)} bytes do not fit "
                             f"{staging.name}")
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

    def _start_upload(self, k: int, engine: Engine) -> None:
        self.net.start_upload(engine, self.links[k].image, via=self.via)

    def _upload(self, k: int, engine: Engine) -> None:
        result = self.net.finish_upload(engine)
        link = self.links[k]
        if link.expect == "old":
            if result.accepted:
                raise StepFailed(f"upload via {self.via}: the device staged an image it "
                                 f"must refuse ({link.fault or 'refused update'}: "
                                 f"{result})")
        elif not result.accepted:
            raise StepFailed(f"upload via {self.via}: the device did not stage the image "
                             f"({result})")

    def _link_ready(self, k: int, engine: Engine) -> None:
        self.wait_ready(engine, f"ready-{k + 1}")
        self.check_link(engine, k)

    def _reboot(self, engine: Engine) -> None:
        try:
            self.net.restart(engine, self.via)
        except BenchError as e:
            raise StepFailed(f"restart: {e}") from None

    def steps(self) -> list[Step]:
        steps = [Step("power-on", lambda engine: engine.power_on()),
                 Step("boot-old", self._boot)]
        for k in range(len(self.links)):
            n = "" if len(self.links) == 1 else f"-{k + 1}"
            if k:
                steps.append(Step(f"ready{n}", partial(self._link_ready, k - 1),
                                  resumable=True))
            steps += [Step(f"upload-start{n}", partial(self._start_upload, k), link=k),
                      Step(f"upload{n}", partial(self._upload, k), resumable=True),
                      Step(f"reboot{n}", self._reboot)]
        return steps

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


class NetworkedBackdoorScenario(NetworkScenario):
    """A backdoor update of a device that becomes ready only with the network (it takes
    its address by DHCP): the image is staged as BackdoorScenario does, and the bench's
    host rides on the wire to serve it during every recovery."""

    def __init__(self, *args: Any) -> None:
        super().__init__("backdoor", *args)

    def prepare(self, engine: Engine) -> None:
        super().prepare(engine)
        self.write_staged(engine)

    def steps(self) -> list[Step]:
        return [Step("power-on", lambda engine: engine.power_on())]


def make_scenario(via: str, device: Device, boot: Path | None = None, old: Path | None = None,
                  new: Path | None = None, platform: Path | None = None,
                  content_fault: str | None = None, expect: str | None = None,
                  seed: int = 0, extras: Extras | None = None) -> Scenario:
    if extras is not None and extras.at_rest == "slot" and via != "backdoor":
        raise BenchError("--at-rest slot: only with --via backdoor")
    if via == "backdoor":
        args = (device, boot, old, new, platform, content_fault, expect, seed, extras)
        if device.network.address is None:
            return NetworkedBackdoorScenario(*args)
        return BackdoorScenario(*args)
    if via in ("http", "tftp"):
        if via not in device.transports.names:
            raise BenchError(f"--via {via}: {device.name} offers no {via} upload "
                             f"({device.source})")
        return NetworkScenario(via, device, boot, old, new, platform, content_fault, expect,
                               seed, extras)
    raise BenchError(f"--via {via}: choose http, tftp or backdoor")
