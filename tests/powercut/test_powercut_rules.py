"""The stricter oracle's rules, content faults, wear and export: pure parts, and the
expected-outcome and reboot checks on the FakeBoard test double."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import image_bytes
from intelhex import IntelHex
from pc_traces import TraceBuilder, erased_flash, update_trace
from pc_types import CampaignFn
from sample_device import SAMPLE

from pybench import journal, layout
from pybench.engine.base import BoardEvent
from pybench.image import signing
from pybench.image.format import Image, ImageError, check_image, parse_image
from pybench.powercut import content, export, rules, wear
from pybench.powercut.oracle import Judgement, Verdict
from pybench.powercut.plan import PlanKind
from pybench.powercut.scenario import history, staged_record


# --- rules ------------------------------------------------------------------------------
def test_a_clean_update_trace_keeps_every_trace_rule() -> None:
    assert rules.trace_rules(update_trace(), erased_flash(), SAMPLE.layout) is None


def test_programming_a_word_twice_is_an_overwrite() -> None:
    lay = layout.load()
    ops = TraceBuilder().program(lay.APP_SLOT_ADDR, b"\x00\x11\x22\x33" * 2) \
        .program(lay.APP_SLOT_ADDR + 4, b"\xff\xff\xff\x00").ops
    j = rules.trace_rules(ops, erased_flash(), SAMPLE.layout)
    assert j is not None and j.verdict is Verdict.OVERWRITE and "operation 2" in j.reason


def test_an_erase_makes_a_word_programmable_again() -> None:
    lay = layout.load()
    t = TraceBuilder().program(lay.APP_SLOT_ADDR, b"\x00" * 4)
    t.erase(lay.APP_SLOT_FIRST_SECTOR).program(lay.APP_SLOT_ADDR, b"\x01" * 4)
    assert rules.trace_rules(t.ops, erased_flash(), SAMPLE.layout) is None


def test_any_write_to_the_bootloader_sector_is_protected_write() -> None:
    ops = TraceBuilder().erase(0).ops
    j = rules.trace_rules(ops, erased_flash(), SAMPLE.layout)
    assert j is not None and j.verdict is Verdict.PROTECTED_WRITE


def _events(*kinds: tuple[str, str]) -> list[BoardEvent]:
    return [BoardEvent(i, k, d) for i, (k, d) in enumerate(kinds)]


def test_event_rules() -> None:
    power_on = ("reset", "power-on")
    assert rules.event_rules(_events(power_on), ready=True) is None
    refused = rules.event_rules(_events(power_on, ("flash-refused", "SR 0xc0")), True)
    assert refused is not None and refused.verdict is Verdict.CHIP_REFUSED
    unmapped = rules.event_rules(_events(power_on, ("fault", "BusFault: read at unmapped "
                                                             "0x08100000 -> HardFault")), False)
    assert unmapped is not None and unmapped.verdict is Verdict.BAD_ACCESS
    resets = [power_on] + [("reset", "SYSRESETREQ")] * rules.LOOP_RESETS
    loop = rules.event_rules(_events(*resets), ready=False)
    assert loop is not None and loop.verdict is Verdict.BOOT_LOOP
    # resets that end in the ready line are no loop
    assert rules.event_rules(_events(*resets), ready=True) is None
    assert rules.event_rules(_events(*resets[:-1]), ready=False) is None


def test_journal_rule_wants_the_update_finished() -> None:
    lay = layout.load()
    rec = journal.JournalRecord(1, journal.State.COPIED, 1, 100, 2, b"\x11" * 32)
    a = rec.encode().ljust(lay.JOURNAL_SECTOR_SIZE, b"\xff")
    b = b"\xff" * lay.JOURNAL_SECTOR_SIZE
    j = rules.journal_rule(a, b)
    assert j is not None and j.verdict is Verdict.UNFINISHED and "COPIED" in j.reason
    done = journal.JournalRecord(2, journal.State.DONE, 1, 100, 2, b"\x11" * 32)
    assert rules.journal_rule(a, done.encode().ljust(len(b), b"\xff")) is None
    assert rules.journal_rule(b, b) is None


def test_reboot_rule() -> None:
    first = Judgement(Verdict.RECOVERED_NEW, "new", "new")
    same = Judgement(Verdict.RECOVERED_NEW, "new", "new")
    assert rules.reboot_rule("reset", first, same, [], 0) is None
    wrote = rules.reboot_rule("reset", first, same, update_trace()[:1], 0)
    assert wrote is not None and wrote.verdict is Verdict.WRITES_ON_BOOT
    other = rules.reboot_rule("power cycle", first,
                              Judgement(Verdict.RECOVERED_OLD, "old", "old"), [], 0)
    assert other is not None and other.verdict is Verdict.UNSTABLE
    reset = rules.reboot_rule("power cycle", first, same, [], 1)
    assert reset is not None and reset.verdict is Verdict.APP_RESET


# --- content faults ---------------------------------------------------------------------
@pytest.mark.parametrize("fault", sorted(content.FAULTS))
def test_every_content_fault_fails_the_image_check(fault: str) -> None:
    key = signing.from_seed(99)          # the device's key in this test
    good = Image(parse_image(image_bytes(2, body_words=600)).header.signed_with(key),
                 parse_image(image_bytes(2, body_words=600)).body).to_bytes()
    bad = content.damaged(good, fault, seed=3)
    assert bad != good and content.damaged(good, fault, seed=3) == bad  # seeded
    with pytest.raises((ImageError, ValueError)):
        img = parse_image(bad)
        if img.total_size != len(bad):   # a cut-short image parses its header only
            raise ImageError("size", "truncated")
        check_image(img, key.public_key())


def test_truncations_and_too_large_have_the_sizes_they_say() -> None:
    good = image_bytes(2, body_words=600)
    assert len(content.damaged(good, "short-4", 0)) == len(good) - 4
    half = len(content.damaged(good, "truncated-1/2", 0))
    assert half % 4 == 0 and abs(half - len(good) // 2) < 4
    lay = layout.load()
    assert lay.IMAGE_MAX_SIZE < len(content.damaged(good, "too-large", 0)) <= lay.STAGING_SIZE


def test_unknown_fault_is_named() -> None:
    with pytest.raises(ValueError, match="no content fault 'melted'"):
        content.damaged(image_bytes(2), "melted", 0)


def test_a_damaged_image_is_staged_with_the_good_images_claims() -> None:
    good = image_bytes(2)
    rec = staged_record(content.damaged(good, "erased", 0), good=good)
    assert rec.image_version == 2 and rec.digest == parse_image(good).header.body_sha256


def test_journal_history_fills_b_and_part_of_a() -> None:
    lay = layout.load()
    a, b = history(SAMPLE, image_bytes(1), 5)
    view = journal.scan(a.ljust(lay.JOURNAL_SECTOR_SIZE, b"\xff"), b)
    assert view.next_sector == 0 and view.next_slot == 5 and view.garbage == 0
    assert view.current is not None and view.current.state is journal.State.DONE
    assert view.current.floor == 1      # DONE raised the floor to the installed v1


# --- wear and export --------------------------------------------------------------------
def test_wear_counts_erases_per_sector_and_updates_survived() -> None:
    lay = layout.load()
    w = wear.wear(update_trace() + TraceBuilder().erase(lay.APP_SLOT_FIRST_SECTOR).ops)
    assert w["erases_per_update"][str(lay.APP_SLOT_FIRST_SECTOR)] == 2
    assert w["worst_sector"] == lay.APP_SLOT_FIRST_SECTOR
    assert w["updates_survived"] == wear.ENDURANCE_CYCLES // 2
    assert "5000 updates" in wear.describe(w)
    assert wear.wear([])["updates_survived"] is None


def test_export_writes_bin_and_hex_of_the_same_flash(tmp_path: Path) -> None:
    flash = bytes(range(256)) * 8
    bin_path, hex_path, commands = export.write(flash, 0x08000000, tmp_path / "cut-7")
    assert bin_path.read_bytes() == flash
    ih = IntelHex(str(hex_path))
    assert ih.minaddr() == 0x08000000 and ih.tobinstr() == flash
    assert any(c.startswith("st-flash") and "0x08000000" in c for c in commands)
    assert any("openocd" in c and hex_path.name in c for c in commands)


# --- on the FakeBoard -------------------------------------------------------------------
def test_a_refused_update_ends_on_the_old_image_at_every_cut(
        fake_campaign: CampaignFn) -> None:
    result = fake_campaign(content_fault="flip-body")
    assert result.golden.facts.expect == "old" and result.golden_ok
    assert result.results and result.failures == []
    assert {r.verdict for r in result.results} == {Verdict.RECOVERED_OLD}


def test_erasing_the_slot_for_a_refused_update_is_caught(fake_campaign: CampaignFn) -> None:
    result = fake_campaign(bug="erase-on-reject", content_fault="other-target")
    assert not result.golden_ok
    assert result.golden.judgement.verdict is Verdict.SLOT_ERASED


def test_a_rewrite_on_every_boot_is_caught_by_the_reboots(fake_campaign: CampaignFn) -> None:
    result = fake_campaign(bug="rewrite-every-boot")
    assert result.golden.judgement.verdict is Verdict.WRITES_ON_BOOT
    assert "nothing pending" in result.golden.judgement.reason


def test_a_rule_broken_in_a_recovery_that_a_cut_interrupts_is_caught(
        fake_campaign: CampaignFn) -> None:
    """The recovery after a cut that left the slot erased writes into the bootloader
    sector, then is cut itself; the recovery after that second cut is clean."""
    result = fake_campaign(bug="scribble-on-retry", kind=PlanKind.BOUNDARIES, depth=2)
    assert result.golden_ok
    interrupted = [r for r in result.failures if "interrupted" in r.reason]
    assert interrupted and {r.verdict for r in interrupted} == {Verdict.PROTECTED_WRITE}
    assert all(len(r.path) == 2 for r in interrupted)
