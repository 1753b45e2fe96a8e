"""The update journal as the bench reads it (docs/journal.md): decode, encode, scan.

Pure: works on the bytes of the two journal sectors. The power-cut oracle uses it to
know whether an update had been committed when power failed; tests use encode() to
craft journals; `pybench` tools use scan() to show the state of a board.
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass, field

from pybench import layout

JOURNAL_MAGIC = 0x4C4E524A  # "JRNL"
_RECORD = struct.Struct("<IIIIII32sI")  # everything before the CRC
_CRC = struct.Struct("<I")
MASK32 = 0xFFFFFFFF   # the floor is stored inverted: an older record's 0xFFFFFFFF reads 0
# One record per 64-byte slot: the fields, the CRC and padding (firmware/common/journal.h;
# tests/test_layout.py checks flash_layout.h's JOURNAL_RECORD_SIZE agrees).
RECORD_SIZE = 64


class State(enum.IntEnum):
    EMPTY = 0
    STAGED = 1
    COPIED = 2
    DONE = 3
    CANCELLED = 4
    REJECTED = 5


@dataclass(frozen=True)
class JournalRecord:
    seq: int
    state: State
    copied: int = 0
    image_size: int = 0
    image_version: int = 0
    digest: bytes = bytes(32)
    floor: int = 0        # anti-rollback: the lowest image version the device accepts

    def encode(self) -> bytes:
        body = _RECORD.pack(JOURNAL_MAGIC, self.seq, int(self.state), self.copied,
                            self.image_size, self.image_version, self.digest,
                            ~self.floor & MASK32)
        return body + _CRC.pack(zlib.crc32(body))


def record_size() -> int:
    return RECORD_SIZE


def decode(raw: bytes) -> JournalRecord | None:
    """The record in a 64-byte slot, or None when magic, CRC or state is not right."""
    if len(raw) != _RECORD.size + _CRC.size:
        return None
    magic, seq, state, copied, size, version, digest, floor_inv = _RECORD.unpack_from(raw)
    (crc,) = _CRC.unpack_from(raw, _RECORD.size)
    if magic != JOURNAL_MAGIC or crc != zlib.crc32(raw[: _RECORD.size]):
        return None
    try:
        st = State(state)
    except ValueError:
        return None
    return JournalRecord(seq, st, copied, size, version, digest, ~floor_inv & MASK32)


@dataclass
class JournalView:
    """What the two sectors say: every valid record, the current state, where to append."""

    records: list[tuple[int, int, JournalRecord]] = field(default_factory=list)  # (sector, slot, r)
    garbage: int = 0           # non-empty slots that are not valid records (torn, corrupt)
    next_sector: int = 0       # 0 = journal A, 1 = journal B: where the next record goes
    next_slot: int | None = 0  # None: that sector is full (the next append compacts)

    @property
    def current(self) -> JournalRecord | None:
        if not self.records:
            return None
        return max((r for _, _, r in self.records), key=lambda r: r.seq)

    @property
    def state(self) -> State:
        cur = self.current
        return cur.state if cur else State.EMPTY


def scan(sector_a: bytes, sector_b: bytes) -> JournalView:
    """Decode both journal sectors as the bootloader does."""
    size = record_size()
    view = JournalView()
    last_used: list[int] = [-1, -1]
    slots_per_sector = len(sector_a) // size
    for index, sector in enumerate((sector_a, sector_b)):
        for slot in range(len(sector) // size):
            raw = sector[slot * size : (slot + 1) * size]
            if raw == b"\xff" * size:
                continue
            last_used[index] = slot
            rec = decode(raw)
            if rec is None:
                view.garbage += 1
            else:
                view.records.append((index, slot, rec))
    cur = view.current
    if cur is not None:
        active = next(s for s, _, r in view.records if r is cur)
        view.next_sector = active
        nxt = last_used[active] + 1
        view.next_slot = nxt if nxt < slots_per_sector else None
    else:
        view.next_sector, view.next_slot = 0, last_used[0] + 1
        if view.next_slot >= slots_per_sector:
            view.next_slot = None
    return view


def read_view(read_flash, regions=None) -> JournalView:  # type: ignore[no-untyped-def]
    """scan() over a board: read_flash(addr, size) -> bytes (e.g. Engine.read_flash), the
    two journal regions (default: our firmware's, from flash_layout.h)."""
    a, b = regions or layout.load().journal
    return scan(read_flash(a.addr, a.size), read_flash(b.addr, b.size))


def build_sectors(records: list[JournalRecord], sector: int = 0) -> tuple[bytes, bytes]:
    """Two sector images holding `records` appended in order into `sector` (for tests)."""
    lay = layout.load()
    size, sector_size = lay.JOURNAL_RECORD_SIZE, lay.JOURNAL_SECTOR_SIZE
    data = b"".join(r.encode() for r in records)
    if len(data) > sector_size:
        raise ValueError(f"{len(records)} records do not fit one journal sector")
    full = data + b"\xff" * (sector_size - len(data))
    empty = b"\xff" * sector_size
    assert len(full) % size == 0
    return (full, empty) if sector == 0 else (empty, full)
