"""Known-bad bootloaders (make -C firmware variants), each caught by a small default
campaign, and the real bootloader clean under every one of those campaigns.

Each variant is a bug of a kind real bootloaders have had (docs/powercut.md, "Known-bad
bootloaders", says which). The campaigns are the ones a user runs with `pybench
powercut` options, kept small (mini images, backdoor staging) so that `make test` stays
fast; test_powercut_bites.py covers the 96 KiB copy-down plans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sample_device import SAMPLE

from pybench.engine.base import CutMode
from pybench.image import signing
from pybench.image.format import padded, parse_image
from pybench.paths import platform_file
from pybench.powercut import content
from pybench.powercut.campaign import CampaignConfig, CampaignResult, run_campaign
from pybench.powercut.oracle import Verdict
from pybench.powercut.plan import PlanKind, PlanOptions
from pybench.powercut.runner import Checks
from pybench.powercut.scenario import BackdoorScenario, Extras

BENCH_ERRORS = {Verdict.CUT_MISSED, Verdict.ENGINE_ERROR}
FAULTS_SENT = tuple(content.FAULTS)
KIB = 1024


@dataclass(frozen=True)
class Campaign:
    """What `pybench powercut --via backdoor` is given."""

    size: int = 0                       # grow the new image to this many bytes (0: as built)
    content_fault: str | None = None
    at_rest: str | None = None
    journal_fill: int = 0
    plan: PlanOptions = field(default_factory=lambda: PlanOptions(kind=PlanKind.BOUNDARIES))
    repair_fails: bool = False
    soak_ns: int = 20_000_000

    @property
    def bound_ns(self) -> int:
        """Virtual time a recovery may take: the mini update takes under 1 s, a copy
        about 20 ms more per KiB (the fault of a bad variant then ends sooner than 30 s)."""
        return 2_000_000_000 + 40_000_000 * (self.size // KIB)


FAULTS = tuple(m for m in CutMode if m.is_fault)
BOUNDARIES_TORN = PlanOptions(kind=PlanKind.BOUNDARIES, torn=True, seed=1)
CAMPAIGNS = {
    # one clean update of the small image, every boundary and torn
    "small": Campaign(plan=BOUNDARIES_TORN),
    # two slot sectors; a recovery through the repair path fails here
    "96k": Campaign(size=96 * KIB, repair_fails=True),
    # sectors 4 (64 KiB) and 5 (128 KiB) whole, ending inside sector 6, off a chunk
    "multi-sector": Campaign(size=200 * KIB - 1032,
                             plan=PlanOptions(kind=PlanKind.RANDOM, random_count=3, seed=2)),
    # the largest image the slot takes
    "largest": Campaign(size=448 * KIB,
                        plan=PlanOptions(kind=PlanKind.RANDOM, random_count=2, seed=3)),
    # damaged images staged behind the staging writer's back: must be refused
    "flip-body": Campaign(content_fault="flip-body"),
    "other-target": Campaign(content_fault="other-target"),
    # a bit of the installed image flips between boots
    "at-rest-slot": Campaign(at_rest="slot"),
    # the journal nearly full: the update's records compact into the other sector
    "rotation": Campaign(journal_fill=254, plan=BOUNDARIES_TORN),
    # every flash failure besides the cut, at every boundary (the board stays on)
    "flash-faults": Campaign(plan=PlanOptions(kind=PlanKind.BOUNDARIES, seed=1,
                                              faults=FAULTS)),
}

# Each variant, the campaign that catches it and the verdicts it may get there.
VARIANTS: dict[str, tuple[str, set[str]]] = {
    "boot-bug-done-early": ("small", {"lost-update", "mixed-slot", "bricked", "bad-access"}),
    "boot-bug-progress-early": ("96k", {"lost-update", "mixed-slot", "bad-access"}),
    "boot-ramcopy": ("small", {"lost-update", "mixed-slot", "bricked"}),
    "boot-bug-rewrite-every-boot": ("small", {"writes-on-boot"}),
    "boot-bug-boot-counter": ("small", {"writes-on-boot"}),
    "boot-bug-no-done": ("small", {"unfinished"}),
    "boot-bug-short-copy": ("small", {"bricked"}),
    "boot-bug-stray-store": ("small", {"chip-refused"}),
    "boot-bug-read-bank2": ("small", {"bad-access"}),
    "boot-bug-resume-no-erase": ("96k", {"overwrite"}),
    "boot-bug-resume-skips-sector": ("96k", {"repaired"}),
    "boot-bug-fixed-sector-size": ("multi-sector", {"bricked"}),
    "boot-bug-max-size-off-by-one": ("largest", {"lost-update"}),
    "boot-bug-no-staged-verify": ("flip-body", {"slot-erased"}),
    "boot-bug-erase-before-verify": ("flip-body", {"slot-erased"}),
    "boot-bug-erase-app-on-reject": ("flip-body", {"slot-erased"}),
    "boot-bug-no-reject-record": ("flip-body", {"unfinished"}),
    "boot-bug-reset-on-reject": ("flip-body", {"boot-loop"}),
    "boot-bug-ignore-target": ("other-target", {"slot-erased", "unexpected-new"}),
    "boot-bug-trust-done": ("at-rest-slot", {"bad-access", "mixed-slot", "bricked"}),
    "boot-bug-no-erase-on-rotate": ("rotation", {"overwrite"}),
    "boot-bug-no-read-back": ("flash-faults", {"unfinished", "mixed-slot", "lost-update",
                                               "bricked"}),
}
# boot-bug-no-crc needs every journal word torn: test_powercut_bites.py catches it.


@pytest.fixture(scope="module")
def grown(built: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    src = built / "mini-v2.img"
    if not src.exists():
        pytest.skip(f"{src} missing: run `make firmware`")
    folder = tmp_path_factory.mktemp("variants")
    out: dict[int, Path] = {}
    for c in CAMPAIGNS.values():
        if c.size and c.size not in out:
            out[c.size] = folder / f"mini-v2-{c.size}.img"
            out[c.size].write_bytes(padded(parse_image(src.read_bytes()), c.size,
                                           seed=5, key=signing.test_key()).to_bytes())
    return out


def run(built: Path, grown: dict[int, Path], boot: Path, name: str) -> CampaignResult:
    from pybench.engine.builtin.engine import BuiltinEngine

    c = CAMPAIGNS[name]
    old = built / "mini-v1.img"
    new = grown[c.size] if c.size else built / "mini-v2.img"
    if not boot.exists() or not old.exists():
        pytest.skip(f"{boot} or {old} missing: run `make firmware`")
    extras = Extras(c.at_rest, c.journal_fill)

    def scenario() -> BackdoorScenario:
        sc = BackdoorScenario(SAMPLE, boot, old, new, platform_file(), c.content_fault, None,
                              1, extras)
        sc.bound_ns = c.bound_ns
        return sc

    config = CampaignConfig(
        make_engine=BuiltinEngine, make_scenario=scenario,
        options=c.plan, jobs=2, quiet=True,
        checks=Checks(True, c.soak_ns, SAMPLE.console.repair or "", c.repair_fails))
    return run_campaign(config)


def failures(result: CampaignResult) -> list[tuple[str, str]]:
    out = [] if result.golden_ok else [("golden", result.golden.judgement.verdict.value)]
    return out + [(str(r.path[0].op_index), r.verdict.value) for r in result.failures]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_known_bad_bootloader_is_caught(built: Path, grown: dict[int, Path],
                                        variant: str) -> None:
    campaign, verdicts = VARIANTS[variant]
    result = run(built, grown, built / "variants" / f"{variant}.elf", campaign)
    found = failures(result)
    assert found, f"{variant}: nothing failed ({len(result.results)} cuts)"
    bench = [f for f in found if Verdict(f[1]) in BENCH_ERRORS]
    assert not bench, f"{variant}: bench errors, not verdicts: {bench}"
    assert {v for _, v in found} <= verdicts, f"{variant}: {found}"


@pytest.mark.parametrize("name", sorted(CAMPAIGNS))
def test_real_bootloader_is_clean(built: Path, grown: dict[int, Path], name: str) -> None:
    result = run(built, grown, built / "boot.elf", name)
    assert failures(result) == [], result.golden.judgement.reason
    assert result.results, "no cuts were made"


def test_every_variant_is_built_and_listed(built: Path) -> None:
    built_variants = {p.stem for p in (built / "variants").glob("*.elf")}
    if not built_variants:
        pytest.skip("no variants built: run `make firmware`")
    assert set(VARIANTS) | {"boot-bug-no-crc"} == built_variants
    assert len(VARIANTS) + 1 >= 20


# Unmarked: two faults by TFTP (HTTP: the test below); every fault by both transports is
# marked `long` (`pytest -m "not long"` for a quicker pass).
QUICK_SENT = {("flip-body", "tftp"), ("truncated-1/2", "tftp")}


@pytest.mark.parametrize("fault, via", [
    pytest.param(f, v, marks=() if (f, v) in QUICK_SENT else pytest.mark.long)
    for f in sorted(FAULTS_SENT) for v in ("http", "tftp")])
def test_every_damaged_image_is_refused_by_every_transport(built: Path, fault: str,
                                                           via: str) -> None:
    """The golden run (the device must refuse the upload, and keep the old image) and
    two seeded cuts of it, per content fault and transport."""
    from pybench.engine.builtin.engine import BuiltinEngine
    from pybench.powercut.scenario import make_scenario

    old, new = built / "app-v1.img", built / "app-v2.img"
    if not old.exists() or not new.exists():
        pytest.skip("application images missing: run `make firmware`")
    config = CampaignConfig(
        make_engine=BuiltinEngine,
        make_scenario=lambda: make_scenario(via, SAMPLE, built / "boot.elf", old, new,
                                            platform_file(), fault, None, 4),
        options=PlanOptions(kind=PlanKind.RANDOM, random_count=2, seed=6), jobs=1,
        quiet=True, checks=Checks(False, 0, ""))
    result = run_campaign(config)
    assert result.golden_ok, result.golden.judgement.reason
    assert result.failures == []
    assert {r.verdict for r in result.results} <= {Verdict.RECOVERED_OLD}


@pytest.mark.parametrize("fault", ["flip-digest", "truncated-3/4"])
def test_a_damaged_image_sent_over_http_is_refused_at_every_cut(built: Path,
                                                                 fault: str) -> None:
    """The staging writer refuses it: the old application keeps running after every cut
    of the upload, and nothing is ever written to the application slot."""
    from pybench.engine.builtin.engine import BuiltinEngine
    from pybench.powercut.scenario import make_scenario

    old, new = built / "app-v1.img", built / "app-v2.img"
    if not old.exists() or not new.exists():
        pytest.skip("application images missing: run `make firmware`")
    config = CampaignConfig(
        make_engine=BuiltinEngine,
        make_scenario=lambda: make_scenario("http", SAMPLE, built / "boot.elf", old, new,
                                            platform_file(), fault, None, 4),
        options=PlanOptions(kind=PlanKind.BOUNDARIES), jobs=1, quiet=True,
        checks=Checks(True, 0, SAMPLE.console.repair or ""))
    result = run_campaign(config)
    assert result.golden_ok, result.golden.judgement.reason
    assert result.golden.facts.expect == "old"
    assert result.results and result.failures == []
    assert {r.verdict for r in result.results} == {Verdict.RECOVERED_OLD}
