"""Hand-made flash traces for the pure modules' tests: an update as the bench sees it."""

from __future__ import annotations

from pybench import journal, layout
from pybench.engine.base import FlashOp, FlashOpKind


class TraceBuilder:
    def __init__(self) -> None:
        self.ops: list[FlashOp] = []

    def erase(self, sector: int) -> TraceBuilder:
        lay = layout.load()
        self.ops.append(FlashOp(len(self.ops), FlashOpKind.ERASE, lay.sector_addrs[sector],
                                lay.sector_sizes[sector], sector, None, len(self.ops), 0))
        return self

    def program(self, addr: int, data: bytes) -> TraceBuilder:
        lay = layout.load()
        for i in range(0, len(data), 4):
            value = int.from_bytes(data[i : i + 4], "little")
            self.ops.append(FlashOp(len(self.ops), FlashOpKind.PROGRAM, addr + i, 4,
                                    lay.sector_of(addr + i), value, len(self.ops), 0))
        return self

    def record(self, sector: int, slot: int, rec: journal.JournalRecord) -> TraceBuilder:
        lay = layout.load()
        base = (lay.JOURNAL_A_ADDR, lay.JOURNAL_B_ADDR)[sector]
        return self.program(base + slot * lay.JOURNAL_RECORD_SIZE, rec.encode())


def erased_flash() -> bytes:
    return b"\xff" * layout.load().FLASH_TOTAL_SIZE


def update_trace(data_words: int = 8, digest: bytes = b"\x11" * 32) -> list[FlashOp]:
    """Staging erase + program, STAGED record, slot erase + program, COPIED, DONE."""
    lay = layout.load()
    data = b"".join((0x12345600 + i).to_bytes(4, "little") for i in range(data_words))
    t = TraceBuilder()
    t.erase(lay.STAGING_FIRST_SECTOR).program(lay.STAGING_ADDR, data)
    t.record(0, 0, journal.JournalRecord(1, journal.State.STAGED, 0, len(data), 2, digest))
    t.erase(lay.APP_SLOT_FIRST_SECTOR).program(lay.APP_SLOT_ADDR, data)
    t.record(0, 1, journal.JournalRecord(2, journal.State.COPIED, 1, len(data), 2, digest))
    t.record(0, 2, journal.JournalRecord(3, journal.State.DONE, 0, len(data), 2, digest))
    return t.ops
