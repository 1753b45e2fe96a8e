from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from pc_traces import erased_flash, update_trace
from sample_device import SAMPLE

from pybench import journal
from pybench.engine.base import CpuState
from pybench.powercut.oracle import (
    Observation,
    UpdateFacts,
    Verdict,
    commit_point,
    holds_commit,
    judge,
)

HEADER = 0x200


def _image(tag: int) -> bytes:
    body = bytes([tag]) * 64
    return bytes([tag ^ 0x55]) * HEADER + body


OLD, NEW = _image(1), _image(2)
BOOT = b"\x42" * 64
FACTS = UpdateFacts(OLD, NEW, BOOT, SAMPLE)
APP_PC = SAMPLE.layout.app_slot.addr + HEADER + 0x40
BOOT_PC = SAMPLE.layout.boot.addr + 0x100
RUNNING = CpuState(APP_PC, 0x2001FF00, 0, False)


def obs(**kw: object) -> Observation:
    base = Observation(boot=BOOT, slot=NEW + b"\xff" * 16, cpu=RUNNING, ready=True,
                       elapsed_ns=2_000_000, bound_ns=30_000_000_000, committed=True)
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("kw, verdict", [
    ({}, Verdict.RECOVERED_NEW),
    ({"slot": OLD, "committed": False}, Verdict.RECOVERED_OLD),
    ({"slot": OLD}, Verdict.LOST_UPDATE),
    ({"committed": False}, Verdict.UNEXPECTED_NEW),
    ({"slot": NEW[:HEADER] + OLD[HEADER:]}, Verdict.MIXED_SLOT),
    ({"boot": b"\x42" * 63 + b"\x00"}, Verdict.BOOT_DAMAGED),
    ({"cpu": CpuState(APP_PC, 0, 3, True)}, Verdict.BRICKED),
    ({"cpu": CpuState(0xFFFFFFFE, 0, 3, False, lockup=True), "ready": False},
     Verdict.BRICKED),
    ({"cpu": CpuState(BOOT_PC, 0, 0, False), "ready": False}, Verdict.BRICKED),
    ({"ready": False, "slot": b"\xff" * len(NEW), "cpu": CpuState(0x20000100, 0, 0, False)},
     Verdict.BRICKED),
    ({"ready": False}, Verdict.TIMEOUT),
    ({"cpu": CpuState(0x20000100, 0, 0, False)}, Verdict.BRICKED),
])
def test_each_verdict(kw: dict[str, object], verdict: Verdict) -> None:
    j = judge(obs(**kw), FACTS)
    assert j.verdict is verdict, j.reason
    assert j.verdict.ok == (verdict in (Verdict.RECOVERED_NEW, Verdict.RECOVERED_OLD))


def test_reasons_locate_the_damage() -> None:
    j = judge(obs(boot=b"\x42" * 10 + b"\x00" * 54), FACTS)
    assert f"0x{SAMPLE.layout.boot.addr + 10:08x}" in j.reason


DIGEST = hashlib.sha256(b"new").digest()


def _facts(body: bytes) -> UpdateFacts:
    """Facts of an update to an image whose body is `body` (its digest names it)."""
    return UpdateFacts(OLD, bytes(HEADER) + body, BOOT, SAMPLE)


def _journal(*records: journal.JournalRecord) -> tuple[bytes, bytes]:
    return journal.build_sectors(list(records))


def test_holds_commit_wants_a_valid_record_for_the_new_digest() -> None:
    staged = journal.JournalRecord(1, journal.State.STAGED, 0, 100, 2, DIGEST)
    assert holds_commit(*_journal(staged), DIGEST)
    assert not holds_commit(*_journal(replace(staged, digest=b"\0" * 32)), DIGEST)
    assert not holds_commit(*_journal(replace(staged, state=journal.State.CANCELLED)), DIGEST)
    a, b = _journal(staged)
    torn = a[:60] + b"\0\0\0\0" + a[64:]          # CRC wrong: not a record
    assert not holds_commit(torn, b, DIGEST)


def test_commit_point_is_the_last_word_of_the_staged_record() -> None:
    trace = update_trace(data_words=8, digest=DIGEST)
    # staging erase 0, data 1..8, STAGED record 9..24 (its CRC word last)
    assert commit_point(trace, erased_flash(), _facts(b"new")) == 24
    assert commit_point(trace, erased_flash(), _facts(b"another")) is None


def test_commit_point_before_the_trace() -> None:
    lay = SAMPLE.layout
    flash = bytearray(erased_flash())
    rec = journal.JournalRecord(1, journal.State.STAGED, 0, 100, 2, DIGEST).encode()
    off = lay.region("journal-a").addr - lay.FLASH_BASE_ADDR
    flash[off : off + len(rec)] = rec
    assert commit_point(update_trace(), bytes(flash), _facts(b"new")) == -1
