"""`pybench bench --only scale`: the figures of campaigns beyond one process.

1. The exhaustive campaign with torn cuts of a 256 KiB update over HTTP (about 262,000
   cuts) on a two-worker local Dask cluster; goal under 10 minutes. A measured part runs
   first, on a cluster whose workers did their golden runs (timed apart) on a sliver of
   the plan: a few shards of a fine split, spread along the trace, as one campaign. The
   estimate is those golden runs plus every cut at the part's rate. When it is more than
   twice the goal (or with --quick), the figure is that extrapolation, and says so; else
   the whole campaign runs.
2. The same campaign in 4 shards (each on the same local cluster), merged: the merged
   report must equal the unsharded one (merge.comparable). When the whole campaign was
   not run, both are run on its journal phase only (every cut of the journal records),
   in one process each, and the figure says so.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pybench.powercut import cluster, report
from pybench.powercut.campaign import CampaignResult, run_campaign
from pybench.powercut.cutspec import CutPath
from pybench.powercut.merge import comparable, merge
from pybench.powercut.plan import plan_cuts
from pybench.powercut.runner import CutResult, CutRunner
from pybench.powercut.shard import ShardSample

GOAL_S = 600.0
WORKERS = 2
SHARDS = 4
SAMPLE = ShardSample((3, 20, 37, 54), 64)   # 1/16 of the plan, in four places
WARM_UP = ShardSample((1,), 4096)            # a few cuts: each worker's golden run

Figure = dict[str, Any]


@dataclass
class _Timed:
    """A run_paths that notes how long the cut levels took (the rest is the golden run)."""

    inner: cluster.ClusterPaths | None
    seconds: float = 0.0
    levels: list[int] = field(default_factory=list)

    def __call__(self, paths: Sequence[CutPath], runner: CutRunner, make_runner: Any,
                 jobs: int, label: str = "cuts", quiet: bool = False) -> list[CutResult]:
        assert self.inner is not None
        start = time.perf_counter()
        out = self.inner(paths, runner, make_runner, jobs, label, quiet)
        self.seconds += time.perf_counter() - start
        self.levels.append(len(paths))
        return out


def _campaign(argv: list[str], part: ShardSample | None = None, shard: str | None = None,
              reports: Path | None = None, jobs: int = WORKERS,
              on_cluster: cluster.ClusterPaths | None = None) -> tuple[CampaignResult, _Timed]:
    """One campaign through the command line's options: on `on_cluster` when given (its
    workers may already hold their runner), else on a local cluster of its own, or with
    -j `jobs` when jobs is 1."""
    from pybench.cli import build_parser
    from pybench.powercut.cli import config_from

    extra = ["--shard", shard] if shard else []
    extra += ["--reports", str(reports)] if reports else []
    args = build_parser().parse_args(["powercut", *argv, "-j", str(jobs), "-q", *extra])
    config = config_from(args)
    if part is not None:
        config.shard = part
    with contextlib.ExitStack() as stack:
        run_paths = on_cluster
        if run_paths is None and jobs > 1:
            run_paths = stack.enter_context(cluster.connect(None, jobs))
        timed = _Timed(run_paths) if run_paths is not None else None
        if timed is not None:
            config.run_paths = timed
        result = run_campaign(config)
    if reports is not None:
        report.write_reports(result, reports)
    return result, timed or _Timed(None)


def whole_campaign_figure(image: Path, workdir: Path, quick: bool
                          ) -> tuple[Figure, list[str] | None]:
    argv = ["--via", "http", "--to", str(image), "--plan", "exhaustive", "--torn"]
    with cluster.connect(None, WORKERS) as on_cluster:
        # The workers' golden runs first (a sliver of the plan), timed apart: then the
        # measured part runs on workers that hold their runner, as a long campaign's do.
        start = time.perf_counter()
        _campaign(argv, part=WARM_UP, on_cluster=on_cluster)
        warm_s = time.perf_counter() - start
        part, timed = _campaign(argv, part=SAMPLE, on_cluster=on_cluster)
    total = len(plan_cuts(part.golden.trace, part.config.options))
    done = len(part.results)
    rate = done / max(timed.seconds, 1e-9)
    estimate = warm_s + total / rate    # golden runs (here, then on the workers), cuts
    figure: Figure = {"group": "scale", "cuts": total,
                      "part": f"{done} cuts ({SAMPLE} of the plan) at {rate:.1f} cuts/s, "
                              f"golden runs here and on the workers {warm_s:.0f} s",
                      "part_failures": len(part.failures), "goal": f"< {GOAL_S / 60:g} min"}
    if quick or estimate > 2 * GOAL_S:
        figure |= {"name": "256 KiB over HTTP, exhaustive + torn, local cluster of 2 "
                           "workers: EXTRAPOLATED from the measured part",
                   "extrapolated_s": round(estimate), "ok": estimate < GOAL_S}
        return figure, None
    whole, _ = _campaign(argv, reports=workdir / "scale-whole")
    figure |= {"name": "256 KiB over HTTP, exhaustive + torn, local cluster of 2 workers",
               "cuts": len(whole.results), "failures": len(whole.failures),
               "recoveries_run": sum(r.ran for r in whole.results),
               "wall_s": round(whole.wall_s, 1),
               "cuts_per_s": round(len(whole.results) / whole.wall_s, 1),
               "ok": whole.golden_ok and not whole.failures and whole.wall_s < GOAL_S}
    return figure, argv


def shards_figure(image: Path, workdir: Path, whole_argv: list[str] | None) -> Figure:
    argv = whole_argv
    jobs = WORKERS
    name = f"the same in {SHARDS} shards (local cluster each), merged"
    if argv is None:
        argv = ["--via", "http", "--to", str(image), "--plan", "exhaustive", "--torn",
                "--phase", "journal"]
        name = (f"its journal phase (the whole was extrapolated) unsharded, and in {SHARDS} "
                "shards merged, 1 process each")
        jobs = 1
        _campaign(argv, reports=workdir / "scale-whole", jobs=jobs)
    started = time.perf_counter()
    walls = []
    for k in range(1, SHARDS + 1):
        shard, _ = _campaign(argv, shard=f"{k}/{SHARDS}", reports=workdir / f"scale-{k}",
                             jobs=jobs)
        walls.append(shard.wall_s)
    merged, _ = merge([workdir / f"scale-{k}" for k in range(1, SHARDS + 1)],
                      workdir / "scale-merged")
    whole_data = json.loads((workdir / "scale-whole" / "powercut.json").read_text())
    merged_data = json.loads((workdir / "scale-merged" / "powercut.json").read_text())
    equal = comparable(whole_data) == comparable(merged_data)
    return {"group": "scale", "name": name, "cuts": len(merged.results),
            "failures": len(merged.failures),
            "shard_wall_s": "/".join(f"{w:.0f}" for w in walls),
            "total_s": round(time.perf_counter() - started),
            "merged_equals_unsharded": equal, "goal": "merged report = unsharded",
            "ok": equal}


def scale_figures(image: Path, workdir: Path, quick: bool) -> list[Figure]:
    first, argv = whole_campaign_figure(image, workdir, quick)
    return [first, shards_figure(image, workdir, argv)]
