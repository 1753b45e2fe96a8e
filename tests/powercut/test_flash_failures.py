"""Flash failures besides the power cut (docs/powercut.md, "Flash failures"): what each
does to flash in the shared rules, how a campaign plans and names them, and the verdict
after a bit stuck at 0. The campaigns over the real bootloader and the known-bad
no-read-back variant are in test_powercut_variants.py ("flash-faults")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sample_device import SAMPLE

from pybench.engine.base import CutMode, FlashOp, FlashOpKind, PowerCut
from pybench.engine.builtin.peripherals.flash import rules_module
from pybench.errors import BenchError
from pybench.powercut.cli import parse_faults
from pybench.powercut.cutspec import format_path, parse_path
from pybench.powercut.oracle import Judgement, UpdateFacts, Verdict
from pybench.powercut.plan import fault_cuts
from pybench.powercut.runner import fault_verdict

R: Any = rules_module()


def zeros(word: int) -> int:
    return bin(~word & 0xFFFFFFFF).count("1")
BASE = 0x08000000
SIZES = [16 * 1024, 16 * 1024]


class Mem:
    def __init__(self) -> None:
        self.buf = bytearray(b"\xff") * sum(SIZES)

    def read(self, addr: int, n: int) -> bytes:
        return bytes(self.buf[addr - BASE : addr - BASE + n])

    def write(self, addr: int, data: bytes) -> None:
        self.buf[addr - BASE : addr - BASE + len(data)] = data


class Board:
    def __init__(self) -> None:
        self.mem = Mem()
        self.rules = R.FlashRules(BASE, SIZES, self.mem)
        self.events: list[str] = []
        self.rules.on_event = lambda kind, detail: self.events.append(detail)
        self.rules.write_reg(R.KEYR, R.KEY1, 0, 0)
        self.rules.write_reg(R.KEYR, R.KEY2, 0, 0)
        self.now = 0

    def word(self, addr: int) -> int:
        return int.from_bytes(self.mem.read(addr, 4), "little")

    def program(self, addr: int, value: int) -> int:
        self.rules.write_reg(R.CR, R.CR_PG | (2 << R.CR_PSIZE_SHIFT), self.now, 0)
        old = self.word(addr)
        new = int(self.rules.program(addr, 4, value, old, self.now, 0))
        self.mem.write(addr, new.to_bytes(4, "little"))
        self.settle()
        return new

    def erase(self, sector: int) -> None:
        self.rules.write_reg(R.CR, R.CR_SER | (sector << R.CR_SNB_SHIFT)
                             | (2 << R.CR_PSIZE_SHIFT), self.now, 0)
        self.rules.write_reg(R.CR, self.rules.cr | R.CR_STRT, self.now, 0)
        self.settle()

    def settle(self) -> None:
        if self.rules.busy:
            self.now = self.rules.busy_until
            self.rules.finish(self.now)

    def arm(self, mode: str, seed: int = 1) -> None:
        self.rules.arm(len(self.rules.trace), mode, 0.5, seed)


@pytest.mark.parametrize("seed", range(8))
def test_a_silent_program_leaves_some_bits_at_one_and_says_nothing(seed: int) -> None:
    b = Board()
    b.arm("silent", seed)
    got = b.program(BASE + 0x4000, 0x12345678)
    assert got != 0x12345678 and got & 0x12345678 == 0x12345678   # only 1s left over
    assert not b.rules.cut and b.rules.sr & R.SR_W1C & ~R.SR_EOP == 0
    assert any("flash failure silent" in e for e in b.events)


def test_a_dropped_program_and_a_dropped_erase_change_nothing() -> None:
    b = Board()
    b.program(BASE + 0x4000, 0)
    b.arm("dropped")
    assert b.program(BASE + 0x4004, 0) == 0xFFFFFFFF
    b.arm("dropped")
    b.erase(1)
    assert b.word(BASE + 0x4000) == 0 and not b.rules.cut


@pytest.mark.parametrize("seed", range(4))
def test_a_disturbing_program_clears_one_bit_of_the_next_word(seed: int) -> None:
    b = Board()
    b.arm("disturb", seed)
    assert b.program(BASE + 0x4000, 0x0) == 0
    assert zeros(b.word(BASE + 0x4004)) == 1                           # one bit cleared
    assert b.word(BASE + 0x3FFC) == 0xFFFFFFFF                          # the other side kept


def test_a_weak_erase_leaves_zero_bits_only_where_data_was() -> None:
    b = Board()
    for i in range(8):
        b.program(BASE + 0x4000 + 4 * i, 0x00FF00FF)
    b.arm("weak-erase", 3)
    b.erase(1)
    dirty = [i for i in range(SIZES[1] // 4) if b.word(BASE + 0x4000 + 4 * i) != 0xFFFFFFFF]
    assert 1 <= len(dirty) <= 4 and all(i < 8 for i in dirty)
    for i in dirty:   # only bits that were 0 before may still be 0
        assert b.word(BASE + 0x4000 + 4 * i) & 0x00FF00FF == 0x00FF00FF
    b.erase(1)        # the failure was transient: a second erase erases
    assert b.mem.buf[0x4000:] == b"\xff" * SIZES[1]


def test_a_stuck_bit_stays_zero_through_erases_resets_and_snapshots() -> None:
    b = Board()
    b.arm("stuck", 5)
    got = b.program(BASE + 0x4010, 0xFFFFFFFE)
    assert got & 0xFFFFFFFE == got and zeros(got) == 2
    (addr, mask), = b.rules.stuck
    saved = b.rules.save()
    b.rules.reset()
    b.rules.write_reg(R.KEYR, R.KEY1, 0, 0)
    b.rules.write_reg(R.KEYR, R.KEY2, 0, 0)
    b.erase(1)
    assert b.mem.buf[addr - BASE] & mask == 0
    assert sum(1 for x in b.mem.buf[0x4000:] if x != 0xFF) == 1
    fresh = Board()
    fresh.rules.load(saved)
    assert fresh.rules.stuck == [(addr, mask)]


def test_a_failure_that_does_not_fit_the_operation_does_nothing() -> None:
    b = Board()
    b.arm("weak-erase")
    assert b.program(BASE + 0x4000, 0x1234) == 0x1234
    assert any("does not apply to an program" in e or "does not apply" in e for e in b.events)


def test_failures_parse_print_and_stay_alone_in_a_path() -> None:
    path = parse_path("812:stuck:77")
    assert path == (PowerCut(812, CutMode.STUCK, seed=77),)
    assert format_path(path) == "812:stuck:77"
    assert parse_path("3:weak-erase") == (PowerCut(3, CutMode.WEAK_ERASE),)
    for bad in ("1:silent,2:before", "1:before,2:silent", "1:silent:0.5:3", "1:silent:x"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_the_plan_gives_each_operation_the_failures_that_apply() -> None:
    ops = [FlashOp(0, FlashOpKind.ERASE, BASE, 16384, 0, None, 0, 0),
           FlashOp(1, FlashOpKind.PROGRAM, BASE, 4, 0, 0, 0, 0)]
    faults = tuple(m for m in CutMode if m.is_fault)
    cuts = fault_cuts(ops, faults, seed=1)
    assert {(c.op_index, c.mode) for c in cuts} == {
        (0, CutMode.DROPPED), (0, CutMode.WEAK_ERASE), (0, CutMode.STUCK),
        (1, CutMode.SILENT), (1, CutMode.DROPPED), (1, CutMode.DISTURB), (1, CutMode.STUCK)}
    assert fault_cuts(ops, faults, seed=1) == cuts          # seeded: the same again
    assert [c.seed for c in fault_cuts(ops, faults, seed=2)] != [c.seed for c in cuts]
    assert parse_faults("all") == faults
    with pytest.raises(BenchError, match="choose from"):
        parse_faults("silent,melted")


def facts() -> UpdateFacts:
    return UpdateFacts(b"old", b"new", b"boot", SAMPLE)


def test_a_stuck_bit_excuses_a_brick_only_when_the_device_said_so() -> None:
    bricked = Judgement(Verdict.BRICKED, "no ready line")
    said = "boot: recovery: the copied application does not verify\n"
    assert SAMPLE.console.flash_failed
    stuck, silent = PowerCut(1, CutMode.STUCK), PowerCut(1, CutMode.SILENT)
    assert fault_verdict(bricked, stuck, said, facts()).verdict is Verdict.REPORTED
    assert fault_verdict(bricked, stuck, "boot: jump\n", facts()).verdict is Verdict.BRICKED
    assert fault_verdict(bricked, silent, said, facts()).verdict is Verdict.BRICKED
    damaged = Judgement(Verdict.BOOT_DAMAGED, "sector 0 changed")
    assert fault_verdict(damaged, stuck, said, facts()).verdict is Verdict.BOOT_DAMAGED


def test_a_failure_campaign_writes_its_reports(built: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """From the command line, with its replay line: the HTML has a row per failure kind,
    the JSON says which failure each run was."""
    from pybench.cli import main

    old, new = built / "mini-v1.img", built / "mini-v2.img"
    if not old.exists() or not new.exists():
        pytest.skip("mini images missing: run `make firmware`")
    code = main(["powercut", "--via", "backdoor", "--boot", str(built / "boot.elf"),
                 "--from", str(old), "--to", str(new), "--flash-fault", "silent,stuck",
                 "--phase", "journal", "-q", "--reports", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    data = json.loads((tmp_path / "powercut.json").read_text())
    modes = {c["mode"] for c in data["cuts"]}
    assert modes == {"silent", "stuck"} and data["options"]["faults"] == ["silent", "stuck"]
    page = (tmp_path / "powercut.html").read_text()
    assert ">silent<" in page and ">stuck<" in page
