"""The bootloader's update logic built for the host (firmware/host) and checked from Python.

The C programs are built with the host cc into a temporary directory. `unit` answers
questions the Python side checks independently (hashlib, zlib, pybench.journal,
pybench.image); `campaign` cuts power before every flash operation of an update and
judges each recovery; the campaign-bug-* builds of known-bad bootloaders must fail.
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from pybench import journal, layout
from pybench.image import signing
from pybench.image.cli import corrupt
from pybench.image.format import ImageError, build_image, check_image, parse_image
from pybench.paths import repo_root

SEED = 20240607
SUMMARY = re.compile(
    r"campaign: (?P<variant>\S+) journal-fill (?P<fill>\d+) shard \S+: (?P<ops>\d+) operations "
    r"\(STAGED committed at (?P<committed>\d+)\), (?P<runs>\d+) recoveries, (?P<second>\d+) "
    r"after a second cut, (?P<failures>\d+) failures"
)


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def summary(self) -> dict[str, str]:
        m = SUMMARY.search(self.stdout)
        assert m, f"no summary line from {' '.join(self.args)}:\n{self.stdout}\n{self.stderr}"
        return m.groupdict()

    def explain(self) -> str:
        return (f"{' '.join(self.args)} exited {self.returncode}:\n"
                f"{self.stdout[-4000:]}\n{self.stderr}")


@pytest.fixture(scope="module")
def host_bin(tmp_path_factory: pytest.TempPathFactory, built: Path) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no host C compiler (cc) on PATH")
    build = tmp_path_factory.mktemp("firmware-host")
    # mbedTLS and the test key pair come from `make firmware`'s build folder.
    cmd = ["make", "-s", "-j4", "-C", str(repo_root() / "firmware"), "host-tests",
           f"BUILD={build}", f"HOSTCC={cc}", f"MBEDTLS_ROOT={built / 'mbedtls'}",
           f"KEY_DIR={built / 'keys'}", f"PYTHON={sys.executable}"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
    return build / "host"


def unit(host_bin: Path, *args: str | Path) -> str:
    cmd = [str(host_bin / "unit"), *map(str, args)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(cmd)}: {result.stderr}"
    return result.stdout.strip()


# --- SHA-256 and CRC-32 against Python's -------------------------------------------------

SIZES = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 4096, 100_003]


@pytest.mark.parametrize("size", SIZES)
def test_sha256_matches_hashlib(host_bin: Path, tmp_path: Path, size: int) -> None:
    data = random.Random(SEED + size).randbytes(size)
    path = tmp_path / "data"
    path.write_bytes(data)
    assert unit(host_bin, "sha256", path) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", SIZES)
def test_crc32_matches_zlib(host_bin: Path, tmp_path: Path, size: int) -> None:
    data = random.Random(SEED - size).randbytes(size)
    path = tmp_path / "data"
    path.write_bytes(data)
    assert int(unit(host_bin, "crc32", path), 16) == zlib.crc32(data)


# --- image verification: the C code and the Python tool agree ------------------------------

def _body(size: int = 4096) -> bytes:
    lay = layout.load()
    vectors = struct.pack("<II", lay.SRAM_BASE_ADDR + lay.SRAM_TOTAL_SIZE,
                          (lay.APP_LOAD_ADDR + 0x101) | 1)
    return vectors + random.Random(SEED).randbytes(size - len(vectors))


def _python_word(data: bytes) -> str:
    try:
        check_image(parse_image(data, check=False), signing.test_key().public_key())
    except ImageError as e:
        return e.code
    return "ok"


def _with_header(data: bytes, **fields: int) -> bytes:
    image = parse_image(data, check=False)
    header = replace(image.header, raw_fields=None, header_crc=None, **fields)
    return header.pack() + image.body


def _cases() -> dict[str, bytes]:
    good = build_image(_body(), version=2, key=signing.test_key()).to_bytes()
    hsize = layout.load().IMAGE_HEADER_SIZE
    flip_body = bytearray(good)
    flip_body[hsize + 100] ^= 0x01
    flip_crc = bytearray(good)
    flip_crc[0x58] ^= 0x01
    bad_sp = bytearray(good)
    bad_sp[hsize : hsize + 4] = b"\0\0\0\0"
    return {
        "ok": good,
        "magic": _with_header(good, magic=0xDEADBEEF),
        "header-version": _with_header(good, header_version=2),
        "header-crc": bytes(flip_crc),
        "target": _with_header(good, target_id=0x419),
        "load-addr": _with_header(good, load_addr=layout.load().APP_SLOT_ADDR),
        "size": _with_header(good, body_size=4094),
        "digest": bytes(flip_body),
        "vectors": _with_header(bytes(bad_sp), body_sha256=hashlib.sha256(
            bytes(bad_sp[hsize:])).digest()),
        "unsigned": corrupt(good, "unsigned"),
        "key": corrupt(good, "key"),
        "signature": corrupt(good, "signature"),
    }


CASES = ("ok", "magic", "header-version", "header-crc", "target", "load-addr", "size", "digest",
         "vectors", "unsigned", "key", "signature")


@pytest.mark.parametrize("expected", CASES)
def test_image_verify_agrees_with_python(host_bin: Path, tmp_path: Path, expected: str) -> None:
    data = _cases()[expected]
    path = tmp_path / "image.img"
    path.write_bytes(data)
    assert _python_word(data) == expected  # the case is what it claims to be
    assert unit(host_bin, "verify", path) == expected


# --- journal: records the C code writes, Python reads, and back ---------------------------

@pytest.mark.parametrize("count", [1, 2, 255, 256, 257, 511, 512, 513, 700])
def test_journal_append_readable_by_python(host_bin: Path, tmp_path: Path, count: int) -> None:
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    unit(host_bin, "journal-append", count, a, b)
    view = journal.scan(a.read_bytes(), b.read_bytes())
    cur = view.current
    assert cur is not None and view.garbage == 0
    i = count - 1
    floor = max(j * 7 % 5 for j in range(count))     # what unit asked for, never lowered
    assert (cur.seq, int(cur.state), cur.copied, cur.floor) == (count, 1 + i % 3, i % 3, floor)
    assert (cur.image_size, cur.image_version, cur.digest) == (1000 + i, i, bytes([i & 0xFF]) * 32)
    slots = layout.load().JOURNAL_SECTOR_SIZE // layout.load().JOURNAL_RECORD_SIZE
    # Compaction leaves exactly one sector in use past the first fill.
    in_use = {s for s, _, _ in view.records}
    assert len(in_use) == (1 if count <= slots else 2)


def _record(seq: int, state: journal.State, version: int = 1) -> journal.JournalRecord:
    return journal.JournalRecord(seq, state, copied=seq % 3, image_size=512 + 4 * seq,
                                 image_version=version, digest=bytes([seq & 0xFF]) * 32)


def _c_read(host_bin: Path, tmp_path: Path, a: bytes, b: bytes) -> str:
    pa, pb = tmp_path / "a.bin", tmp_path / "b.bin"
    pa.write_bytes(a)
    pb.write_bytes(b)
    return unit(host_bin, "journal-read", pa, pb)


@pytest.mark.parametrize("sector", [0, 1])
def test_journal_read_of_python_records(host_bin: Path, tmp_path: Path, sector: int) -> None:
    records = [_record(s, journal.State.COPIED, version=7) for s in range(1, 40)]
    a, b = journal.build_sectors(records, sector)
    last = records[-1]
    assert _c_read(host_bin, tmp_path, a, b) == (
        f"COPIED seq {last.seq} copied {last.copied} size {last.image_size} version 7 floor 0")


def test_journal_floor_never_goes_down(host_bin: Path, tmp_path: Path) -> None:
    """C reads Python's floor; a record of before the floor (0xFFFFFFFF) reads 0."""
    rec = journal.JournalRecord(5, journal.State.DONE, image_version=3, floor=3)
    a, b = journal.build_sectors([rec])
    assert _c_read(host_bin, tmp_path, a, b).endswith(" floor 3")
    old = bytearray(rec.encode())
    old[0x38:0x3C] = b"\xff\xff\xff\xff"
    assert journal.decode(bytes(old)) is None      # the CRC covers the floor
    unit_a, unit_b = tmp_path / "ua", tmp_path / "ub"
    unit(host_bin, "journal-append", 4, unit_a, unit_b)   # asks for floors 0, 2, 4, 1
    current = journal.scan(unit_a.read_bytes(), unit_b.read_bytes()).current
    assert current is not None and current.floor == 4


def test_journal_torn_record_is_ignored(host_bin: Path, tmp_path: Path) -> None:
    size = layout.load().JOURNAL_RECORD_SIZE
    records = [_record(1, journal.State.STAGED), _record(2, journal.State.COPIED)]
    a, b = journal.build_sectors([*records, _record(3, journal.State.DONE)])
    torn = bytearray(a)
    torn[2 * size + 0x0C : 2 * size + 0x10] = b"\xff\xff\xff\xff"  # `copied` never written
    assert journal.scan(bytes(torn), b).current == records[1]
    assert _c_read(host_bin, tmp_path, bytes(torn), b).startswith("COPIED seq 2 ")


def test_journal_empty(host_bin: Path, tmp_path: Path) -> None:
    erased = b"\xff" * layout.load().JOURNAL_SECTOR_SIZE
    assert _c_read(host_bin, tmp_path, erased, erased).startswith("EMPTY seq 0 ")


# --- boot decisions and their console lines (docs/bootloader.md) -------------------------

def _image(version: int, body_size: int, key: signing.PrivateKey | None = None) -> bytes:
    return build_image(_body(body_size), version=version,
                       key=key or signing.test_key()).to_bytes()


def _staged(image: bytes, state: journal.State = journal.State.STAGED, copied: int = 0,
            seq: int = 1, digest: bytes | None = None, floor: int = 0) -> journal.JournalRecord:
    header = parse_image(image, check=False).header
    return journal.JournalRecord(seq, state, copied, len(image), header.image_version,
                                 digest if digest is not None else header.body_sha256, floor)


def _boot(host_bin: Path, tmp_path: Path, slot: bytes | None, staging: bytes | None,
          records: list[journal.JournalRecord]) -> tuple[list[str], str]:
    files = []
    for name, data in (("slot", slot), ("staging", staging)):
        if data is None:
            files.append("-")
        else:
            (tmp_path / name).write_bytes(data)
            files.append(str(tmp_path / name))
    a, b = journal.build_sectors(records)
    (tmp_path / "a").write_bytes(a)
    (tmp_path / "b").write_bytes(b)
    lines = unit(host_bin, "boot", *files, tmp_path / "a", tmp_path / "b").splitlines()
    return lines[:-1], lines[-1]


V1 = 8 * 1024
V2 = 80 * 1024  # spans slot sectors 4 and 5


def test_boot_jumps_to_valid_application(host_bin: Path, tmp_path: Path) -> None:
    # No record vouches for the slot: its signature is checked, and it is recorded.
    lines, result = _boot(host_bin, tmp_path, _image(1, V1), None, [])
    assert lines == ["boot: journal EMPTY", "boot: application v1 signed, recorded as installed",
                     "boot: jump to v1 at 0x08010200"]
    assert result == "outcome 0 version 1 journal DONE seq 1"


def test_boot_of_a_recorded_application_writes_nothing(host_bin: Path, tmp_path: Path) -> None:
    v1 = _image(1, V1)
    lines, result = _boot(host_bin, tmp_path, v1, None,
                          [_staged(v1, journal.State.DONE, floor=1)])
    assert lines == [f"boot: journal DONE v1 size {len(v1)}", "boot: jump to v1 at 0x08010200"]
    assert result == "outcome 0 version 1 journal DONE seq 1"


@pytest.mark.parametrize("fault", ["unsigned", "key", "signature"])
def test_boot_refuses_an_application_it_cannot_trust(host_bin: Path, tmp_path: Path,
                                                     fault: str) -> None:
    lines, result = _boot(host_bin, tmp_path, corrupt(_image(1, V1), fault), None, [])
    assert lines == ["boot: journal EMPTY", f"boot: application slot invalid: {fault}",
                     "boot: no valid application"]
    assert result.startswith("outcome 1 ")


@pytest.mark.parametrize("fault", ["unsigned", "key", "signature", "rollback"])
def test_boot_refuses_to_install_an_untrusted_or_older_image(host_bin: Path, tmp_path: Path,
                                                              fault: str) -> None:
    v2 = _image(2, V1)
    installed = _staged(v2, journal.State.DONE, floor=2)
    new = _image(1, V2) if fault == "rollback" else corrupt(_image(3, V2), fault)
    staged = _staged(new, seq=2, floor=2)
    lines, result = _boot(host_bin, tmp_path, v2, new, [installed, staged])
    assert lines[1] == f"boot: staged image rejected: {fault}"
    assert lines[-1] == "boot: jump to v2 at 0x08010200"
    assert "copied" not in " ".join(lines)
    assert result.startswith("outcome 0 version 2 journal ")


def test_boot_refuses_an_application_older_than_the_floor(host_bin: Path, tmp_path: Path) -> None:
    v1, v2 = _image(1, V1), _image(2, V2)
    # v2 was installed (floor 2); the slot now holds v1 and staging v2: v2 comes back.
    lines, result = _boot(host_bin, tmp_path, v1, v2, [_staged(v2, journal.State.DONE, floor=2)])
    assert lines[1:3] == ["boot: application slot invalid: rollback",
                          "boot: recovering v2 from staging"]
    assert result == "outcome 0 version 2 journal DONE seq 6"   # STAGED, COPIED 0-2, DONE


def test_boot_copies_staged_update(host_bin: Path, tmp_path: Path) -> None:
    v2 = _image(2, V2)
    lines, result = _boot(host_bin, tmp_path, _image(1, V1), v2, [_staged(v2)])
    assert lines == [f"boot: journal STAGED v2 size {len(v2)}", "boot: copied sector 4",
                     "boot: copied sector 5", "boot: update to v2 done",
                     "boot: jump to v2 at 0x08010200"]
    assert result == "outcome 0 version 2 journal DONE seq 5"   # COPIED 0, 1, 2, DONE


def test_boot_resumes_after_recorded_sector(host_bin: Path, tmp_path: Path) -> None:
    v2 = _image(2, V2)
    records = [_staged(v2), _staged(v2, journal.State.COPIED, copied=1, seq=2)]
    # Sector 4 was copied before the cut: the slot starts with v2, sector 5 holds nothing.
    lines, result = _boot(host_bin, tmp_path, v2[: 64 * 1024], v2, records)
    assert lines[:3] == [f"boot: journal COPIED 1 v2 size {len(v2)}",
                         "boot: resuming copy at sector 5", "boot: copied sector 5"]
    assert lines[-1] == "boot: jump to v2 at 0x08010200"
    assert result == "outcome 0 version 2 journal DONE seq 4"


@pytest.mark.parametrize(("fault", "reason"), [
    ("digest", "digest"),
    ("journal", "not the image the journal recorded"),
])
def test_boot_rejects_bad_staged_image(host_bin: Path, tmp_path: Path, fault: str,
                                       reason: str) -> None:
    v2 = bytearray(_image(2, V2))
    record = _staged(bytes(v2))
    if fault == "digest":
        v2[-8] ^= 0x40
    else:
        record = _staged(bytes(v2), digest=bytes(32))
    lines, result = _boot(host_bin, tmp_path, _image(1, V1), bytes(v2), [record])
    assert lines[1:] == [f"boot: staged image rejected: {reason}",
                         "boot: application v1 signed, recorded as installed",
                         "boot: jump to v1 at 0x08010200"]
    assert result == "outcome 0 version 1 journal DONE seq 3"


def test_boot_recovers_damaged_slot_from_staging(host_bin: Path, tmp_path: Path) -> None:
    v1, v2 = bytearray(_image(1, V1)), _image(2, V2)
    v1[600] ^= 0xFF
    lines, result = _boot(host_bin, tmp_path, bytes(v1), v2, [])
    assert lines[:3] == ["boot: journal EMPTY", "boot: application slot invalid: digest",
                         "boot: recovering v2 from staging"]
    assert lines[-2:] == ["boot: update to v2 done", "boot: jump to v2 at 0x08010200"]
    assert result == "outcome 0 version 2 journal DONE seq 5"


def test_boot_without_any_valid_image_waits(host_bin: Path, tmp_path: Path) -> None:
    lines, result = _boot(host_bin, tmp_path, None, None, [])
    assert lines == ["boot: journal EMPTY", "boot: application slot invalid: magic",
                     "boot: no valid application"]
    assert result.startswith("outcome 1 ")


# --- power-cut campaigns -----------------------------------------------------------------

# name: (program, arguments). All run at once: together they take most of this file's time.
CAMPAIGNS: dict[str, tuple[str, tuple[str, ...]]] = {
    # Every operation, the journal nearly full so that the update compacts it.
    "every-op-0": ("campaign", ("--journal-fill", "254", "--shard", "0/2")),
    "every-op-1": ("campaign", ("--journal-fill", "254", "--shard", "1/2")),
    # Every erase and journal write, every 32nd word: a fresh journal, and compaction B -> A.
    "fresh-journal": ("campaign", ("--journal-fill", "0", "--stride", "32")),
    "journal-b-full": ("campaign", ("--journal-fill", "510", "--stride", "32")),
    # Known-bad bootloaders: stop at the first failure.
    "bug-done-early": ("campaign-bug-done-early",
                       ("--stride", "16", "--depth2", "0", "--max-failures", "1")),
    "bug-progress-early": ("campaign-bug-progress-early",
                           ("--stride", "16", "--depth2", "0", "--max-failures", "1")),
    # Its failures are torn journal records: every journal write is cut whatever the stride.
    "bug-no-crc": ("campaign-bug-no-crc",
                   ("--stride", "64", "--depth2", "0", "--max-failures", "1")),
}


@pytest.fixture(scope="module")
def campaigns(host_bin: Path) -> dict[str, Run]:
    procs = {}
    for name, (prog, args) in CAMPAIGNS.items():
        cmd = (str(host_bin / prog), "--seed", str(SEED), *args)
        procs[name] = (cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True))
    runs = {}
    for name, (cmd, proc) in procs.items():
        out, err = proc.communicate()
        runs[name] = Run(cmd, proc.returncode, out, err)
    return runs


@pytest.mark.parametrize("name", ["every-op-0", "every-op-1", "fresh-journal", "journal-b-full"])
def test_update_survives_every_cut(campaigns: dict[str, Run], name: str) -> None:
    run = campaigns[name]
    assert run.returncode == 0 and "FAIL" not in run.stdout, run.explain()
    s = run.summary()
    assert s["variant"] == "boot" and s["failures"] == "0"
    ops, committed, runs = int(s["ops"]), int(s["committed"]), int(s["runs"])
    # The campaign did cut the update, on both sides of the commit, and cut recoveries too.
    assert 0 < committed < ops
    assert int(s["second"]) > 0
    if name.startswith("every-op"):
        assert runs >= ops // 2  # each shard boots from at least its half of the cuts
    else:
        assert runs >= ops // 32


def test_every_op_shards_cover_all_cuts(campaigns: dict[str, Run]) -> None:
    halves = [campaigns[f"every-op-{i}"].summary() for i in (0, 1)]
    assert halves[0]["ops"] == halves[1]["ops"]
    atomic_cuts = int(halves[0]["ops"])
    # Each cut boots once atomic (plus torn variants): together at least every operation.
    assert sum(int(h["runs"]) for h in halves) >= atomic_cuts


@pytest.mark.parametrize("name", ["bug-done-early", "bug-progress-early", "bug-no-crc"])
def test_known_bad_bootloader_is_caught(campaigns: dict[str, Run], name: str) -> None:
    run = campaigns[name]
    assert run.returncode == 1, run.explain()
    assert run.summary()["variant"] == name
    assert int(run.summary()["failures"]) >= 1
    first = next(line for line in run.stdout.splitlines() if line.startswith("FAIL cut "))
    assert "committed update" in first, first


def test_failure_reproduces_alone(host_bin: Path, campaigns: dict[str, Run]) -> None:
    """The printed command reproduces the failure on its own, with the boot log."""
    run = campaigns["bug-done-early"]
    line = next(x for x in run.stdout.splitlines() if "reproduce:" in x)
    prog, *args = line.split("reproduce:", 1)[1].split()
    result = subprocess.run([str(host_bin / prog), *args], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "boot: journal DONE v2" in result.stdout
    assert "FAIL:" in result.stdout


def test_campaign_rejects_bad_arguments(host_bin: Path) -> None:
    result = subprocess.run([str(host_bin / "campaign"), "--shard", "3/2"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "usage" in result.stderr
