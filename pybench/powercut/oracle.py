"""The verdict of one power cut, judged from the outside once the board had its chance
to recover. Pure: bytes, the CPU state and a few facts in; a Judgement out.

Recovered means all of:
- the bootloader sector is byte for byte what it was before the campaign;
- the CPU is not in a fault handler (HardFault, MemManage, BusFault, UsageFault) nor
  locked up;
- the application printed its ready line within the time bound, and the CPU runs inside
  the application slot;
- the application slot holds exactly one approved image (the old or the new one) byte
  for byte over that image's length;
- a committed update is never lost: committed means the device's metadata said so
  before power failed (pybench/device/metadata.py: for our journal a valid STAGED, COPIED
  or DONE record for the new image's digest; for a flag word, its value). commit_point()
  finds that moment along the golden trace; metadata.committed() looks at the flash when
  power failed, for torn and AFTER cuts at that very operation. Then the new image must
  run. An uncommitted update leaves the old one running.

Where things are (the bootloader, the slot the application runs from) comes from the
device description the facts carry.
- an update that must be refused (UpdateFacts.expect "old": a damaged image, say) leaves
  the old image running and the application slot never erased or programmed.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from pybench.device import metadata
from pybench.device.metadata import holds_commit
from pybench.device.model import Device
from pybench.engine.base import CpuState, FlashOp, FlashOpKind
from pybench.powercut import states

__all__ = ["Judgement", "Observation", "UpdateFacts", "Verdict", "commit_point",
           "holds_commit", "judge", "slot_holds"]


class Verdict(str, enum.Enum):
    RECOVERED_OLD = "recovered-old"
    RECOVERED_NEW = "recovered-new"
    BRICKED = "bricked"                    # no valid app, a fault, stuck in the bootloader
    LOST_UPDATE = "lost-update"            # committed, yet the old image runs
    UNEXPECTED_NEW = "unexpected-new"      # never committed, yet the new image runs
    MIXED_SLOT = "mixed-slot"              # the slot matches neither image
    BOOT_DAMAGED = "bootloader-damaged"    # sector 0 changed
    SLOT_ERASED = "slot-erased"            # slot erased or written for a refused update
    # The stricter rules (rules.py), each its own verdict.
    PROTECTED_WRITE = "protected-write"    # erase or program in a protected region
    OVERWRITE = "overwrite"                # program into a word not erased
    CHIP_REFUSED = "chip-refused"          # the flash interface refused an operation
    BAD_ACCESS = "bad-access"              # access to memory the chip lacks
    BOOT_LOOP = "boot-loop"                # resets again and again, never ready
    UNFINISHED = "unfinished"              # journal still STAGED/COPIED once judged
    WRITES_ON_BOOT = "writes-on-boot"      # flash written on a boot with nothing pending
    UNSTABLE = "unstable"                  # a later boot ran another image, or none
    APP_RESET = "app-reset"                # the application reset while soaking
    REPAIRED = "repaired"                  # recovered only through a repair path
                                           # (a failure with --repair-fails)
    REPORTED = "reported"                  # a bit stuck at 0 left nothing installable,
                                           # and the device said so (flash failures)
    TIMEOUT = "timeout"                    # still busy outside the bootloader at the bound
    CUT_MISSED = "cut-missed"              # the cut's operation never came (a bench error)
    ENGINE_ERROR = "engine-error"          # the emulator itself failed (a bench error)

    @property
    def ok(self) -> bool:
        return self in (Verdict.RECOVERED_OLD, Verdict.RECOVERED_NEW, Verdict.REPORTED)


@dataclass(frozen=True)
class UpdateFacts:
    """What is known of the update before any cut."""

    old_image: bytes     # the image in the application slot before the update
    new_image: bytes     # the image being installed
    boot: bytes          # the bootloader region as the factory programmed it
    device: Device       # where things are, and what the metadata means
    expect: str = "new"  # "new": the update installs; "old": it must be refused


@dataclass(frozen=True)
class Observation:
    """The board after the recovery run."""

    boot: bytes             # bootloader sector now
    slot: bytes             # application slot now (at least as long as either image)
    cpu: CpuState
    ready: bool             # the application's ready line was printed
    elapsed_ns: int         # virtual time from the last power-on to the end of the run
    bound_ns: int
    committed: bool         # see commit_point() and holds_commit()
    slot_written: bool = False  # the application slot was erased or programmed since
                                # the update began (judged when the update must be refused)


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str
    running: str | None = None   # "old", "new" or None


def expected(facts: UpdateFacts) -> Verdict:
    """The verdict the golden run must end with."""
    return Verdict.RECOVERED_OLD if facts.expect == "old" else Verdict.RECOVERED_NEW


def writes_slot(ops: Sequence[FlashOp], facts: UpdateFacts) -> bool:
    """Any erase or program in the application slot."""
    slot = facts.device.layout.app_slot
    return any(op.addr in slot for op in ops)


def commit_point(trace: Sequence[FlashOp], initial: bytes, facts: UpdateFacts) -> int | None:
    """When the update became committed along a trace: -1 when the flash already held
    the commit before the trace, the index of the operation that completed it, or None
    when it never was. A cut BEFORE an operation after that index is a cut of a
    committed update."""
    device = facts.device

    def held(flash: bytes | bytearray) -> bool:
        return metadata.committed(device, flash, facts.new_image)

    if held(initial):
        return -1
    for op, changed, flash in states.replay(trace, initial, device.layout):
        if changed and op.kind is FlashOpKind.PROGRAM and metadata.is_metadata(device, op.addr) \
                and held(flash):
            return op.index
    return None


def slot_holds(slot: bytes, facts: UpdateFacts) -> str | None:
    if slot[: len(facts.new_image)] == facts.new_image:
        return "new"
    if slot[: len(facts.old_image)] == facts.old_image:
        return "old"
    return None


def _first_difference(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)))


def judge(obs: Observation, facts: UpdateFacts) -> Judgement:
    lay = facts.device.layout
    boot, slot = lay.boot, facts.device.running_region
    if obs.boot != facts.boot:
        at = boot.addr + _first_difference(obs.boot, facts.boot)
        return Judgement(Verdict.BOOT_DAMAGED, f"bootloader sector changed (first at 0x{at:08x})")
    refused = facts.expect == "old"
    if refused and obs.slot_written:
        return Judgement(Verdict.SLOT_ERASED, "application slot erased or programmed for an "
                                              "update that must be refused")
    if obs.cpu.in_fault_handler or obs.cpu.lockup:
        what = "locked up" if obs.cpu.lockup else f"in fault handler (IPSR {obs.cpu.ipsr})"
        return Judgement(Verdict.BRICKED, f"CPU {what} at pc 0x{obs.cpu.pc:08x}")
    holds = slot_holds(obs.slot, facts)
    secs = obs.elapsed_ns / 1e9
    if not obs.ready:
        if obs.cpu.pc in boot or holds is None:
            where = "in the bootloader" if obs.cpu.pc in boot else f"at 0x{obs.cpu.pc:08x}"
            slot = "" if holds else ", application slot holds neither image"
            return Judgement(Verdict.BRICKED, f"no ready line after {secs:.3f} s, CPU {where}"
                                              f"{slot}")
        return Judgement(Verdict.TIMEOUT, f"no ready line within {obs.bound_ns / 1e9:g} s "
                                          f"(CPU at 0x{obs.cpu.pc:08x})", holds)
    if obs.cpu.pc not in slot:
        return Judgement(Verdict.BRICKED, f"ready line printed but CPU at 0x{obs.cpu.pc:08x}, "
                                          f"outside the {slot.name} region", holds)
    if holds is None:
        at = lay.app_slot.addr + _first_difference(obs.slot, facts.new_image)
        return Judgement(Verdict.MIXED_SLOT, "application slot matches neither image "
                                             f"(differs from the new one at 0x{at:08x})")
    if holds == "old" and obs.committed and not refused:
        return Judgement(Verdict.LOST_UPDATE, "update was committed but the old image runs",
                         holds)
    if holds == "new" and refused:
        return Judgement(Verdict.UNEXPECTED_NEW, "an update that must be refused was "
                                                 "installed", holds)
    if holds == "new" and not obs.committed:
        return Judgement(Verdict.UNEXPECTED_NEW, "update was never committed but the new "
                                                 "image runs", holds)
    verdict = Verdict.RECOVERED_NEW if holds == "new" else Verdict.RECOVERED_OLD
    return Judgement(verdict, f"{holds} image running after {secs:.3f} s", holds)
