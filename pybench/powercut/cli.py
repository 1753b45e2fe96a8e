"""`pybench powercut`: run a power-cut campaign, or replay one cut with --cut."""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
from collections.abc import Callable
from pathlib import Path

from pybench.device.select import add_device_option, device_from
from pybench.engine.base import CutMode, Engine
from pybench.errors import BenchError
from pybench.powercut import chain, content, export, report, scale, wear
from pybench.powercut.campaign import (
    CampaignConfig,
    CampaignResult,
    prepared_runner,
    run_campaign,
)
from pybench.powercut.cutspec import CutPath, format_path, parse_path
from pybench.powercut.phases import parse_phases
from pybench.powercut.plan import PlanKind, PlanOptions
from pybench.powercut.runner import Checks
from pybench.powercut.scenario import Extras, Scenario, make_scenario

ENGINES = {"builtin": ("pybench.engine.builtin.engine", "BuiltinEngine"),
           "renode": ("pybench.engine.renode", "RenodeEngine")}
DEFAULT_SOAK_S = 0.2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("powercut", help="cut power at flash operations of an update and judge "
                                        "every recovery")
    add_device_option(p)
    p.add_argument("--boot", type=Path, default=None,
                   help="bootloader ELF (default: the description's)")
    p.add_argument("--from", dest="old", type=Path, default=None,
                   help="image in the application slot before the update (default: the "
                        "description's old image)")
    p.add_argument("--to", dest="new", type=Path, default=None,
                   help="image the update installs (default: the description's new image)")
    p.add_argument("--via", choices=("http", "tftp", "backdoor"), default="http",
                   help="how the image arrives (backdoor: written into staging, copy-down only)")
    p.add_argument("--content-fault", choices=sorted(content.FAULTS), metavar="FAULT",
                   help="damage the new image (" + ", ".join(content.FAULTS) + "); with "
                        "--via backdoor it is staged with the record that says staged. The "
                        "update must be refused")
    p.add_argument("--expect", choices=("new", "old"),
                   help="how the update must end: new installed, or old kept (default: old "
                        "with --content-fault, else new)")
    p.add_argument("--at-rest", choices=("slot", "staging"),
                   help="a bit flips at rest: in the installed image between boots (the "
                        "bootloader must recover it from staging; --via backdoor), or in the "
                        "staged image after staging (it must be refused)")
    p.add_argument("--journal-fill", type=int, default=0, metavar="N",
                   help="journal history before the update: sector B full of older records, "
                        "sector A N more, so the update's records compact into B")
    p.add_argument("--plan", choices=[k.value for k in PlanKind], default="boundaries")
    p.add_argument("--random", type=int, default=0, metavar="N",
                   help="N seeded random cuts (added to the plan; the whole of --plan random)")
    p.add_argument("--torn", action="store_true", help="add torn cuts at the planned operations")
    p.add_argument("--torn-progress", default="0.5", metavar="P[,P...]",
                   help="how far torn operations got, 0..1 (default 0.5)")
    p.add_argument("--phase", help="only cut in these phases: staging,journal,copy-down,...")
    p.add_argument("--depth", type=int, default=1, metavar="N",
                   help="cut again during the recovery, down to N cuts in a row")
    p.add_argument("--depth-samples", type=int, default=8, metavar="N",
                   help="most follow-up cuts per recovery run (sampled with the seed)")
    p.add_argument("--seed", type=int, default=1, help="seed of every random choice")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="worker processes")
    p.add_argument("--cut", metavar="INDEX[:MODE[:PROGRESS[:SEED]]][,...]",
                   help="replay one cut (levels separated by commas), print its log and verdict")
    p.add_argument("--export", type=Path, metavar="FILE",
                   help="with --cut: write the flash the cut left as FILE.bin and FILE.hex, "
                        "and print the st-flash and openocd commands that program a board")
    p.add_argument("--reports", type=Path, metavar="DIR",
                   help="write powercut.json, powercut-junit.xml, powercut.html and flash.bin "
                        "of failing cuts here")
    p.add_argument("--engine", choices=tuple(ENGINES), default="builtin")
    p.add_argument("--platform", type=Path, default=None, help="board description (.repl)")
    p.add_argument("--bound", type=float, default=None, metavar="SECONDS",
                   help="virtual time a recovery may take (default: the description's "
                        "oracle.recovery_bound_s)")
    p.add_argument("--ready", default=None, metavar="REGEX",
                   help="the application's ready line (default: the description's "
                        "console.ready)")
    p.add_argument("--snapshot-every", type=float, default=0.0, metavar="MS",
                   help="snapshots of the golden run inside resumable steps start every MS "
                        "of virtual time (0: 2 ms; the spacing doubles as they accumulate)")
    p.add_argument("--no-dedup", dest="dedup", action="store_false",
                   help="run every recovery, also of states already judged (slow: checks "
                        "the dedup)")
    p.add_argument("--no-reboots", dest="reboots", action="store_false",
                   help="judge each recovery alone (default: boot it again by a reset and a "
                        "power cycle: no flash written, the same image starts)")
    p.add_argument("--soak", type=float, default=DEFAULT_SOAK_S, metavar="SECONDS",
                   help="after the power cycle, the application must run this long in "
                        "virtual time without a reset (default 0.2; 0: not checked)")
    p.add_argument("--chain", metavar="IMAGE[+FAULT][,...]",
                   help="updates in a row after --from: each an image role of the "
                        "description (new, newer...) or file, +FAULT for a damaged one that "
                        "must be refused (+old: refused though sound); every flash "
                        "operation of the chain is a cut candidate")
    p.add_argument("--flash-fault", metavar="KIND[,KIND...]",
                   help="flash failures instead of power cuts, at the planned operations: "
                        f"{', '.join(FAULT_KINDS)} or all (the board runs on after each)")
    p.add_argument("--repair", default=None, metavar="REGEX",
                   help="console lines that show the bootloader's repair path (reported; "
                        "default: the description's console.repair)")
    p.add_argument("--repair-fails", action="store_true",
                   help="a recovery that went through the repair path fails (verdict "
                        "repaired)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    scale.add_options(p)
    p.set_defaults(func=main)
    scale.add_merge(p)


def engine_factory(name: str) -> Callable[[], Engine]:
    module_name, class_name = ENGINES[name]
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ModuleNotFoundError, AttributeError) as e:
        raise BenchError(f"--engine {name}: not available in this checkout ({e})") from None

    def make() -> Engine:
        engine: Engine = cls()
        return engine

    return make


def plan_options(args: argparse.Namespace) -> PlanOptions:
    try:
        progress = tuple(float(x) for x in args.torn_progress.split(","))
    except ValueError:
        raise BenchError(f"--torn-progress {args.torn_progress!r}: not numbers") from None
    if any(not 0.0 <= x <= 1.0 for x in progress):
        raise BenchError(f"--torn-progress {args.torn_progress!r}: values must be in 0..1")
    kind = PlanKind(args.plan)
    count = args.random or (50 if kind is PlanKind.RANDOM else 0)
    for name in ("random", "depth_samples", "snapshot_every"):
        if getattr(args, name) < 0:
            raise BenchError(f"--{name.replace('_', '-')} must be 0 or more")
    if args.depth < 1 or args.jobs < 1:
        raise BenchError("--depth and --jobs must be 1 or more")
    try:
        phases = parse_phases(args.phase) if args.phase else None
    except ValueError as e:
        raise BenchError(f"--phase: {e}") from None
    faults = parse_faults(args.flash_fault) if args.flash_fault else ()
    if faults and (args.torn or args.depth > 1):
        raise BenchError("--flash-fault: no --torn or --depth with it (the board stays on: "
                         "there is no recovery to cut)")
    return PlanOptions(kind=kind, seed=args.seed, random_count=count, torn=args.torn,
                       torn_progress=progress, phases=phases, depth=args.depth,
                       depth_samples=args.depth_samples, faults=faults)


FAULT_KINDS = tuple(m.value for m in CutMode if m.is_fault)


def parse_faults(text: str) -> tuple[CutMode, ...]:
    names = [n.strip() for n in text.split(",")]
    if names == ["all"]:
        names = list(FAULT_KINDS)
    bad = [n for n in names if n not in FAULT_KINDS]
    if bad or not names:
        raise BenchError(f"--flash-fault {text!r}: choose from {', '.join(FAULT_KINDS)} "
                         "or all")
    return tuple(dict.fromkeys(CutMode(n) for n in names))


def repro_base(args: argparse.Namespace, device_path: str) -> str:
    words = ["pybench", "powercut", "--device", device_path, "--via", args.via,
             "--engine", args.engine]
    for flag, value in (("--boot", args.boot), ("--from", args.old), ("--to", args.new),
                        ("--platform", args.platform), ("--ready", args.ready)):
        if value is not None:
            words += [flag, str(value)]
    if args.content_fault or args.at_rest or args.chain:
        words += ["--seed", str(args.seed)]
    if args.content_fault:
        words += ["--content-fault", args.content_fault]
    if args.at_rest:
        words += ["--at-rest", args.at_rest]
    if args.journal_fill:
        words += ["--journal-fill", str(args.journal_fill)]
    if args.chain:
        words += ["--chain", args.chain]
    if args.expect:
        words += ["--expect", args.expect]
    if not args.reboots:
        words += ["--no-reboots"]
    if args.repair_fails:
        words += ["--repair-fails"]
    if args.soak != DEFAULT_SOAK_S:
        words += ["--soak", f"{args.soak:g}"]
    if args.bound is not None:
        words += ["--bound", f"{args.bound:g}"]
    return shlex.join(words)


def check_reports_folder(folder: Path) -> None:
    """Refuse a --reports that cannot hold the reports now, not after the campaign."""
    if folder.exists() and not folder.is_dir():
        raise BenchError(f"--reports {folder}: exists and is not a folder")
    parent = next((p for p in folder.parents if p.exists()), None)
    if not folder.exists() and parent is not None and not parent.is_dir():
        raise BenchError(f"--reports {folder}: {parent} is not a folder")


def config_from(args: argparse.Namespace) -> CampaignConfig:
    if args.reports:
        check_reports_folder(args.reports)
    device = device_from(args.device)
    make_engine = engine_factory(args.engine)
    if args.bound is not None and args.bound <= 0:
        raise BenchError("--bound must be more than 0 seconds")
    if args.ready is not None:
        try:
            re.compile(args.ready)
        except re.error as e:
            raise BenchError(f"--ready: bad regular expression {args.ready!r}: {e}") from None
    if args.soak < 0:
        raise BenchError("--soak must be 0 or more seconds")
    repair = args.repair if args.repair is not None else device.console.repair or ""
    try:
        re.compile(repair)
    except re.error as e:
        raise BenchError(f"--repair {repair!r}: not a regular expression ({e})") from None

    try:
        links = chain.parse(args.chain) if args.chain else ()
    except ValueError as e:
        raise BenchError(f"--chain {e}") from None

    def make() -> Scenario:
        sc = make_scenario(args.via, device, args.boot, args.old, args.new, args.platform,
                           args.content_fault, args.expect, args.seed,
                           Extras(args.at_rest, args.journal_fill, links))
        if args.ready is not None:
            sc.ready = args.ready
        if args.bound is not None:
            sc.bound_ns = int(args.bound * 1e9)
        return sc

    sc = make()  # check the files now, before any engine starts
    settings: dict[str, object] = {
        "device": str(device.source), "boot": str(sc.boot), "from": str(sc.old_path),
        "to": str(sc.new_path), "via": args.via, "engine": args.engine,
        "platform": str(sc.platform), "bound_s": sc.bound_ns / 1e9, "ready": sc.ready,
        "jobs": args.jobs, "reboots": args.reboots, "soak_s": args.soak,
        "content_fault": args.content_fault, "expect": sc.expect, "at_rest": args.at_rest,
        "journal_fill": args.journal_fill, "flash_faults": args.flash_fault,
        "chain": args.chain,
        **scale.settings(args)}
    return CampaignConfig(
        make_engine=make_engine, make_scenario=make, options=plan_options(args),
        jobs=args.jobs, snapshot_every_ns=int(args.snapshot_every * 1e6), dedup=args.dedup,
        flash_dir=args.reports / "cuts" if args.reports else None, quiet=args.quiet,
        repro=repro_base(args, str(device.source)), settings=settings,
        checks=Checks(args.reboots, int(args.soak * 1e9), repair, args.repair_fails),
        shard=scale.shard_of(args))


def print_summary(result: CampaignResult) -> None:
    g = result.golden
    print(f"golden run: {g.judgement.verdict.value}: {g.judgement.reason} "
          f"({len(g.trace)} flash operations)")
    if not result.golden_ok:
        want = "install the new image" if g.facts.expect == "new" else "keep the old image"
        print(f"the golden run did not {want}: no cuts were made")
        print(g.uart, end="" if g.uart.endswith("\n") else "\n")
        return
    s = report.summary(result)
    verdicts = ", ".join(f"{k} {v}" for k, v in s["verdicts"].items())
    print(f"seed {result.config.options.seed}: {s['cuts']} cuts ({verdicts}), "
          f"{s['joined']} joined a judged state ({s['recoveries_run']} recoveries run), "
          f"{s['wall_s']} s, {s['cuts_per_s']} cuts/s")
    print(wear.describe(s["wear"]))
    repaired = [r for r in result.results if r.repaired and r.verdict.ok]
    if repaired:
        print(f"{len(repaired)} cuts recovered through a repair path, e.g. "
              f"{format_path(repaired[0].path)}: {repaired[0].repaired!r}")
    for r in result.failures:
        print(f"FAIL {format_path(r.path)} [{r.phase}] {r.verdict.value}: {r.reason}")
        print(f"  replay: {result.repro(r.path)}")


def replay(config: CampaignConfig, path: CutPath, export_to: Path | None = None) -> int:
    runner = prepared_runner(config)
    g = runner.golden
    if not runner.golden_ok():
        raise BenchError(f"golden run failed ({g.judgement.verdict.value}: "
                         f"{g.judgement.reason}): nothing to replay")
    if path[0].op_index >= len(g.trace):
        raise BenchError(f"--cut {format_path(path)}: the golden run has only {len(g.trace)} "
                         "flash operations")
    r = runner.run(path)
    print(r.uart, end="" if r.uart.endswith("\n") else "\n")
    if export_to is not None and runner.cut_flash:
        bin_path, hex_path, commands = export.write(runner.cut_flash,
                                                    runner.layout.FLASH_BASE_ADDR, export_to)
        print(f"flash the cut left: {bin_path}, {hex_path}; program a board with")
        for c in commands:
            print(f"  {c}")
    print(f"cut {format_path(path)} [{r.phase}] at {r.op}: {r.verdict.value}: {r.reason}")
    if r.flash_file and config.flash_dir:
        print(f"flash after recovery: {config.flash_dir / r.flash_file}")
    return 0 if r.verdict.ok else 1


def main(args: argparse.Namespace) -> int:
    if args.export and not args.cut:
        raise BenchError("--export needs --cut (the flash of which cut?)")
    config = config_from(args)
    if args.cut:
        try:
            path = parse_path(args.cut)
        except ValueError as e:
            raise BenchError(f"--cut: {e}") from None
        return replay(config, path, args.export)
    with scale.paths_runner(args) as run_paths:
        if run_paths is not None:
            config.run_paths = run_paths
        result = run_campaign(config)
    print_summary(result)
    if args.reports:
        for f in report.write_reports(result, args.reports):
            print(f"report: {f}")
    return 0 if result.golden_ok and not result.failures else 1
