"""Campaigns on a Dask cluster: a two-worker local cluster gives the same results as -j,
and each worker builds its engine and golden run once for the whole campaign."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import dask
import pytest
from sample_device import SAMPLE

from pybench.powercut import cluster, report
from pybench.powercut.campaign import CampaignConfig, run_campaign
from pybench.powercut.merge import comparable
from pybench.powercut.plan import PlanKind, PlanOptions
from pybench.powercut.scenario import BackdoorScenario

pytest.importorskip("distributed")

# Cuts during the copy-down of a bootloader known to fail, and cuts during the recovery
# that follows (depth 2): two levels, so workers must keep their runner between levels.
PLAN = PlanOptions(kind=PlanKind.BOUNDARIES, torn=True, seed=4, depth=2, depth_samples=2)


def _config(built: Path, jobs: int) -> CampaignConfig:
    from pybench.engine.builtin.engine import BuiltinEngine

    boot = built / "variants" / "boot-bug-done-early.elf"
    if not boot.exists():
        pytest.skip(f"{boot} missing: run `make firmware`")
    # Picklable parts only: the config travels to the workers inside the runner factory.
    make_scenario = functools.partial(BackdoorScenario, SAMPLE, boot, built / "mini-v1.img",
                                      built / "mini-v2.img")
    return CampaignConfig(make_engine=BuiltinEngine, make_scenario=make_scenario,
                          options=PLAN, jobs=jobs, quiet=True,
                          repro="pybench powercut --via backdoor",
                          settings={"boot": str(boot), "via": "backdoor"})


def test_a_two_worker_local_cluster_gives_the_results_of_j(built: Path) -> None:
    reference = run_campaign(_config(built, jobs=2))
    config = _config(built, jobs=2)
    kept: dict[str, Any]
    with cluster.connect(None, workers=2) as run_paths:
        config.run_paths = run_paths
        result = run_campaign(config)
        client = cluster._clients[run_paths.token]
        assert len(client.scheduler_info()["workers"]) == 2
        kept = client.run(cluster.worker_runners)
        profiling = client.run(functools.partial(dask.config.get, cluster.PROFILE_KEY))
    assert reference.failures and max(len(r.path) for r in reference.results) == 2
    assert comparable(report.to_json(result)) == comparable(report.to_json(reference))
    assert [r.uart for r in result.failures] == [r.uart for r in reference.failures]
    # one runner (engine + golden run) per worker, kept across both depth levels
    assert sorted(kept.values()) == [1, 1]
    # Dask's sampling profiler off on the local workers (it slowed cuts down)
    assert list(profiling.values()) == [False, False]


def test_an_unreachable_scheduler_is_a_one_line_error() -> None:
    from pybench.errors import BenchError

    with pytest.raises(BenchError, match=r"--scheduler tcp://127\.0\.0\.1:9: cannot"), \
            cluster.connect("tcp://127.0.0.1:9", workers=1, timeout_s=1):
        pass
