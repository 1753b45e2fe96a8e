"""`pybench bench --only scale`: the figures of campaigns beyond one process.

1. The exhaustive campaign with torn cuts of a 256 KiB update over HTTP (about 262,000
   cuts) on a two-worker local Dask cluster; goal under 10 minutes. A measured part runs
   first: a few shards of a fine split, spread along the trace, as one campaign. When
   the part says the whole would take more than twice the goal (or with --quick), the
   figure is that extrapolation, and says so; else the whole campaign runs.
2. The same campaign in 4 shards (each on the same local cluster), merged: the merged
   report must equal the unsharded one (merge.comparable). When the whole campaign was
   not run, both are run on its journal phase only (every cut of the journal records),
   and the figure says so.
"""

from __future__ import annotations

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

Figure = dict[str, Any]


@dataclass
class _Timed:
    """A run_paths that notes how long the cut levels took (the rest is the golden run)."""

    inner: cluster.ClusterPaths
    seconds: float = 0.0
    levels: list[int] = field(default_factory=list)

    def __call__(self, paths: Sequence[CutPath], runner: CutRunner, make_runner: Any,
                 jobs: int, label: str = "cuts", quiet: bool = False) -> list[CutResult]:
        start = time.perf_counter()
        out = self.inner(paths, runner, make_runner, jobs, label, quiet)
        self.seconds += time.perf_counter() - start
        self.levels.append(len(paths))
        return out


def _campaign(argv: list[str], part: ShardSample | None = None, shard: str | None = None,
              reports: Path | None = None) -> tuple[CampaignResult, _Timed]:
    from pybench.cli import build_parser
    from pybench.powercut.cli import config_from

    extra = ["--shard", shard] if shard else []
    extra += ["--reports", str(reports)] if reports else []
    args = build_parser().parse_args(["powercut", *argv, "--cluster", "local", "-j",
                                      str(WORKERS), "-q", *extra])
    config = config_from(args)
    if part is not None:
        config.shard = part
    with cluster.connect(None, WORKERS) as run_paths:
        timed = _Timed(run_paths)
        config.run_paths = timed
        result = run_campaign(config)
    if reports is not None:
        report.write_reports(result, reports)
    return result, timed


def whole_campaign_figure(image: Path, workdir: Path, quick: bool
                          ) -> tuple[Figure, list[str] | None]:
    argv = ["--via", "http", "--to", str(image), "--plan", "exhaustive", "--torn"]
    part, timed = _campaign(argv, part=SAMPLE)
    total = len(plan_cuts(part.golden.trace, part.config.options))
    done = len(part.results)
    rate = done / max(timed.seconds, 1e-9)
    estimate = part.wall_s + (total - done) / rate
    figure: Figure = {"group": "scale", "cuts": total,
                      "part": f"{done} cuts ({SAMPLE} of the plan) in {part.wall_s:.0f} s, "
                              f"{rate:.1f} cuts/s after the golden run",
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
    name = f"the same in {SHARDS} shards (local cluster each), merged"
    if argv is None:
        argv = ["--via", "http", "--to", str(image), "--plan", "exhaustive", "--torn",
                "--phase", "journal"]
        name = f"its journal phase unsharded, and in {SHARDS} shards merged"
        _campaign(argv, reports=workdir / "scale-whole")
    started = time.perf_counter()
    walls = []
    for k in range(1, SHARDS + 1):
        shard, _ = _campaign(argv, shard=f"{k}/{SHARDS}", reports=workdir / f"scale-{k}")
        walls.append(shard.wall_s)
    merged, _ = merge([workdir / f"scale-{k}" for k in range(1, SHARDS + 1)],
                      workdir / "scale-merged")
    import json

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
