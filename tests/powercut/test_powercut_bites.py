"""Proof that the oracle bites: campaigns on the real firmware in the built-in engine.

The known-bad bootloader variants (make -C firmware variants) must be caught, the real
bootloader must survive every cut. Backdoor scenario on the small mini images, so each
campaign is a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_device import SAMPLE

from pybench.image import signing
from pybench.image.format import padded, parse_image
from pybench.paths import platform_file
from pybench.powercut.campaign import CampaignConfig, CampaignResult, run_campaign
from pybench.powercut.oracle import Verdict
from pybench.powercut.phases import Phase
from pybench.powercut.plan import PlanKind, PlanOptions
from pybench.powercut.scenario import BackdoorScenario

# What the firmware did wrong, as the oracle sees it (not a bench error).
FIRMWARE_FAILURES = {Verdict.BRICKED, Verdict.LOST_UPDATE, Verdict.UNEXPECTED_NEW,
                     Verdict.MIXED_SLOT, Verdict.BOOT_DAMAGED, Verdict.TIMEOUT}

# Two slot sectors (64 KiB + part of the next), so that a copy-down has a sector to skip.
NEW_IMAGE_SIZE = 96 * 1024

# Each known-bad variant with the plan that exposes it. The real bootloader must survive
# every one of these plans: the same cuts, a different verdict.
BOUNDARIES_TORN = PlanOptions(kind=PlanKind.BOUNDARIES, torn=True, seed=1)
JOURNAL_TORN = PlanOptions(kind=PlanKind.EXHAUSTIVE, torn=True, seed=1,
                           phases=frozenset({Phase.JOURNAL}))
# (test_powercut_variants.py runs the other known-bad variants on smaller campaigns.)
VARIANT_PLANS = {
    "boot-bug-done-early": BOUNDARIES_TORN,      # DONE before the copy: cut in the copy
    "boot-bug-no-crc": JOURNAL_TORN,             # a record torn in its `copied` word
}


@pytest.fixture(scope="module")
def new_image(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = built / "mini-v2.img"
    if not src.exists():
        pytest.skip(f"{src} missing: run `make firmware`")
    out = tmp_path_factory.mktemp("bites") / "mini-v2-96k.img"
    out.write_bytes(padded(parse_image(src.read_bytes()), NEW_IMAGE_SIZE, seed=5,
                             key=signing.test_key()).to_bytes())
    return out


def _campaign(built: Path, boot: Path, new: Path, plan: PlanOptions) -> CampaignResult:
    from pybench.engine.builtin.engine import BuiltinEngine

    old = built / "mini-v1.img"
    if not boot.exists() or not old.exists():
        pytest.skip(f"{boot} or {old} missing: run `make firmware`")
    config = CampaignConfig(
        make_engine=BuiltinEngine,
        make_scenario=lambda: BackdoorScenario(SAMPLE, boot, old, new, platform_file()),
        options=plan, jobs=2, quiet=True)
    return run_campaign(config)


# Every journal word torn takes half a minute on two cores: marked `long`.
@pytest.mark.parametrize("variant", [
    pytest.param(v, marks=pytest.mark.long if VARIANT_PLANS[v] is JOURNAL_TORN else ())
    for v in sorted(VARIANT_PLANS)])
def test_known_bad_bootloader_is_caught(built: Path, new_image: Path, variant: str) -> None:
    result = _campaign(built, built / "variants" / f"{variant}.elf", new_image,
                       VARIANT_PLANS[variant])
    assert result.golden_ok, result.golden.judgement.reason
    caught = {r.verdict for r in result.failures} & FIRMWARE_FAILURES
    assert caught, f"{variant}: no cut failed ({len(result.results)} cuts)"


@pytest.mark.parametrize("plan", [
    pytest.param(BOUNDARIES_TORN, id="boundaries-torn"),
    pytest.param(JOURNAL_TORN, id="journal-torn", marks=pytest.mark.long)])
def test_real_bootloader_survives_the_plans_that_catch_the_variants(
        built: Path, new_image: Path, plan: PlanOptions) -> None:
    result = _campaign(built, built / "boot.elf", new_image, plan)
    assert result.golden_ok, result.golden.judgement.reason
    assert len(result.results) > 20
    assert result.failures == [], [(r.path, r.verdict, r.reason) for r in result.failures]


def test_real_bootloader_survives_every_distinct_state(built: Path) -> None:
    plan = PlanOptions(kind=PlanKind.STATES, torn=True, seed=1)
    result = _campaign(built, built / "boot.elf", built / "mini-v2.img", plan)
    assert result.golden_ok, result.golden.judgement.reason
    assert len(result.results) > 20
    assert result.failures == [], [(r.path, r.verdict, r.reason) for r in result.failures]
