"""`pybench demo`: the bench's main job in one run, the one `make demo` starts.

Boot the real bootloader and application v1 in the built-in engine, update to v2 over
HTTP and to v3 over TFTP (each: upload, staged, reboot, copy-down, the new version on
the network), then a power-cut sweep over one update, and a report. Every step uses the
same functions as the tests and the other commands, and the sweep is literally
`pybench powercut ...`, printed so that it can be typed again.
"""

from __future__ import annotations

import argparse
import json
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pybench import journal, layout
from pybench.errors import BenchError
from pybench.image.format import parse_image
from pybench.net import scenarios as sc
from pybench.paths import build_dir, platform_file

SECOND = 1_000_000_000


@dataclass
class Step:
    name: str
    ok: bool
    detail: str
    virtual_s: float
    wall_s: float


@dataclass
class DemoReport:
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="boot, update over HTTP and TFTP, power-cut sweep, report")
    p.add_argument("--reports", type=Path, default=Path("reports/demo"),
                   help="where the logs, captures and campaign reports go")
    p.add_argument("--plan", default="boundaries", help="power-cut plan of the sweep")
    p.add_argument("-j", "--jobs", type=int, default=2, help="workers of the sweep")
    p.add_argument("--seed", type=int, default=1, help="seed of the sweep")
    p.add_argument("--no-sweep", action="store_true", help="skip the power-cut sweep")
    p.set_defaults(func=main)


def _timed(report: DemoReport, console: Console, engine_time: Callable[[], int], name: str,
           action: Callable[[], str]) -> bool:
    """Run one step, record whether it did what it should and how long it took."""
    v0, w0 = engine_time(), time.perf_counter()
    try:
        detail, ok = action(), True
    except BenchError as e:
        detail, ok = str(e), False
    step = Step(name, ok, detail, (engine_time() - v0) / SECOND, time.perf_counter() - w0)
    report.steps.append(step)
    mark = "[green]ok[/]" if ok else "[red]FAILED[/]"
    console.print(f"{mark}  {name}: {detail}  ({step.virtual_s:.3f} s virtual, "
                  f"{step.wall_s:.2f} s wall)")
    return ok


def _update(engine, image_path: Path, via: str) -> str:  # type: ignore[no-untyped-def]
    image = parse_image(sc.read_image(image_path))
    version = image.header.image_version
    result = sc.upload(engine, image.to_bytes(), via=via)
    if result.via == "http" and result.status != 202:
        raise BenchError(f"upload refused: {result.status} {result.reason}")
    if "staged" not in (result.staging or ""):
        raise BenchError(f"not staged: {result.staging or result.reason}")
    if via == "http":
        status = sc.reboot(engine)
        if status != 202:
            raise BenchError(f"POST /reboot answered {status}")
    else:
        # TFTP has no reboot request of its own; the web server is always there for it.
        sc.reboot(engine)
    sc.wait_version(engine, version)
    slot = layout.load().app_slot
    if engine.read_flash(slot.addr, image.total_size) != image.to_bytes():
        raise BenchError("the application slot does not hold the uploaded image")
    view = journal.read_view(engine.read_flash)
    return (f"{image_path.name} ({image.total_size} bytes) staged, copied down, "
            f"v{version} on the network; journal {view.state.name}")


def run_updates(report: DemoReport, console: Console, reports: Path) -> None:
    build = build_dir()
    engine = sc.create_board("builtin", build / "boot.elf", build / "app-v1.img",
                             platform_file())
    sc.attach(engine, seed=1, pcap=reports / "updates.pcap")
    engine.power_on()
    clock = lambda: engine.now_ns  # noqa: E731 - read at each step's start and end
    try:
        _timed(report, console, clock, "boot v1", lambda: sc.boot_and_wait(engine))
        _timed(report, console, clock, "ping",
               lambda: f"{len(sc.ping(engine, count=3))} replies")
        _timed(report, console, clock, "update to v2 over HTTP",
               lambda: _update(engine, build / "app-v2.img", "http"))
        _timed(report, console, clock, "update to v3 over TFTP",
               lambda: _update(engine, build / "app-v3.img", "tftp"))
    finally:
        (reports / "updates.uart.log").write_text(engine.uart().text)
        sc.detach(engine)
        engine.close()


def run_sweep(report: DemoReport, console: Console, reports: Path, args: argparse.Namespace
              ) -> None:
    from pybench.cli import main as pybench_main

    argv = ["powercut", "--via", "http", "--plan", args.plan, "--torn",
            "-j", str(args.jobs), "--seed", str(args.seed), "--reports", str(reports / "powercut")]
    console.print(f"\npower-cut sweep: pybench {shlex.join(argv)}")
    w0 = time.perf_counter()
    code = pybench_main(argv)
    summary = reports / "powercut" / "powercut.json"
    detail = f"report {reports / 'powercut' / 'powercut.html'}"
    if summary.exists():
        s = json.loads(summary.read_text())["summary"]
        verdicts = ", ".join(f"{n} {v}" for v, n in s["verdicts"].items())
        detail = (f"{s['cuts']} cuts, {s['failures']} failures ({verdicts}; {s['joined']} "
                  f"joined a judged state), {s['cuts_per_s']} cuts/s; {detail}")
    report.steps.append(Step("power-cut sweep", code == 0, detail, 0.0,
                             time.perf_counter() - w0))


def main(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    reports: Path = args.reports
    reports.mkdir(parents=True, exist_ok=True)
    report = DemoReport()
    console.print("[bold]pybench demo[/]: bootloader + application v1 on the built-in engine")
    run_updates(report, console, reports)
    if not args.no_sweep:
        run_sweep(report, console, reports, args)

    table = Table(title="pybench demo")
    for column in ("step", "result", "virtual s", "wall s", "detail"):
        table.add_column(column)
    for s in report.steps:
        table.add_row(s.name, "ok" if s.ok else "FAILED", f"{s.virtual_s:.3f}",
                      f"{s.wall_s:.2f}", s.detail)
    console.print(table)
    (reports / "demo.json").write_text(json.dumps(
        {"ok": report.ok, "steps": [s.__dict__ for s in report.steps]}, indent=2))
    console.print(f"reports: {reports}/ (demo.json, updates.uart.log, updates.pcap, powercut/)")
    return 0 if report.ok else 1
