"""The campaign's logic on the FakeBoard test double (no emulator)."""

from __future__ import annotations

from pathlib import Path

from pc_types import CampaignFn
from sample_device import SAMPLE

from pybench.engine.base import CutMode, PowerCut
from pybench.powercut.cutspec import format_path
from pybench.powercut.oracle import Verdict
from pybench.powercut.plan import PlanKind, PlanOptions
from pybench.powercut.runner import CutRunner
from pybench.powercut.scenario import BackdoorScenario
from pybench.powercut.settle import Spacing


def _verdicts(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {format_path(r.path): r.verdict.value for r in result.results}


def test_good_bootloader_recovers_from_every_cut(fake_campaign: CampaignFn) -> None:
    result = fake_campaign()
    assert result.golden_ok
    assert len(result.results) == len(result.golden.trace) + 1
    assert result.failures == []
    assert {r.verdict for r in result.results} == {Verdict.RECOVERED_NEW}
    # BEFORE op i+1 leaves the flash AFTER op i left: such cuts join a judged state
    assert any(r.joined for r in result.results)


def test_done_early_bootloader_is_caught(fake_campaign: CampaignFn, tmp_path: Path) -> None:
    result = fake_campaign(bug="done-early")
    kinds = {r.verdict for r in result.failures}
    assert Verdict.BRICKED in kinds and Verdict.LOST_UPDATE in kinds
    failed = result.failures[0]
    assert failed.flash_file and (tmp_path / "cuts" / failed.flash_file).stat().st_size > 0
    assert "--cut " + format_path(failed.path) in result.repro(failed.path)


def test_results_do_not_depend_on_workers(fake_campaign: CampaignFn) -> None:
    one = fake_campaign(bug="done-early", kind=PlanKind.BOUNDARIES, torn=True)
    two = fake_campaign(bug="done-early", kind=PlanKind.BOUNDARIES, torn=True, jobs=2)
    assert _verdicts(one) == _verdicts(two)
    assert [r.joined for r in one.results] == [r.joined for r in two.results]


def test_depth_cuts_again_during_recovery(fake_campaign: CampaignFn) -> None:
    result = fake_campaign(kind=PlanKind.BOUNDARIES, depth=2, depth_samples=3)
    deep = [r for r in result.results if len(r.path) == 2]
    assert deep and all(r.verdict.ok for r in result.results)
    firsts = {r.path for r in result.results if len(r.path) == 1}
    assert all((d.path[0],) in firsts for d in deep)


def test_replaying_one_cut_gives_the_campaign_verdict(
        fake_campaign: CampaignFn, images: tuple[Path, Path, Path], tmp_path: Path) -> None:
    from pc_fakeboard import FakeBoard

    result = fake_campaign(bug="done-early", kind=PlanKind.BOUNDARIES)
    boot, old, new = images
    runner = CutRunner(lambda: FakeBoard("done-early"),
                       BackdoorScenario(SAMPLE, boot, old, new, tmp_path / "fake.repl"),
                       PlanOptions(), Spacing(7_000, 50))
    for r in result.results[::3]:
        assert runner.run(r.path).verdict is r.verdict, format_path(r.path)


def test_cut_beyond_the_trace_is_reported_as_missed(
        images: tuple[Path, Path, Path], tmp_path: Path) -> None:
    from pc_fakeboard import FakeBoard

    boot, old, new = images
    runner = CutRunner(FakeBoard, BackdoorScenario(SAMPLE, boot, old, new, tmp_path / "x.repl"),
                       PlanOptions())
    n = len(runner.golden.trace)
    assert runner.run((PowerCut(n + 5, CutMode.BEFORE),)).verdict is Verdict.CUT_MISSED
    deep = runner.run((PowerCut(0), PowerCut(10**6)))
    assert deep.verdict is Verdict.CUT_MISSED


def test_failed_golden_run_makes_no_cuts(
        fake_campaign: CampaignFn, images: tuple[Path, Path, Path]) -> None:
    _, _, new = images
    data = bytearray(new.read_bytes())
    data[-1] ^= 0xFF                     # body no longer matches its digest
    new.write_bytes(bytes(data))
    result = fake_campaign()
    assert not result.golden_ok and result.results == []
