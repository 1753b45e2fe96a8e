"""The dedup is exact: a cut that took the outcome of a judged state gets what running
its own recovery gives (verdict, reason, console, recovery time, state name).

Each campaign runs twice on the real firmware in the built-in engine, with the dedup and
with --no-dedup (every recovery run), and the cut results must be equal."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sample_device import SAMPLE

from pybench import layout
from pybench.image import signing
from pybench.image.format import padded, parse_image
from pybench.paths import platform_file
from pybench.powercut.campaign import CampaignConfig, CampaignResult, run_campaign
from pybench.powercut.plan import PlanKind, PlanOptions
from pybench.powercut.runner import Checks, CutResult, CutRunner
from pybench.powercut.scenario import BackdoorScenario, make_scenario

SMALL = 16 * 1024
STAGING = layout.load().STAGING_ADDR


def _campaign(make_scenario: object, plan: PlanOptions, dedup: bool,
              checks: Checks | None = None) -> CampaignResult:
    from pybench.engine.builtin.engine import BuiltinEngine

    config = CampaignConfig(make_engine=BuiltinEngine, make_scenario=make_scenario,  # type: ignore[arg-type]
                            options=plan, jobs=1, quiet=True, dedup=dedup,
                            checks=checks or Checks())
    return run_campaign(config)


def _seen(r: CutResult) -> tuple[object, ...]:
    return (r.path, r.verdict, r.reason, r.recovery_ns, r.uart, r.state, r.joined)


def _compare(fast: CampaignResult, slow: CampaignResult) -> None:
    assert fast.golden_ok and slow.golden_ok
    assert all(r.ran for r in slow.results)
    ran = sum(r.ran for r in fast.results)
    assert ran < len(fast.results) // 2, "the dedup judged almost nothing: nothing compared"
    assert [_seen(r) for r in fast.results] == [_seen(r) for r in slow.results]


@pytest.fixture(scope="module")
def small_image(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dedup") / "mini-v2-16k.img"
    out.write_bytes(padded(parse_image((built / "mini-v2.img").read_bytes()), SMALL,
                           seed=3, key=signing.test_key()).to_bytes())
    return out


@pytest.mark.parametrize("plan", [
    PlanOptions(kind=PlanKind.RANDOM, random_count=30, torn=True, seed=4),
    PlanOptions(kind=PlanKind.RANDOM, random_count=8, torn=True, seed=5, depth=2,
                depth_samples=4),
], ids=["torn", "depth-2"])
def test_backdoor_copy_down(built: Path, small_image: Path, plan: PlanOptions) -> None:
    """With depth 2, a recovery that ends in the next cut is looked up too: the flash it
    left is rebuilt from the judged run's operations."""
    elf = built / "boot.elf"

    def scenario() -> BackdoorScenario:
        sc = BackdoorScenario(SAMPLE, elf, built / "mini-v1.img", small_image, platform_file())
        sc.ready = r"^app: mini v2 running"
        return sc

    fast, slow = _campaign(scenario, plan, True), _campaign(scenario, plan, False)
    _compare(fast, slow)


def test_http_upload_and_copy_down(built: Path) -> None:
    """Cuts during the upload leave different staging contents that the recovery never
    reads: they join, and so do the host's transfers that died with the board."""
    plan = PlanOptions(kind=PlanKind.RANDOM, random_count=10, seed=2)

    def scenario() -> object:
        return make_scenario("http", SAMPLE, built / "boot.elf", built / "app-v1.img",
                             built / "app-v2.img", platform_file())

    fast, slow = _campaign(scenario, plan, True), _campaign(scenario, plan, False)
    _compare(fast, slow)


def _golden_runner(built: Path, via: str, options: PlanOptions) -> CutRunner:
    """A runner of app v1 -> v2 `via` the transport, after its golden run."""
    from pybench.engine.builtin.engine import BuiltinEngine
    from pybench.powercut.campaign import prepared_runner

    config = CampaignConfig(
        make_engine=BuiltinEngine,
        make_scenario=lambda: make_scenario(via, SAMPLE, built / "boot.elf",
                                            built / "app-v1.img", built / "app-v2.img",
                                            platform_file()),
        options=options)
    return prepared_runner(config)


def test_the_upload_keeps_snapshots_along_the_way(built: Path) -> None:
    """The upload is resumable: the golden run keeps snapshots in its middle, although
    the wire runs the board in short steps there (each must count towards the next)."""
    runner = _golden_runner(built, "http", PlanOptions())
    assert runner.golden_ok()
    names = [step.name for step in runner.scenario.steps()]
    upload = names.index("upload")
    inside = [s.trace_len for s in runner.golden.snaps if s.step == upload and s.mark]
    staging_ops = sum(1 for op in runner.golden.trace
                      if op.addr >= STAGING and op.kind.value == "program")
    assert len(inside) >= 16, f"{len(inside)} snapshots during the upload"
    gaps = [b - a for a, b in itertools.pairwise(inside)]
    assert max(gaps) <= staging_ops // 8


def test_a_few_random_cuts_keep_few_snapshots(built: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots cost the golden run time: a plan of N random cuts keeps at most 2N
    (at least FEW_MARKS, made small here); other plans keep up to MAX_MARKS."""
    from pybench.powercut import runner as runner_module

    monkeypatch.setattr(runner_module, "FEW_MARKS", 4)

    def marks(options: PlanOptions) -> int:
        return sum(s.mark for s in _golden_runner(built, "backdoor", options).golden.snaps)

    assert marks(PlanOptions(kind=PlanKind.RANDOM, random_count=3)) <= 6
    assert marks(PlanOptions(kind=PlanKind.EXHAUSTIVE)) > 12
