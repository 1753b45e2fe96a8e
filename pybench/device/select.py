"""Which device a command runs: `--device FILE`, else $PYBENCH_DEVICE, else, in a checkout
of this repository, our sample device (devices/sample.toml)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pybench.device.load import load_device
from pybench.device.model import Device
from pybench.errors import BenchError
from pybench.paths import checkout_root

ENV = "PYBENCH_DEVICE"


def add_device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", type=Path, metavar="FILE",
                   help=f"the device description (default: ${ENV}, or in a checkout of the "
                        "bench the sample device, devices/sample.toml)")


def default_device_path() -> Path | None:
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    root = checkout_root()
    return root / "devices" / "sample.toml" if root is not None else None


def sample_device_path(name: str = "sample") -> Path:
    """One of the in-tree sample devices (a checkout only)."""
    root = checkout_root()
    if root is None:
        raise BenchError(f"the {name} device lives in the bench's repository: set "
                         "PYBENCH_ROOT to a checkout")
    return root / "devices" / f"{name}.toml"


def device_from(path: Path | None) -> Device:
    path = path or default_device_path()
    if path is None:
        raise BenchError(f"no device description: pass --device FILE (or set ${ENV})")
    return load_device(path)
