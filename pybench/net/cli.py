"""`pybench update`, `pybench ping` and `pybench bridge`: the board over the network.

update: boot the board with the old image, upload the new one (HTTP multipart or raw,
or TFTP) with a progress bar, reboot, wait for the new version's "net: up", summarise.
ping: boot and ping. bridge: boot and bridge the board to a TAP in a network namespace
so that curl, tftp or a browser run with `ip netns exec NS ...` reach it.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from pybench import layout
from pybench.engine.base import Engine
from pybench.errors import BenchError
from pybench.net import scenarios
from pybench.net.host import DEVICE_IP, HOST_MAC
from pybench.net.upload import MODES, VIAS
from pybench.net.wire import BoardStopped
from pybench.paths import build_dir, platform_file

SECOND = 1_000_000_000


def _board_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=("builtin", "renode"), default="builtin")
    p.add_argument("--boot", type=Path, help="bootloader ELF (default build/boot.elf)")
    p.add_argument("--from", dest="old", type=Path,
                   help="image in the application slot at start (default build/app-v1.img)")
    p.add_argument("--platform", type=Path, help="platform description (default "
                   "platforms/stm32f407-eth.repl)")
    p.add_argument("--pcap", type=Path, help="record the wire here (and the console next "
                   "to it, as .uart.log)")
    p.add_argument("--seed", type=int, default=0, help="seed of the host's random choices")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    u = sub.add_parser("update", help="upload a new image over HTTP or TFTP, reboot, check")
    u.add_argument("image", type=Path, help="the new image (pybench image create)")
    u.add_argument("--via", choices=VIAS, default="http")
    u.add_argument("--mode", choices=MODES, default="multipart",
                   help="HTTP body: a browser's form upload or the raw image")
    u.add_argument("--no-reboot", action="store_true", help="stop once the image is staged")
    _board_options(u)
    u.set_defaults(func=_update)

    p = sub.add_parser("ping", help="boot the board and ping it")
    p.add_argument("-c", "--count", type=int, default=4)
    p.add_argument("-s", "--size", type=int, default=56, help="ICMP payload bytes")
    _board_options(p)
    p.set_defaults(func=_ping)

    b = sub.add_parser("bridge", help="bridge the board to a TAP in a network namespace")
    b.add_argument("--netns", default="pybench", help="namespace name (default pybench)")
    b.add_argument("--duration", type=float, help="seconds of wall time (default: until ^C)")
    _board_options(b)
    b.set_defaults(func=_bridge)


def _start(args: argparse.Namespace) -> Engine:
    boot = args.boot or build_dir() / "boot.elf"
    old = args.old or build_dir() / "app-v1.img"
    engine = scenarios.create_board(args.engine, boot, old, args.platform or platform_file())
    scenarios.attach(engine, seed=args.seed, pcap=args.pcap)
    engine.power_on()
    return engine


def _finish(engine: Engine, args: argparse.Namespace) -> None:
    if args.pcap:
        uart = args.pcap.with_suffix(".uart.log")
        uart.write_text(engine.uart().text)
    scenarios.detach(engine)
    engine.close()


def _image_version(image: bytes) -> int | None:
    from pybench.image.format import ImageError, ImageHeader
    try:
        return ImageHeader.unpack(image).image_version
    except (ImageError, ValueError):
        return None


def _update(args: argparse.Namespace) -> int:
    image = scenarios.read_image(args.image)
    if not image:
        raise BenchError(f"{args.image}: empty file, nothing to upload")
    if len(image) > layout.load().IMAGE_MAX_SIZE:
        print(f"note: {args.image} is larger than the application slot; expect a refusal")
    console = Console()
    engine = _start(args)
    try:
        return _update_on(engine, image, args, console)
    except BoardStopped as e:
        # The board faulted or halted (a bad image, a bootloader that stops): a finding
        # about the device, told in one line.
        console.print(f"update: {e}")
        return 1
    finally:
        _finish(engine, args)


def _update_on(engine: Engine, image: bytes, args: argparse.Namespace, console: Console) -> int:
    line = scenarios.boot_and_wait(engine)
    console.print(f"board up: {line}")
    t0_virtual, t0_wall = engine.now_ns, time.monotonic()
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TextColumn("{task.fields[rates]}"), TimeElapsedColumn(),
                  console=console, transient=False) as bar:
        task = bar.add_task(f"{args.via} {args.image.name}", total=None, rates="")

        def progress(sent: int, total: int) -> None:
            virtual = max(1, engine.now_ns - t0_virtual) / SECOND
            wall = max(1e-6, time.monotonic() - t0_wall)
            bar.update(task, completed=sent, total=total,
                       rates=f"{sent / 1024 / virtual:8.1f} KiB/s virtual "
                             f"{sent / 1024 / wall:8.1f} KiB/s wall")

        result = scenarios.upload(engine, image, via=args.via, mode=args.mode,
                                  progress=progress, filename=args.image.name)
    virtual_s = (engine.now_ns - t0_virtual) / SECOND
    wall_s = time.monotonic() - t0_wall
    console.print(f"upload: {result.via} status {result.status}: {result.reason}"
                  + (f" | {result.staging}" if result.staging else ""))
    console.print(f"        {result.bytes_sent} bytes in {virtual_s:.3f} s virtual, "
                  f"{wall_s:.1f} s wall")
    if not result.accepted:
        console.print("update: the device did not stage the image")
        return 1
    if args.no_reboot:
        return 0
    status = scenarios.reboot(engine)
    if status != 202:
        console.print(f"update: POST /reboot answered {status}")
        return 1
    version = _image_version(image)
    if version is None:
        raise BenchError(f"{args.image}: no readable header, cannot tell which version "
                         "to wait for")
    scenarios.wait_version(engine, version)
    console.print(f"update: v{version} runs and is on the network "
                  f"(virtual time {engine.now_ns / SECOND:.3f} s)")
    return 0


def _ping(args: argparse.Namespace) -> int:
    if not 1 <= args.count <= 10000 or not 0 <= args.size <= 1472:
        raise BenchError("ping: --count must be 1..10000 and --size 0..1472")
    engine = _start(args)
    try:
        scenarios.boot_and_wait(engine)
        for seq, rtt in enumerate(scenarios.ping(engine, args.count, args.size), 1):
            print(f"{args.size + 8} bytes from {DEVICE_IP}: icmp_seq={seq} "
                  f"time={rtt / 1000:.1f} us (virtual)")
        return 0
    finally:
        _finish(engine, args)


def _bridge(args: argparse.Namespace) -> int:
    from pybench.net.tap import (
        Namespace,
        TapBridge,
        TapPort,
        TapUnavailable,
        tap_unavailable_reason,
    )

    reason = tap_unavailable_reason()
    if reason:
        raise TapUnavailable(f"bridge: {reason}")
    engine = _start(args)
    b = scenarios.bench(engine)
    try:
        with Namespace(args.netns) as ns:
            port = TapPort(ns, f"pb-{args.netns}"[:15], "192.168.7.1/24", HOST_MAC)
            try:
                bridge = TapBridge(engine, port, recorder=b.recorder)
                print(f"bridge: board at {DEVICE_IP}, reach it from namespace {args.netns}, "
                      f"e.g.\n  ip netns exec {args.netns} curl http://{DEVICE_IP}/status\n"
                      f"  ip netns exec {args.netns} curl -F image=@build/app-v2.img "
                      f"http://{DEVICE_IP}/update\n  ip netns exec {args.netns} tftp -m binary "
                      f"{DEVICE_IP} -c put build/app-v3.img app-v3.img", flush=True)
                with contextlib.suppress(KeyboardInterrupt):
                    bridge.run(lambda: False, args.duration if args.duration else 1e9)
                print(f"bridge: {bridge.frames_in} frames in, {bridge.frames_out} out")
            finally:
                port.close()
        return 0
    finally:
        _finish(engine, args)
