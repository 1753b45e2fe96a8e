"""A whole campaign: golden run, plan, cuts level by level (depth), dedup marks."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pybench.engine.base import Engine
from pybench.powercut.cutspec import CutPath, format_path, path_key
from pybench.powercut.parallel import run_paths
from pybench.powercut.plan import PlanOptions, plan_cuts
from pybench.powercut.runner import Checks, CutResult, CutRunner, Golden, mark_joined
from pybench.powercut.scenario import Scenario
from pybench.powercut.settle import Spacing
from pybench.powercut.shard import Shard, ShardSample

# Runs a level's cut paths: (paths, runner, runner factory, jobs, label, quiet) -> results
# in cut order. parallel.run_paths (-j), or a cluster's (cluster.py).
PathsRunner = Callable[[Sequence[CutPath], CutRunner, Callable[[], CutRunner], int, str, bool],
                       list[CutResult]]

# Where snapshots inside the golden run's resumable steps start: every this much virtual
# time or this many flash operations (the runner thins them as the run grows).
FIRST_SPACING = Spacing(every_ns=2_000_000, every_ops=64)


@dataclass
class CampaignConfig:
    make_engine: Callable[[], Engine]
    make_scenario: Callable[[], Scenario]
    options: PlanOptions
    jobs: int = 1
    snapshot_every_ns: int = 0        # 0: FIRST_SPACING (then thinned as the run grows)
    flash_dir: Path | None = None     # where failing cuts' flash.bin and uart.txt go
    quiet: bool = False
    dedup: bool = True                # False: run every recovery, even of a judged state
    repro: str = "pybench powercut"   # the command line a failure's --cut is appended to
    settings: dict[str, object] = field(default_factory=dict)  # for the reports
    checks: Checks = field(default_factory=Checks)  # after each recovery (runner.Checks)
    shard: Shard | ShardSample | None = None  # only this part of the first-level plan
    run_paths: PathsRunner = run_paths  # -j workers here, or a cluster (cluster.py)


@dataclass
class CampaignResult:
    config: CampaignConfig
    golden: Golden
    results: list[CutResult]
    wall_s: float

    @property
    def golden_ok(self) -> bool:
        return self.golden.ok

    @property
    def failures(self) -> list[CutResult]:
        return [r for r in self.results if not r.verdict.ok]

    def repro(self, path: CutPath) -> str:
        return f"{self.config.repro} --cut {format_path(path)}"


def make_runner(config: CampaignConfig, spacing: Spacing | None) -> CutRunner:
    return CutRunner(config.make_engine, config.make_scenario(), config.options, spacing,
                     config.flash_dir, config.dedup, config.checks)


def snapshot_spacing(config: CampaignConfig) -> Spacing:
    if config.snapshot_every_ns:
        return Spacing(config.snapshot_every_ns, FIRST_SPACING.every_ops)
    return FIRST_SPACING


def prepared_runner(config: CampaignConfig) -> CutRunner:
    """A runner whose golden run kept snapshots along the way."""
    return make_runner(config, snapshot_spacing(config))


def run_campaign(config: CampaignConfig) -> CampaignResult:
    started = time.perf_counter()
    runner = prepared_runner(config)
    if not runner.golden_ok():
        return CampaignResult(config, runner.golden, [], time.perf_counter() - started)
    paths: list[CutPath] = [(c,) for c in plan_cuts(runner.golden.trace,
                                                      runner.plan_options())]
    if config.shard is not None:
        paths = config.shard.select(paths)
    results: list[CutResult] = []
    level = 1
    while paths:
        done = config.run_paths(paths, runner, lambda: prepared_runner(config), config.jobs,
                                f"level {level}", config.quiet)
        results += done
        paths = sorted({p for r in done for p in r.followups}, key=path_key)
        level += 1
    results.sort(key=lambda r: path_key(r.path))
    mark_joined(results)
    return CampaignResult(config, runner.golden, results, time.perf_counter() - started)
