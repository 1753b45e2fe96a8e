"""Which part of the update a flash operation belongs to, from its address alone: the
role of the device's region it falls in (a device description's layout)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator

from pybench.device.model import Layout, Region, Role
from pybench.engine.base import FlashOp


class Phase(str, enum.Enum):
    STAGING = "staging"      # the received image being written into the staging region
    METADATA = "metadata"    # a journal record, a flag word, their sectors' erases
    COPY_DOWN = "copy-down"  # the bootloader writing an application slot
    BOOT = "bootloader"      # the bootloader's region: nobody should ever write here
    OTHER = "other"          # any other region, or flash the layout does not name
    JOURNAL = "metadata"     # the name of METADATA for a journal (an alias)


_BY_ROLE = {Role.STAGING: Phase.STAGING, Role.METADATA: Phase.METADATA,
            Role.APPLICATION: Phase.COPY_DOWN, Role.BOOTLOADER: Phase.BOOT}


def _phase_of_region(region: Region | None) -> Phase:
    return _BY_ROLE.get(region.role, Phase.OTHER) if region is not None else Phase.OTHER


def phase_of_addr(addr: int, lay: Layout) -> Phase:
    return _phase_of_region(lay.region_of(addr))


def phase_of(op: FlashOp, lay: Layout) -> Phase:
    return phase_of_addr(op.addr, lay)


def phases_of(trace: Iterable[FlashOp], lay: Layout) -> Iterator[Phase]:
    """phase_of each operation of a trace, the layout asked only when an operation leaves
    the region of the one before (a 256 KiB update over HTTP has 131,000 operations)."""
    lo = hi = 0
    phase = Phase.OTHER
    for op in trace:
        addr = op.addr
        if not lo <= addr < hi:
            region = lay.region_of(addr)
            lo, hi = (region.addr, region.end) if region is not None else (addr, addr + 1)
            phase = _phase_of_region(region)
        yield phase


def parse_phases(text: str) -> frozenset[Phase]:
    """A comma-separated list of phase names (the --phase option)."""
    names = [p.strip() for p in text.split(",") if p.strip()]
    known = {p.value: p for p in Phase}
    known["journal"] = Phase.METADATA
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise ValueError(
            f"unknown phase {', '.join(bad) or '(none)'}: choose from {', '.join(known)}"
        )
    return frozenset(known[n] for n in names)
