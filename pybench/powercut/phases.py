"""Which part of the update a flash operation belongs to, from its address alone."""

from __future__ import annotations

import enum

from pybench import layout
from pybench.engine.base import FlashOp


class Phase(str, enum.Enum):
    STAGING = "staging"      # the received image being written into sectors 8-11
    JOURNAL = "journal"      # an update journal record or a journal sector erase
    COPY_DOWN = "copy-down"  # the bootloader writing the application slot
    BOOT = "bootloader"      # sector 0: nobody should ever write here
    OTHER = "other"          # the spare sector or anything the layout does not name


def phase_of_addr(addr: int) -> Phase:
    lay = layout.load()
    if addr in lay.staging:
        return Phase.STAGING
    if any(addr in region for region in lay.journal):
        return Phase.JOURNAL
    if addr in lay.app_slot:
        return Phase.COPY_DOWN
    if addr in lay.boot:
        return Phase.BOOT
    return Phase.OTHER


def phase_of(op: FlashOp) -> Phase:
    return phase_of_addr(op.addr)


def parse_phases(text: str) -> frozenset[Phase]:
    """A comma-separated list of phase names (the --phase option)."""
    names = [p.strip() for p in text.split(",") if p.strip()]
    known = {p.value: p for p in Phase}
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise ValueError(
            f"unknown phase {', '.join(bad) or '(none)'}: choose from {', '.join(known)}"
        )
    return frozenset(known[n] for n in names)
