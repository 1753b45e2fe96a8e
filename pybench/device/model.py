"""A device under test, as its description file says it (docs/device-description.md).

Pure data: every fact the bench needs about one product (its board, firmware, network
identity, flash layout, update transports, how it restarts and how to judge it) and
nothing that knows how to read a file. pybench/device/load.py builds these from TOML.
"""

from __future__ import annotations

import bisect
import enum
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pybench.chip import Chip
from pybench.net.transport import HttpStep, HttpTransport, TftpTransport


class Role(str, enum.Enum):
    """What a flash region is for; the campaigns name phases and verdicts after it."""

    BOOTLOADER = "bootloader"
    APPLICATION = "application"    # a slot the bootloader starts an application from
    STAGING = "staging"            # where a received image waits
    METADATA = "metadata"          # flag words, journals, counters
    OTHER = "other"                # anything else the firmware owns (identity, settings)
    UNUSED = "unused"              # nothing should ever be written here


@dataclass(frozen=True)
class Region:
    name: str
    addr: int
    size: int
    role: Role = Role.OTHER
    protected: bool = False        # no flash operation may touch it, ever

    @property
    def end(self) -> int:
        return self.addr + self.size

    def __contains__(self, addr: object) -> bool:
        return isinstance(addr, int) and self.addr <= addr < self.end


@dataclass(frozen=True)
class Layout:
    """The device's flash as named regions on its chip's sectors."""

    chip: Chip
    regions: tuple[Region, ...]

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(name)

    def by_role(self, role: Role) -> tuple[Region, ...]:
        return tuple(r for r in self.regions if r.role is role)

    def region_of(self, addr: int) -> Region | None:
        # Regions never overlap (the loader refuses it): the last one starting at or
        # below addr is the only candidate. Called for every flash operation of a trace.
        starts, ordered = self._sorted
        i = bisect.bisect_right(starts, addr) - 1
        return ordered[i] if i >= 0 and addr < ordered[i].end else None

    @cached_property
    def _sorted(self) -> tuple[list[int], list[Region]]:
        ordered = sorted(self.regions, key=lambda r: r.addr)
        return [r.addr for r in ordered], ordered

    @property
    def boot(self) -> Region:
        return self.by_role(Role.BOOTLOADER)[0]

    @property
    def app_slot(self) -> Region:
        return self.by_role(Role.APPLICATION)[0]

    @property
    def staging(self) -> Region | None:
        found = self.by_role(Role.STAGING)
        return found[0] if found else None

    @property
    def metadata(self) -> tuple[Region, ...]:
        return self.by_role(Role.METADATA)

    @property
    def protected(self) -> tuple[Region, ...]:
        return tuple(r for r in self.regions if r.protected)

    # The chip's geometry, under the names the bench's flash code has always used.
    @property
    def FLASH_BASE_ADDR(self) -> int:
        return self.chip.flash_base

    @property
    def FLASH_TOTAL_SIZE(self) -> int:
        return self.chip.flash_size

    @property
    def sector_sizes(self) -> tuple[int, ...]:
        return self.chip.sector_sizes

    @property
    def sector_addrs(self) -> tuple[int, ...]:
        return self.chip.sector_addrs

    def sector_of(self, addr: int) -> int:
        return self.chip.sector_of(addr)


class ImageFormat(str, enum.Enum):
    PYBENCH = "pybench"   # our header + body (docs/image-format.md)
    BIN = "bin"           # a raw binary, written at the start of the slot


@dataclass(frozen=True)
class ImageSpec:
    format: ImageFormat
    header_size: int      # bytes before the vector table (0 for a raw binary)

    @property
    def vector_offset(self) -> int:
        return self.header_size


@dataclass(frozen=True)
class FirmwareFile:
    """A file programmed at the factory: an ELF at its own addresses, or an image/.bin
    written at `addr`."""

    path: Path
    addr: int | None = None          # None for an ELF


@dataclass(frozen=True)
class UpdateImage:
    path: Path
    version: int | None = None       # None: read from the image's header


@dataclass(frozen=True)
class Firmware:
    bootloader: Path
    application: FirmwareFile | None            # the image in the slot at the factory
    extra: tuple[FirmwareFile, ...] = ()        # anything else programmed at the factory
    images: dict[str, UpdateImage] = field(default_factory=dict)   # "old", "new", ...


@dataclass(frozen=True)
class Board:
    platform: Path
    inputs: tuple[tuple[str, int], ...] = ()    # GPIO inputs held from power-on: ("PA0", 1)
    boot_timeout_ns: int = 20_000_000_000
    vbat_held: bool = False


@dataclass(frozen=True)
class Dhcp:
    """The bench's DHCP server, for a device that takes its address by DHCP."""

    pool_start: str
    pool_end: str
    lease_s: int = 3600


@dataclass(frozen=True)
class Network:
    mac: str
    address: str | None              # None: by DHCP
    netmask: str
    gateway: str
    host: str                        # the bench host's own address on this network
    host_mac: str = "02:00:00:00:00:01"
    dhcp: Dhcp | None = None

    @property
    def prefix_len(self) -> int:
        return sum(bin(int(p)).count("1") for p in self.netmask.split("."))


def version_in(pattern: str, text: str) -> int | None:
    """The version number `pattern` finds in `text`: its group "version", else its first
    group; None when it does not match or the group is not a number."""
    m = re.search(pattern, text)
    if not m:
        return None
    found = m.groupdict().get("version") or (m.group(1) if m.groups() else None)
    return int(found) if found and found.isdigit() else None


@dataclass(frozen=True)
class Console:
    ready: str                       # the application is up and serving
    version: str | None = None       # captures the running version (group "version" or 1)
    staged: str | None = None        # the device says an upload is staged
    refused: str | None = None       # the device says an upload was refused
    repair: str | None = None        # the bootloader repairs what it should not have had to
    flash_failed: str | None = None  # the device says flash does not hold what it wrote

    def version_of(self, line: str) -> int | None:
        return version_in(self.version, line) if self.version else None


class RestartKind(str, enum.Enum):
    HTTP = "http"                    # an HTTP request asks the device to restart
    CONSOLE = "console"              # the device restarts by itself after printing a line
    POWER_CYCLE = "power-cycle"      # the bench cycles power


@dataclass(frozen=True)
class Restart:
    kind: RestartKind
    request: HttpStep | None = None  # HTTP
    line: str | None = None          # CONSOLE


@dataclass(frozen=True)
class Backdoor:
    """An update written straight into flash: the image into the staging region, and the
    metadata that says "staged" (as the device's own upload would leave it)."""

    region: str


@dataclass(frozen=True)
class Transports:
    http: HttpTransport | None = None
    tftp: TftpTransport | None = None
    backdoor: Backdoor | None = None
    restart: dict[str, Restart] = field(default_factory=dict)   # by transport name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in ("http", "tftp", "backdoor") if getattr(self, n) is not None)


class MetadataKind(str, enum.Enum):
    JOURNAL = "journal"    # our record journal (docs/journal.md) in two sectors
    FLAG = "flag"          # an "update received" flag word, with the image size and CRC-32


@dataclass(frozen=True)
class Metadata:
    kind: MetadataKind
    regions: tuple[str, ...]                 # JOURNAL: the two journal regions
    flag_addr: int | None = None             # FLAG
    flag_value: int | None = None
    size_addr: int | None = None
    crc_addr: int | None = None


@dataclass(frozen=True)
class Probe:
    """An HTTP request whose answer says which version runs."""

    path: str
    version: str                     # a regex; group "version" or 1 is the number

    def version_of(self, text: str) -> int | None:
        return version_in(self.version, text)


@dataclass(frozen=True)
class Oracle:
    running_region: str              # the CPU runs in here once the application is ready
    recovery_bound_ns: int = 30_000_000_000
    probe: Probe | None = None


@dataclass(frozen=True)
class Device:
    name: str
    source: Path                     # the description file
    board: Board
    firmware: Firmware
    network: Network
    layout: Layout
    image: ImageSpec
    console: Console
    transports: Transports
    metadata: Metadata
    oracle: Oracle

    def restart_for(self, via: str) -> Restart:
        return self.transports.restart.get(via) or self.transports.restart["default"]

    @property
    def running_region(self) -> Region:
        return self.layout.region(self.oracle.running_region)

    @property
    def address(self) -> str | None:
        return self.network.address
