"""The options of `pybench powercut` that take a campaign beyond one process:
`--shard K/N`, `--cluster local`, `--scheduler ADDRESS`, and the `merge` subcommand.
Glue between the command line and shard.py, cluster.py and merge.py."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from pybench.errors import BenchError
from pybench.powercut.cluster import ClusterPaths, connect
from pybench.powercut.shard import Shard, parse_shard


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shard", metavar="K/N",
                   help="run only the K-th of N parts of the plan (neighbouring cuts stay "
                        "together); join the parts' reports with `pybench powercut merge`")
    p.add_argument("--cluster", choices=("local",),
                   help="run the cuts on a local Dask cluster of -j worker processes")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="run the cuts on the workers of this Dask scheduler (docs/scale.md)")


def add_merge(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="powercut_action", metavar="merge", parser_class=type(p))
    m = sub.add_parser("merge", help="join shard reports into the campaign's reports")
    m.add_argument("dirs", nargs="+", type=Path, metavar="DIR",
                   help="report folders of the shards (each written with --shard K/N)")
    m.add_argument("-o", "--reports", dest="merge_out", type=Path, required=True,
                   metavar="DIR", help="write the merged JSON, JUnit, HTML and SARIF here")
    m.add_argument("-q", "--quiet", action="store_true", help="print only the file names")
    m.set_defaults(func=merge_main)


def shard_of(args: argparse.Namespace) -> Shard | None:
    if not args.shard:
        return None
    if args.cut:
        raise BenchError("--shard and --cut: a replay is one cut, not a part of a plan")
    try:
        return parse_shard(args.shard)
    except ValueError as e:
        raise BenchError(f"--shard {e}") from None


def settings(args: argparse.Namespace) -> dict[str, object]:
    """How this part of the campaign ran, for the reports (merge drops these)."""
    out: dict[str, object] = {}
    if args.shard:
        out["shard"] = str(shard_of(args))
    if args.cluster:
        out["cluster"] = args.cluster
    if args.scheduler:
        out["scheduler"] = args.scheduler
    return out


@contextlib.contextmanager
def paths_runner(args: argparse.Namespace) -> Iterator[ClusterPaths | None]:
    """The cluster's runner of cut paths for the campaign's lifetime, or None (-j)."""
    if args.cluster and args.scheduler:
        raise BenchError("--cluster local and --scheduler: choose one")
    if not (args.cluster or args.scheduler):
        yield None
        return
    with connect(args.scheduler, args.jobs) as run_paths:
        yield run_paths


def merge_main(args: argparse.Namespace) -> int:
    from pybench.powercut.merge import merge

    result, files = merge(args.dirs, args.merge_out)
    if not args.quiet:
        from pybench.powercut.cli import print_summary

        print_summary(result)
    for f in files:
        print(f"report: {f}")
    return 0 if result.golden_ok and not result.failures else 1
