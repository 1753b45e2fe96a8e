"""Our sample device, as its description (devices/sample.toml) says: the tests' one source
of its address, MAC and the bench host's address on its network."""

from __future__ import annotations

from pathlib import Path

from pybench.device import load_device
from pybench.net.host import HOST_MAC, Host
from pybench.net.malformed import Target

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PATH = ROOT / "devices" / "sample.toml"
SAMPLE = load_device(SAMPLE_PATH)

assert SAMPLE.network.address is not None
DEVICE_IP: str = SAMPLE.network.address
DEVICE_MAC: str = SAMPLE.network.mac
HOST_IP: str = SAMPLE.network.host
TARGET = Target(HOST_MAC, HOST_IP, DEVICE_MAC, DEVICE_IP)
__all__ = ["DEVICE_IP", "DEVICE_MAC", "HOST_IP", "HOST_MAC", "SAMPLE", "TARGET", "sample_host"]


def sample_host(seed: int = 0) -> Host:
    """The bench's host on the sample device's network."""
    return Host(HOST_IP, seed=seed)
