"""`pybench demo`: the bench's main job in one run, the one `make demo` starts.

Boot a device (by default our sample device, from its description) with its old image in
the built-in engine, update it to its new image over HTTP and to its newer one over TFTP
(each: upload, staged, restart, copy-down, the new version on the network), then a
power-cut sweep over one update, and a report. Every step uses the
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

from pybench.device.model import Device
from pybench.device.select import add_device_option, device_from
from pybench.errors import BenchError
from pybench.image.files import read_image
from pybench.net import scenarios as sc
from pybench.net.cli import image_version

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
    add_device_option(p)
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


def _update(engine, device: Device, role: str, via: str) -> str:  # type: ignore[no-untyped-def]
    found = device.firmware.images.get(role)
    if found is None:
        raise BenchError(f"{device.source}: firmware.images has no {role!r} image")
    data = read_image(found.path)
    version = found.version if found.version is not None else image_version(device, data)
    result = sc.upload(engine, data, via=via)
    if not result.accepted:
        raise BenchError(f"upload refused: {result.status} {result.reason} {result.staging}")
    how = sc.restart(engine, via)
    sc.wait_version(engine, version)
    slot = device.layout.app_slot
    if engine.read_flash(slot.addr, len(data)) != data:
        raise BenchError(f"the {slot.name} region does not hold the uploaded image")
    which = f"v{version}" if version is not None else "the new image"
    return (f"{found.path.name} ({len(data)} bytes) staged ({result.staging or result.reason}),"
            f" restart ({how}), {which} on the network")


def run_updates(report: DemoReport, console: Console, reports: Path, device: Device) -> None:
    engine = sc.create_board("builtin", device)
    sc.attach(engine, device, seed=1, pcap=reports / "updates.pcap")
    engine.power_on()
    clock = lambda: engine.now_ns  # noqa: E731 - read at each step's start and end
    try:
        _timed(report, console, clock, "boot the old image", lambda: sc.boot_and_wait(engine))
        _timed(report, console, clock, "ping",
               lambda: f"{len(sc.ping(engine, count=3))} replies")
        if "http" in device.transports.names and "new" in device.firmware.images:
            _timed(report, console, clock, "update to the new image over HTTP",
                   lambda: _update(engine, device, "new", "http"))
        if "tftp" in device.transports.names and "newer" in device.firmware.images:
            _timed(report, console, clock, "update to the newer image over TFTP",
                   lambda: _update(engine, device, "newer", "tftp"))
    finally:
        (reports / "updates.uart.log").write_text(engine.uart().text)
        sc.detach(engine)
        engine.close()


def run_sweep(report: DemoReport, console: Console, reports: Path, args: argparse.Namespace,
              device: Device) -> None:
    from pybench.cli import main as pybench_main

    via = "http" if "http" in device.transports.names else device.transports.names[0]
    argv = ["powercut", "--device", str(device.source), "--via", via, "--plan", args.plan,
            "--torn",
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
    device = device_from(args.device)
    reports: Path = args.reports
    reports.mkdir(parents=True, exist_ok=True)
    report = DemoReport()
    console.print(f"[bold]pybench demo[/]: {device.name} ({device.source}) on the built-in "
                  "engine")
    run_updates(report, console, reports, device)
    if not args.no_sweep:
        run_sweep(report, console, reports, args, device)

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
