"""`pybench bench`: the bench's speed figures, measured and printed (what `make bench` runs).

Figures, not assertions: each line gives the measurement, the goal and whether it was
met on this machine, with the load average so that a reader can judge the run. Groups:
`engine` (instructions/s, flash words/s, snapshots, boot time), `network` (a 256 KiB
update over HTTP and over TFTP, start of upload to the new version's ready line), and
`powercut` (judged cuts per second for a 16 KiB update, with the dedup and with every
recovery run, and for a 256 KiB update; the wall time of the exhaustive campaign of a
64 KiB update on 2 cores, left out with --quick), and `scale` (the exhaustive campaign with
torn cuts of a 256 KiB update on a two-worker local Dask cluster, extrapolated from a
measured part when it would take far longer than its goal or with --quick, and the same
in 4 shards merged and compared with the unsharded report: pybench/powercut/scalebench.py).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pybench.device import load_device
from pybench.device.model import Device
from pybench.device.select import sample_device_path
from pybench.errors import BenchError
from pybench.image import signing
from pybench.image.format import padded, parse_image
from pybench.paths import build_dir

KIB = 1024
SECOND = 1_000_000_000
GROUPS = ("engine", "network", "powercut", "scale")

Figure = dict[str, Any]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="measure and print the bench's speed figures")
    p.add_argument("--only", choices=GROUPS, action="append",
                   help="run only this group (repeatable)")
    p.add_argument("--quick", action="store_true",
                   help="leave out the exhaustive campaign of a 64 KiB update on 2 cores "
                        "(about 3 minutes)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.set_defaults(func=main)


def _sample() -> Device:
    """Our sample device: the bench's figures are measured on its firmware."""
    return load_device(sample_device_path())


def _image(name: str, size: int, workdir: Path, seed: int = 7) -> Path:
    """build/<name>.img grown to `size` bytes, written into workdir."""
    src = build_dir() / f"{name}.img"
    if not src.exists():
        raise BenchError(f"{src}: missing (run `make firmware`)")
    out = workdir / f"{name}-{size // KIB}k.img"
    out.write_bytes(padded(parse_image(src.read_bytes()), size, seed,
                            key=signing.test_key()).to_bytes())
    return out


# --- engine ---------------------------------------------------------------------------------
def engine_figures() -> list[Figure]:
    from pybench.engine.builtin import benchmarks

    sample = _sample()
    assert sample.firmware.application is not None
    figures = [benchmarks.compute_mips(), benchmarks.store_mips(),
               benchmarks.flash_words_per_second(),
               benchmarks.polling_speed(), benchmarks.snapshot_restore_ms()]
    boot = benchmarks.boot_time(sample.firmware.bootloader, sample.console.ready,
                                image=sample.firmware.application.path,
                                image_addr=sample.layout.app_slot.addr)
    boot.update(name="boot to the application's ready line", goal_wall_s=1.0,
                ok=boot["ok"] and boot["wall_s"] < 1.0)
    figures.append(boot)
    for f in figures:
        f["group"] = "engine"
    return figures


# --- network --------------------------------------------------------------------------------
def update_figure(via: str, image_path: Path) -> Figure:
    from pybench.net import scenarios as sc

    image = parse_image(image_path.read_bytes())
    sample = _sample()
    engine = sc.create_board("builtin", sample)
    try:
        sc.attach(engine, sample)
        engine.power_on()
        sc.boot_and_wait(engine)
        v0, w0 = engine.now_ns, time.perf_counter()
        result = sc.upload(engine, image.to_bytes(), via=via)
        upload_wall = time.perf_counter() - w0
        sc.restart(engine, via)
        sc.wait_version(engine, image.header.image_version)
        wall, virtual = time.perf_counter() - w0, (engine.now_ns - v0) / SECOND
    finally:
        sc.detach(engine)
        engine.close()
    kib = image.total_size / KIB
    return {"group": "network", "name": f"{kib:.0f} KiB update over {via.upper()}",
            "staged": result.accepted,
            "wall_s": round(wall, 2), "virtual_s": round(virtual, 3),
            "upload_kib_per_s_wall": round(kib / upload_wall, 1),
            "goal_wall_s": 5.0, "ok": result.accepted and wall < 5.0}


def network_figures(workdir: Path) -> list[Figure]:
    image = _image("app-v2", 256 * KIB, workdir)
    return [update_figure("http", image), update_figure("tftp", image)]


# --- power cuts -----------------------------------------------------------------------------
# The same campaigns with the bootloader before signed images (main at c3a5879, issue 16),
# measured by `pybench bench --only powercut --quick` on this machine type (2 cores, load
# average 0.9-1.0), printed beside each figure: the bootloader now checks a signature in
# each golden run and in each recovery of a cut before COPIED(0) (docs/bootloader.md,
# "What a signature costs the campaigns").
BEFORE_SIGNATURES = {
    "16 KiB update, random cuts, 1 core": 120.38,
    "16 KiB update, random cuts, 1 core, every recovery run": 5.13,
    "256 KiB update over HTTP, random cuts, 1 core": 8.45,
}


def campaign_figure(name: str, argv: list[str], goal: Callable[[dict[str, Any]], bool],
                    goal_text: str, workdir: Path) -> Figure:
    from pybench.cli import main as pybench_main

    reports = workdir / name.replace(" ", "-")
    code = pybench_main([*argv, "-q", "--reports", str(reports)])
    data = json.loads((reports / "powercut.json").read_text())
    s = data["summary"]
    figure = {"group": "powercut", "name": name, "cuts": s["cuts"], "failures": s["failures"],
              "joined": s["joined"], "recoveries_run": s["recoveries_run"],
              "wall_s": s["wall_s"], "cuts_per_s": s["cuts_per_s"],
              "goal": goal_text, "ok": code == 0 and goal(s)}
    if name in BEFORE_SIGNATURES:
        figure["cuts_per_s_before_signatures"] = BEFORE_SIGNATURES[name]
    return figure


def powercut_figures(workdir: Path, quick: bool) -> list[Figure]:
    b = build_dir()
    small = _image("mini-v2", 16 * KIB, workdir)
    large = _image("app-v2", 256 * KIB, workdir)
    small_campaign = ["powercut", "--via", "backdoor", "--from", str(b / "mini-v1.img"),
                      "--to", str(small), "--ready", r"^app: mini v2 running",
                      "--plan", "random", "-j", "1"]
    figures = [
        campaign_figure("16 KiB update, random cuts, 1 core",
                        [*small_campaign, "--random", "200"],
                        lambda s: s["cuts_per_s"] >= 55, ">= 55 cuts/s", workdir),
        campaign_figure("16 KiB update, random cuts, 1 core, every recovery run",
                        [*small_campaign, "--random", "50", "--no-dedup"],
                        lambda s: True, "measured (--no-dedup)", workdir),
        campaign_figure("256 KiB update over HTTP, random cuts, 1 core",
                        ["powercut", "--via", "http", "--to", str(large),
                         "--plan", "random", "--random", "100", "-j", "1"],
                        lambda s: True, "measured", workdir),
    ]
    from pybench.engine.renode.bench_figure import both_engines_figure
    both = both_engines_figure(small_campaign, workdir)   # with Renode on PATH only
    if both is not None:
        figures.append(both)
    if not quick:
        medium = _image("app-v2", 64 * KIB, workdir)
        figures.append(campaign_figure(
            "64 KiB update over HTTP, exhaustive, 2 cores",
            ["powercut", "--via", "http", "--to", str(medium), "--plan", "exhaustive",
             "-j", "2"],
            lambda s: s["wall_s"] < 30 * 60, "< 30 min", workdir))
    return figures


# --- output ---------------------------------------------------------------------------------
def _show(console: Console, figures: list[Figure]) -> None:
    table = Table(title=f"pybench bench (load average {os.getloadavg()[0]:.1f}, "
                        f"{os.cpu_count()} cores)")
    for column in ("group", "figure", "measured", "goal met"):
        table.add_column(column)
    for f in figures:
        skip = {"group", "name", "ok"}
        measured = ", ".join(f"{k}={v}" for k, v in f.items() if k not in skip)
        table.add_row(f["group"], f["name"], measured, "yes" if f["ok"] else "NO")
    console.print(table)


def main(args: argparse.Namespace) -> int:
    groups = args.only or list(GROUPS)
    console = Console(highlight=False, width=max(120, Console().width))
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="pybench-bench-") as tmp:
        workdir = Path(tmp)
        if "engine" in groups:
            console.print("engine ...")
            figures += engine_figures()
        if "network" in groups:
            console.print("network ...")
            figures += network_figures(workdir)
        if "powercut" in groups:
            console.print("power cuts ...")
            figures += powercut_figures(workdir, args.quick)
        if "scale" in groups:
            from pybench.powercut.scalebench import scale_figures

            console.print("campaigns on a cluster and in shards ...")
            figures += scale_figures(_image("app-v2", 256 * KIB, workdir), workdir, args.quick)
    _show(console, figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0
