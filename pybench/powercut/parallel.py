"""Cut paths over worker processes (fork), with a progress bar; results in cut order.

Every worker builds its own engine and replays the golden run itself (engines hold
emulator state that is not shared between processes), checks it got the same trace as
the parent, then runs the paths it is given. Paths go out in small contiguous chunks so
that neighbouring cuts, which often reach the same flash state, meet the same cache.
The results are sorted by cut, so they do not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pybench.errors import BenchError
from pybench.powercut.cutspec import CutPath, path_key
from pybench.powercut.runner import CutResult, CutRunner

RunnerFactory = Callable[[], CutRunner]

_worker: CutRunner | None = None


def _init(make_runner: RunnerFactory, digest: str) -> None:
    global _worker
    # A Ctrl-C reaches the whole process group: the parent alone answers it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker = make_runner()
    if _worker.golden.digest != digest:
        raise BenchError("a worker's golden run differs from the parent's: the engine "
                         "or scenario is not deterministic")


def _run_chunk(paths: list[CutPath]) -> list[CutResult]:
    assert _worker is not None
    return [_worker.run(p) for p in paths]


def _chunks(paths: Sequence[CutPath], jobs: int) -> list[list[CutPath]]:
    size = max(1, min(8, len(paths) // (jobs * 4) or 1))
    return [list(paths[i : i + size]) for i in range(0, len(paths), size)]


class _Bar:
    """Cuts done, failures so far and cuts per second, on stderr."""

    def __init__(self, total: int, label: str, quiet: bool) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("failed {task.fields[failed]}"), TextColumn("{task.fields[rate]} cuts/s"),
            TimeElapsedColumn(), console=Console(stderr=True), disable=quiet, transient=False)
        self.task = self.progress.add_task(label, total=total, failed=0, rate="-")
        self.failed = 0
        self.done = 0
        self.start = time.perf_counter()

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def add(self, results: Sequence[CutResult]) -> None:
        self.done += len(results)
        self.failed += sum(not r.verdict.ok for r in results)
        rate = self.done / max(1e-9, time.perf_counter() - self.start)
        self.progress.update(self.task, advance=len(results), failed=self.failed,
                             rate=f"{rate:.1f}")


def run_paths(paths: Sequence[CutPath], runner: CutRunner, make_runner: RunnerFactory,
              jobs: int, label: str = "cuts", quiet: bool = False) -> list[CutResult]:
    """Run every path: in this process with `runner` for jobs == 1, else in workers."""
    results: list[CutResult] = []
    with _Bar(len(paths), label, quiet) as bar:
        if jobs <= 1 or len(paths) <= 1:
            for p in paths:
                r = runner.run(p)
                results.append(r)
                bar.add([r])
        else:
            ctx = multiprocessing.get_context("fork")
            # Forked with SIGINT ignored, so that no worker sees a Ctrl-C even before
            # its initializer runs.
            with _sigint_ignored():
                pool = ctx.Pool(jobs, initializer=_init,
                                initargs=(make_runner, runner.golden.digest))
            try:
                for chunk in pool.imap_unordered(_run_chunk, _chunks(paths, jobs)):
                    results.extend(chunk)
                    bar.add(chunk)
                pool.close()
            except BaseException:
                # Ctrl-C (or an error): stop the workers; a second Ctrl-C meanwhile must
                # not interrupt the clean-up.
                with _sigint_ignored():
                    pool.terminate()
                    pool.join()
                raise
            pool.join()
    return sorted(results, key=lambda r: path_key(r.path))


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield   # only the main thread may set handlers; nothing to protect there
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
