"""Cut paths on a Dask distributed cluster: `--cluster local` or `--scheduler ADDRESS`.

Like `-j` (parallel.py), every worker builds its own engine and replays the golden run
(checked against the parent's trace), but only once per campaign: the runner is kept in
the worker process, keyed by the campaign's token and the worker thread, and serves
every chunk of paths (of every depth level) that the scheduler sends there. Chunks are
small runs of neighbouring cuts, as with `-j`, so neighbours meet the same judged states.
The progress bar counts the cuts done across the cluster as chunks come back; results
are sorted by cut, so they do not depend on the number of workers nor on which worker
ran what.

The cluster (and its client) lives for a whole campaign: use `connect()` as a context
manager around run_campaign(). The object set as CampaignConfig.run_paths holds only
the token and the client's address, because the config itself travels to the workers
(inside the runner factory).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pybench.errors import BenchError
from pybench.powercut.cutspec import CutPath, path_key
from pybench.powercut.parallel import _Bar, _chunks
from pybench.powercut.runner import CutResult, CutRunner

RunnerFactory = Callable[[], CutRunner]
PROFILE_KEY = "distributed.worker.profile.enabled"

# In a worker process: the runner of each (campaign token, worker thread).
_runners: dict[tuple[str, int], CutRunner] = {}
_runners_lock = threading.Lock()
# In the process that drives the campaign: the client of each token.
_clients: dict[str, Any] = {}


def _runner_for(token: str, make_runner: RunnerFactory, digest: str) -> CutRunner:
    key = (token, threading.get_ident())
    with _runners_lock:
        runner = _runners.get(key)
        if runner is None:
            for old in [k for k in _runners if k[0] != token]:   # an earlier campaign's
                del _runners[old]
    if runner is None:
        runner = make_runner()
        if runner.golden.digest != digest:
            raise BenchError("a worker's golden run differs from the parent's: the engine, "
                             "scenario or firmware files differ on that worker")
        with _runners_lock:
            _runners[key] = runner
    return runner


def run_chunk(paths: list[CutPath], token: str, make_runner: RunnerFactory,
              digest: str) -> list[CutResult]:
    """On a worker: run neighbouring cut paths with this worker's kept runner."""
    runner = _runner_for(token, make_runner, digest)
    return [runner.run(p) for p in paths]


def worker_runners() -> int:
    """How many runners this process keeps (for tests, run on the workers)."""
    return len(_runners)


@dataclass(frozen=True)
class ClusterPaths:
    """CampaignConfig.run_paths for a cluster (picklable: the client stays here)."""

    token: str
    where: str     # "local" or the scheduler's address, for messages

    def __call__(self, paths: Sequence[CutPath], runner: CutRunner,
                 make_runner: RunnerFactory, jobs: int, label: str = "cuts",
                 quiet: bool = False) -> list[CutResult]:
        from distributed import as_completed

        client = _clients.get(self.token)
        if client is None:
            raise BenchError("the cluster is not connected (use cluster.connect())")
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        results: list[CutResult] = []
        with _Bar(len(paths), f"{label} ({self.where}, {workers} workers)", quiet) as bar:
            if paths:
                factory = client.scatter(make_runner, broadcast=True, hash=False)
                futures = client.map(run_chunk, _chunks(paths, workers), token=self.token,
                                     make_runner=factory, digest=runner.golden.digest,
                                     pure=False)
                for future in as_completed(futures):
                    chunk = future.result()
                    results.extend(chunk)
                    bar.add(chunk)
        return sorted(results, key=lambda r: path_key(r.path))


@contextlib.contextmanager
def connect(scheduler: str | None, workers: int, timeout_s: float = 20.0
            ) -> Iterator[ClusterPaths]:
    """A client of the scheduler at `scheduler` (tcp://HOST:8786), or of a local cluster
    of `workers` single-threaded worker processes on the loopback when it is None."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise BenchError("--cluster/--scheduler need the `distributed` package: "
                         "pip install 'pybench[cluster]'") from None
    token = uuid.uuid4().hex
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            # A worker samples its task thread's stack every 10 ms for Dask's dashboard;
            # a cut takes the GIL at every hook of the emulator, and the sampling made
            # cuts 20-30 % slower. The workers take this configuration from here.
            stack.enter_context(dask.config.set({PROFILE_KEY: False}))
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                silence_logs=logging.ERROR,   # not "worker still alive, killing" at the end
                dashboard_address="127.0.0.1:0"))   # no fixed port: others may run one
            client = stack.enter_context(Client(cluster))
            where = "local cluster"
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout=f"{timeout_s}s"))
            except (OSError, TimeoutError, ValueError) as e:
                raise BenchError(f"--scheduler {scheduler}: cannot connect ({e})") from None
            where = scheduler
        _clients[token] = client
        try:
            yield ClusterPaths(token, where)
        finally:
            _clients.pop(token, None)
