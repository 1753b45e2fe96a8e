"""`pybench boot`: load a board, power it on, run it, show its console.

    pybench boot [--device FILE] [--boot BOOT.elf] [--image APP.img | --elf X.elf ...]
                 [--platform FILE.repl] [--time 2s] [--until REGEX]
                 [--engine builtin|renode] [--gdb PORT]

The board is programmed as the device description says (its bootloader, its application
in its slot, its GPIO inputs held); --boot, --image, --elf and --platform replace parts.

Exit status 0 when --until matched (or the time ran out without --until), 1 otherwise.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from pybench.device.model import Device
from pybench.device.program import hold_inputs, write_file
from pybench.device.select import add_device_option, device_from
from pybench.engine.base import Engine, RunResult, StopReason
from pybench.errors import BenchError

_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s)?\s*$")


def parse_duration(text: str) -> int:
    """'2s', '150ms', '20us', '500ns' (a bare number is seconds) -> nanoseconds."""
    m = _DURATION.match(text)
    if not m:
        raise BenchError(f"--time: cannot read {text!r} as a duration (e.g. 2s, 150ms)")
    return round(float(m.group(1)) * _UNITS[m.group(2) or "s"])


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "boot", help="boot the board in an emulator and show its console",
        description="Load the bootloader and an application (image or ELF files), power"
                    " on, run for a virtual time or until a console line matches.")
    add_device_option(p)
    p.add_argument("--boot", type=Path, default=None,
                   help="bootloader ELF (default: the description's, unless --elf is given)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--image", type=Path, default=None,
                       help="application image put in the application slot"
                            " (default: the description's, unless --elf is given)")
    group.add_argument("--elf", type=Path, action="append", default=[],
                       help="ELF file(s) programmed as they are (repeatable)")
    p.add_argument("--platform", type=Path, default=None,
                   help="board description (default: the description's board.platform)")
    p.add_argument("--time", default="2s", help="virtual time to run (default 2s)")
    p.add_argument("--until", default=None, metavar="REGEX",
                   help="stop at the first console line matching REGEX")
    p.add_argument("--engine", choices=("builtin", "renode"), default="builtin")
    p.add_argument("--gdb", type=int, default=None, metavar="PORT",
                   help="serve a GDB remote on PORT instead of running (built-in engine)")
    p.set_defaults(func=boot)


def _files(args: argparse.Namespace, device: Device) -> tuple[list[Path], Path | None]:
    """ELF files to program, in order, and the image for the application slot."""
    elfs: list[Path] = []
    if args.boot is not None:
        elfs.append(args.boot)
    elif not args.elf:
        elfs.append(device.firmware.bootloader)
    elfs += args.elf
    app = device.firmware.application
    image = args.image if args.image is not None else (
        None if args.elf or app is None else app.path)
    for path in [*elfs, *([image] if image else [])]:
        if not path.exists():
            raise BenchError(f"{path}: no such file")
        if not path.is_file():
            raise BenchError(f"{path}: not a regular file (an ELF or an image is expected)")
        if path.stat().st_size == 0:
            raise BenchError(f"{path}: empty file")
    return elfs, image


def make_engine(kind: str, platform: Path) -> Engine:
    if kind == "renode":
        try:
            from pybench.engine import renode
        except ImportError as e:
            raise BenchError(f"--engine renode: the Renode engine is not available ({e})") \
                from None
        return renode.create_engine(platform)
    from pybench.engine.builtin.engine import BuiltinEngine

    eng = BuiltinEngine()
    eng.load_platform(platform)
    return eng


def boot(args: argparse.Namespace) -> int:
    duration = parse_duration(args.time)
    try:
        until = re.compile(args.until) if args.until is not None else None
    except re.error as e:
        raise BenchError(f"--until: bad regular expression {args.until!r}: {e}") from None
    device = device_from(args.device)
    elfs, image = _files(args, device)
    eng = make_engine(args.engine, args.platform or device.board.platform)
    try:
        lay = device.layout
        eng.write_flash(lay.FLASH_BASE_ADDR, b"\xff" * lay.FLASH_TOTAL_SIZE)
        for elf in elfs:
            eng.load_elf(elf)
        if image is not None:
            app = device.firmware.application
            write_file(eng, image, app.addr if app and app.addr is not None
                       else lay.app_slot.addr)
        hold_inputs(eng, device)
        eng.power_on()
        if args.gdb is not None:
            from pybench.engine.builtin import gdbstub

            gdbstub.serve(eng, args.gdb, announce=lambda s: print(s, flush=True))
            return 0
        result, matched = run_and_print(eng, duration, until)
        print(summary(eng, result), flush=True)
    finally:
        eng.close()
    if until is not None:
        return 0 if matched else 1
    return 0 if result.reason == StopReason.DEADLINE else 1


def run_and_print(eng: Engine, duration: int, until: re.Pattern[str] | None,
                  out: Any = None) -> tuple[RunResult, bool]:
    """Run, printing console lines as they come; (result, whether `until` matched)."""
    out = out or sys.stdout
    shown = len(eng.uart().lines)
    matched = False

    def step() -> bool:
        nonlocal shown, matched
        lines = eng.uart().lines
        for line in lines[shown:]:
            print(line, file=out, flush=True)
            if until is not None and until.search(line):
                matched = True
        shown = len(lines)
        return matched

    result = eng.run(duration, step)
    step()
    return result, matched


def summary(eng: Engine, result: RunResult) -> str:
    faults = [e for e in eng.events() if e.kind == "fault"]
    text = (f"boot: {result.reason.value} at {result.time_ns / 1e6:.3f} ms virtual"
            f"{' (' + result.detail + ')' if result.detail else ''}; faults: {len(faults)}")
    if faults:
        text += f" (last: {faults[-1].detail})"
    return text
