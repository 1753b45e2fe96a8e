"""`pybench update`, `pybench ping` and `pybench bridge`: the board over the network.

update: boot the board with the old image, upload the new one (over HTTP or TFTP, as the
device description says) with a progress bar, restart it as the description says, wait
for the new version's ready line, summarise.
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

from pybench.device.model import Device, ImageFormat
from pybench.device.select import add_device_option, device_from
from pybench.engine.base import Engine
from pybench.errors import BenchError
from pybench.image.files import read_image
from pybench.net import scenarios
from pybench.net.upload import MODES, VIAS
from pybench.net.wire import BoardStopped

SECOND = 1_000_000_000


def _board_options(p: argparse.ArgumentParser) -> None:
    add_device_option(p)
    p.add_argument("--engine", choices=("builtin", "renode"), default="builtin")
    p.add_argument("--boot", type=Path, help="bootloader ELF (default: the description's)")
    p.add_argument("--from", dest="old", type=Path,
                   help="image in the application slot at start (default: the description's)")
    p.add_argument("--platform", type=Path, help="platform description (default: the "
                   "description's board.platform)")
    p.add_argument("--pcap", type=Path, help="record the wire here (and the console next "
                   "to it, as .uart.log)")
    p.add_argument("--seed", type=int, default=0, help="seed of the host's random choices")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    u = sub.add_parser("update", help="upload a new image over HTTP or TFTP, reboot, check")
    u.add_argument("image", type=Path, help="the new image (pybench image create)")
    u.add_argument("--via", choices=VIAS, default="http")
    u.add_argument("--mode", choices=MODES, default=None,
                   help="HTTP body: a browser's form upload or the raw image (default: the "
                        "description's)")
    u.add_argument("--version", dest="image_version", type=int, default=None,
                   help="the version the new image reports (default: from its header)")
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


def _start(args: argparse.Namespace, device: Device) -> Engine:
    engine = scenarios.create_board(args.engine, device, app_image=args.old, boot=args.boot,
                                    platform=args.platform)
    scenarios.attach(engine, device, seed=args.seed, pcap=args.pcap)
    engine.power_on()
    return engine


def _finish(engine: Engine, args: argparse.Namespace) -> None:
    if args.pcap:
        uart = args.pcap.with_suffix(".uart.log")
        uart.write_text(engine.uart().text)
    scenarios.detach(engine)
    engine.close()


def image_version(device: Device, image: bytes) -> int | None:
    """The version an image says it is, where its format says one."""
    if device.image.format is not ImageFormat.PYBENCH:
        return None
    from pybench.image.format import ImageError, ImageHeader
    try:
        return ImageHeader.unpack(image).image_version
    except (ImageError, ValueError):
        return None


def _update(args: argparse.Namespace) -> int:
    device = device_from(args.device)
    image = read_image(args.image)
    if not image:
        raise BenchError(f"{args.image}: empty file, not an image")
    scenarios.upload_transport(device, args.via)      # refuse a transport it lacks, now
    if len(image) > device.layout.app_slot.size:
        print(f"note: {args.image} is larger than the application slot; expect a refusal")
    version = args.image_version if args.image_version is not None else \
        image_version(device, image)
    console = Console()
    engine = _start(args, device)
    try:
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
        console.print(f"restart: {scenarios.restart(engine, args.via)}")
        scenarios.wait_version(engine, version)
        which = f"v{version}" if version is not None else "the new image"
        console.print(f"update: {which} runs and is on the network "
                      f"(virtual time {engine.now_ns / SECOND:.3f} s)")
        return 0
    except (scenarios.ScenarioError, BoardStopped) as e:
        # BoardStopped: the board faulted or halted (a bad image, a bootloader that
        # stops), a finding about the device told in one line.
        console.print(f"update: {e}")
        return 1
    finally:
        _finish(engine, args)


def _ping(args: argparse.Namespace) -> int:
    if not 1 <= args.count <= 10000 or not 0 <= args.size <= 1472:
        raise BenchError("ping: --count must be 1..10000 and --size 0..1472")
    device = device_from(args.device)
    engine = _start(args, device)
    try:
        scenarios.boot_and_wait(engine)
        address = scenarios.bench(engine).device_ip
        for seq, rtt in enumerate(scenarios.ping(engine, args.count, args.size), 1):
            print(f"{args.size + 8} bytes from {address}: icmp_seq={seq} "
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
    device = device_from(args.device)
    engine = _start(args, device)
    b = scenarios.bench(engine)
    net = device.network
    try:
        with Namespace(args.netns) as ns:
            port = TapPort(ns, f"pb-{args.netns}"[:15], f"{net.host}/{net.prefix_len}",
                           net.host_mac)
            try:
                # A device that takes its address by DHCP gets it from the bench's
                # server (the description's pool), served on the bridge itself.
                bridge = TapBridge(engine, port, recorder=b.recorder, dhcp=b.host.dhcp)
                where = net.address or "its DHCP address"
                print(f"bridge: {device.name} at {where}, reach it from namespace "
                      f"{args.netns}, e.g.\n  ip netns exec {args.netns} curl "
                      f"http://{net.address or 'ADDRESS'}/", flush=True)
                with contextlib.suppress(KeyboardInterrupt):
                    bridge.run(lambda: False, args.duration if args.duration else 1e9)
                dhcp = b.host.dhcp
                leased = "" if dhcp is None else (
                    f", {bridge.dhcp_frames} DHCP requests answered; leased "
                    + (", ".join(f"{lease.ip} to {lease.mac}" for lease in
                                 dhcp.leases.values() if lease.bound) or "nothing"))
                print(f"bridge: {bridge.frames_in} frames in, {bridge.frames_out} out{leased}")
            finally:
                port.close()
        return 0
    finally:
        _finish(engine, args)
