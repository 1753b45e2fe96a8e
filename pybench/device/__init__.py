"""Device descriptions: everything the bench knows about one device under test, from one
file the user writes (docs/device-description.md)."""

from pybench.device.load import DescriptionError, load_device
from pybench.device.model import Device, Region, Role

__all__ = ["DescriptionError", "Device", "Region", "Role", "load_device"]
