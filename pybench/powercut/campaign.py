"""A whole campaign: golden run, plan, cuts level by level (depth), dedup marks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pybench.engine.base import Engine
from pybench.powercut.cutspec import CutPath, format_path, path_key
from pybench.powercut.parallel import run_paths
from pybench.powercut.plan import PlanOptions, plan_cuts
from pybench.powercut.runner import CutResult, CutRunner, Golden, mark_joined
from pybench.powercut.scenario import Scenario

SNAPSHOTS_WANTED = 48   # snapshots along the golden run when snapshot_every is automatic


@dataclass
class CampaignConfig:
    make_engine: Callable[[], Engine]
    make_scenario: Callable[[], Scenario]
    options: PlanOptions
    jobs: int = 1
    snapshot_every_ns: int = 0        # 0: about SNAPSHOTS_WANTED along the golden run
    flash_dir: Path | None = None     # where failing cuts' flash.bin and uart.txt go
    quiet: bool = False
    dedup: bool = True                # False: run every recovery, even of a judged state
    repro: str = "pybench powercut"   # the command line a failure's --cut is appended to
    settings: dict[str, object] = field(default_factory=dict)  # for the reports


@dataclass
class CampaignResult:
    config: CampaignConfig
    golden: Golden
    results: list[CutResult]
    wall_s: float

    @property
    def golden_ok(self) -> bool:
        return self.golden.judgement.verdict.value == "recovered-new"

    @property
    def failures(self) -> list[CutResult]:
        return [r for r in self.results if not r.verdict.ok]

    def repro(self, path: CutPath) -> str:
        return f"{self.config.repro} --cut {format_path(path)}"


def make_runner(config: CampaignConfig, every_ns: int | None) -> CutRunner:
    return CutRunner(config.make_engine, config.make_scenario(), config.options, every_ns,
                     config.flash_dir, config.dedup)


def snapshot_spacing(config: CampaignConfig, probe: CutRunner) -> int:
    return config.snapshot_every_ns or max(1, probe.golden.resumable_ns // SNAPSHOTS_WANTED)


def run_campaign(config: CampaignConfig) -> CampaignResult:
    started = time.perf_counter()
    probe = make_runner(config, config.snapshot_every_ns or None)
    if not probe.golden_ok():
        return CampaignResult(config, probe.golden, [], time.perf_counter() - started)
    every = snapshot_spacing(config, probe)
    runner = probe if config.snapshot_every_ns or config.jobs > 1 else make_runner(config, every)
    paths: list[CutPath] = [(c,) for c in plan_cuts(probe.golden.trace, probe.plan_options())]
    results: list[CutResult] = []
    level = 1
    while paths:
        done = run_paths(paths, runner, lambda: make_runner(config, every), config.jobs,
                         f"level {level}", config.quiet)
        results += done
        paths = sorted({p for r in done for p in r.followups}, key=path_key)
        level += 1
    results.sort(key=lambda r: path_key(r.path))
    mark_joined(results)
    return CampaignResult(config, probe.golden, results, time.perf_counter() - started)
