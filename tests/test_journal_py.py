"""The bench's journal decoder: records, torn slots, the current state, where to append."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pybench import journal, layout
from pybench.journal import JournalRecord, State

LAY = layout.load()
DIGEST = bytes(range(32))


def rec(seq: int, state: State, copied: int = 0) -> JournalRecord:
    return JournalRecord(seq, state, copied, 4096, 2, DIGEST)


def test_record_layout() -> None:
    raw = rec(7, State.COPIED, 3).encode()
    assert len(raw) == LAY.JOURNAL_RECORD_SIZE
    assert raw[:4] == b"JRNL" and raw[4] == 7 and raw[8] == 2 and raw[12] == 3
    assert raw[0x18:0x38] == DIGEST and raw[0x38:0x3C] == b"\xff" * 4


@given(st.integers(1, 2**32 - 1), st.sampled_from(list(State)), st.integers(0, 2**32 - 1))
def test_round_trip(seq: int, state: State, copied: int) -> None:
    r = JournalRecord(seq, state, copied, 123, 9, DIGEST)
    assert journal.decode(r.encode()) == r


@given(st.binary(min_size=64, max_size=64))
def test_decode_random_bytes_never_raises(raw: bytes) -> None:
    journal.decode(raw)


@given(st.integers(0, 64 * 8 - 1))
def test_any_single_bit_flip_is_rejected(bit: int) -> None:
    raw = bytearray(rec(5, State.STAGED).encode())
    raw[bit // 8] ^= 1 << (bit % 8)
    assert journal.decode(bytes(raw)) is None


def test_current_state_is_the_highest_seq_across_sectors() -> None:
    a, _ = journal.build_sectors([rec(1, State.STAGED), rec(2, State.COPIED, 1)], sector=0)
    _, b = journal.build_sectors([rec(3, State.DONE)], sector=1)
    view = journal.scan(a, b)
    assert view.state is State.DONE and view.current == rec(3, State.DONE)
    assert (view.next_sector, view.next_slot) == (1, 1)


def test_torn_record_is_ignored_and_skipped_over() -> None:
    records = [rec(1, State.STAGED), rec(2, State.COPIED, 1)]
    a, b = journal.build_sectors(records)
    torn = bytearray(a)
    torn[64 + 60] &= 0x0F          # the CRC word of record 2 only partly programmed
    view = journal.scan(bytes(torn), b)
    assert view.state is State.STAGED and view.garbage == 1
    assert view.next_slot == 2     # never program over a slot with cleared bits


def test_full_sector_means_compaction_next() -> None:
    n = LAY.JOURNAL_SECTOR_SIZE // LAY.JOURNAL_RECORD_SIZE
    a, b = journal.build_sectors([rec(i + 1, State.DONE) for i in range(n)])
    view = journal.scan(a, b)
    assert view.next_slot is None and view.current is not None and view.current.seq == n


def test_empty_journal() -> None:
    blank = b"\xff" * LAY.JOURNAL_SECTOR_SIZE
    view = journal.scan(blank, blank)
    assert view.state is State.EMPTY and (view.next_sector, view.next_slot) == (0, 0)


def test_too_many_records_for_a_sector() -> None:
    n = LAY.JOURNAL_SECTOR_SIZE // LAY.JOURNAL_RECORD_SIZE + 1
    with pytest.raises(ValueError):
        journal.build_sectors([rec(i + 1, State.DONE) for i in range(n)])
