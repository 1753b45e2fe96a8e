"""`pybench device`: check a device description against the device, or draft one.

    pybench device check [FILE]        boot once; a line per check; exit 1 if any failed
    pybench device show [FILE]         the description as the bench read it
    pybench device init --boot BOOT.elf [--image APP --image-addr ADDR] [-o FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pybench.chip import CHIPS
from pybench.device.check import check_device
from pybench.device.select import ENV, device_from
from pybench.errors import BenchError


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def register(sub: Any) -> None:
    p = sub.add_parser("device", help="check a device description, or draft one")
    dsub = p.add_subparsers(dest="device_command", metavar="ACTION", required=True,
                            parser_class=type(p))
    c = dsub.add_parser("check", help="boot the device once and say what works")
    c.add_argument("file", type=Path, nargs="?", help=f"the description (default: --device, "
                                                       f"${ENV} or the sample device)")
    c.add_argument("--device", type=Path, help="the description (same as FILE)")
    c.add_argument("--engine", choices=("builtin", "renode"), default="builtin")
    c.set_defaults(func=_check)

    s = dsub.add_parser("show", help="print the description as the bench read it")
    s.add_argument("file", type=Path, nargs="?")
    s.add_argument("--device", type=Path)
    s.set_defaults(func=_show)

    i = dsub.add_parser("init", help="draft a description from one boot of your firmware")
    i.add_argument("--boot", type=Path, required=True, help="bootloader ELF")
    i.add_argument("--image", type=Path, help="application image or .bin for the slot")
    i.add_argument("--image-addr", type=_int, help="where the image goes (its slot)")
    i.add_argument("--elf", type=Path, action="append", default=[],
                   help="more ELF files programmed as they are (an application ELF)")
    i.add_argument("--format", choices=("pybench", "bin"), default="bin",
                   help="the image format of the application slot (default bin)")
    i.add_argument("--time", default="3s", help="virtual time to watch (default 3s)")
    i.add_argument("--name", default="my-device")
    i.add_argument("--chip", choices=tuple(CHIPS), default="stm32f407vg")
    i.add_argument("--platform", default="stm32f407-eth.repl")
    i.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")
    i.set_defaults(func=_init)


def _path(args: argparse.Namespace) -> Path | None:
    if args.file is not None and args.device is not None and args.file != args.device:
        raise BenchError("give the description once: FILE or --device")
    return args.file or args.device


def _check(args: argparse.Namespace) -> int:
    device = device_from(_path(args))
    print(f"device {device.name} ({device.source}), {args.engine} engine", flush=True)
    findings = check_device(device, args.engine,
                            report=lambda f: print(f.line(), flush=True))
    failed = [f for f in findings if f.ok is False]
    print(f"{len(findings) - len(failed)} checks passed or skipped, {len(failed)} failed")
    return 1 if failed else 0


def _show(args: argparse.Namespace) -> int:
    d = device_from(_path(args))
    print(f"device {d.name}: {d.source}")
    print(f"  board: {d.board.platform.name}, {d.layout.chip.name}, inputs "
          f"{dict(d.board.inputs) or 'none'}, boot within {d.board.boot_timeout_ns / 1e9:g} s")
    net = d.network
    print(f"  network: {net.mac}, {net.address or 'DHCP'}/{net.prefix_len}, host {net.host}")
    for r in d.layout.regions:
        flag = ", protected" if r.protected else ""
        print(f"  region {r.name}: 0x{r.addr:08x}..0x{r.end:08x} {r.role.value}{flag}")
    print(f"  image format: {d.image.format.value}; metadata: {d.metadata.kind.value}")
    print(f"  transports: {', '.join(d.transports.names)}")
    for via, how in d.transports.restart.items():
        print(f"  restart ({via}): {how.kind.value}")
    return 0


def _init(args: argparse.Namespace) -> int:
    from pybench.device.draft import draft_toml, observe
    from pybench.device.program import write_file
    from pybench.engine.cli import make_engine, parse_duration
    from pybench.paths import platform_file

    chip = CHIPS[args.chip]
    duration = parse_duration(args.time)
    for path in [args.boot, *args.elf, *([args.image] if args.image else [])]:
        if not path.is_file():
            raise BenchError(f"{path}: no such file")
    if args.image is not None and args.image_addr is None:
        raise BenchError("--image needs --image-addr (where its slot starts)")
    platform = Path(args.platform)
    engine = make_engine("builtin", platform if platform.is_file()
                         else platform_file(args.platform))
    try:
        engine.write_flash(chip.flash_base, b"\xff" * chip.flash_size)
        engine.load_elf(args.boot)
        for elf in args.elf:
            engine.load_elf(elf)
        if args.image is not None:
            write_file(engine, args.image, args.image_addr)
        engine.power_on()
        seen = observe(engine, duration)
    finally:
        engine.close()
    text = draft_toml(args.name, chip, args.boot, args.image, args.image_addr, args.format,
                      seen, args.platform)
    if args.output:
        args.output.write_text(text)
        print(f"draft written to {args.output}; edit the TODO lines, then "
              f"`pybench device check {args.output}`", file=sys.stderr)
    else:
        print(text)
    return 0
