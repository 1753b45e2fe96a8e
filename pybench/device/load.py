"""Read and validate a device description (TOML) into a Device.

Every mistake is one line that names the file, the key and what is wrong with it
(`devices/mine.toml: network.address: '192.168.0.300' is not an IPv4 address`), raised as
a BenchError before any engine starts. Unknown keys are mistakes too: a misspelt key
would otherwise be ignored silently.

File paths in a description are relative to the description's folder. `${NAME}` and
`${NAME:-default}` take an environment variable, so one description serves a checkout
whose build folder moves (PYBENCH_BUILD).
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pybench.chip import CHIPS
from pybench.device.model import (
    Backdoor,
    Board,
    Console,
    Device,
    Dhcp,
    Firmware,
    FirmwareFile,
    ImageFormat,
    ImageSpec,
    Layout,
    Metadata,
    MetadataKind,
    Network,
    Oracle,
    Probe,
    Region,
    Restart,
    RestartKind,
    Role,
    Transports,
    UpdateImage,
)
from pybench.errors import BenchError
from pybench.net.transport import HttpStep, HttpTransport, TftpTransport
from pybench.paths import platform_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

T = TypeVar("T")
SECOND = 1_000_000_000
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_PIN = re.compile(r"^P[A-I](1[0-5]|[0-9])$")
HEADER_SIZES = {ImageFormat.PYBENCH: 0x200, ImageFormat.BIN: 0}


class DescriptionError(BenchError):
    """A mistake in a description file: one line, naming the file and the key."""


class Table:
    """A TOML table being read: typed getters that name the key on a mistake, and a
    check that every key was read (an unknown key is a typo)."""

    def __init__(self, source: Path, path: str, data: dict[str, Any]) -> None:
        self.source, self.path, self.data = source, path, data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> DescriptionError:
        return DescriptionError(f"{self.source}: {self.key(name)}: {message}")

    def has(self, name: str) -> bool:
        return name in self.data

    def _get(self, name: str, kind: type | tuple[type, ...], what: str, default: Any,
             required: bool) -> Any:
        self.used.add(name)
        if name not in self.data:
            if required:
                raise DescriptionError(f"{self.source}: {self.key(name)}: missing ({what})")
            return default
        value = self.data[name]
        if isinstance(value, bool) and kind is not bool and bool not in (
                kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(name, f"expected {what}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(name, f"expected {what}, got {value!r}")
        return value

    def str(self, name: str, default: str | None = None, required: bool = False) -> Any:
        return self._get(name, str, "a string", default, required)

    def int(self, name: str, default: int | None = None, required: bool = False,
            lo: int | None = None, hi: int | None = None) -> Any:
        value = self._get(name, int, "an integer", default, required)
        if value is not None and ((lo is not None and value < lo) or
                                  (hi is not None and value > hi)):
            raise self.fail(name, f"{value} is out of range {lo}..{hi}")
        return value

    def seconds(self, name: str, default: float, lo: float = 0.0) -> int:
        value = self._get(name, (int, float), "a number of seconds", default, False)
        if value <= lo:
            raise self.fail(name, f"{value} must be more than {lo:g} s")
        return round(float(value) * SECOND)

    def number(self, name: str, default: float) -> float:
        value = self._get(name, (int, float), "a number", default, False)
        if value <= 0:
            raise self.fail(name, f"{value} must be more than 0")
        return float(value)

    def bool(self, name: str, default: bool = False) -> Any:
        return self._get(name, bool, "true or false", default, False)

    def ints(self, name: str, default: tuple[int, ...]) -> tuple[int, ...]:
        value = self._get(name, list, "a list of integers", None, False)
        if value is None:
            return default
        if not value or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self.fail(name, f"expected a non-empty list of integers, got {value!r}")
        return tuple(value)

    def regex(self, name: str, required: bool = False) -> Any:
        value = self.str(name, required=required)
        if value is not None:
            try:
                re.compile(value)
            except re.error as e:
                raise self.fail(name, f"bad regular expression {value!r}: {e}") from None
        return value

    def choice(self, name: str, enum: Callable[[str], T], default: str | None = None,
               required: bool = False) -> T:
        value = self.str(name, default, required)
        try:
            return enum(value)
        except ValueError:
            options = ", ".join(e.value for e in enum)  # type: ignore[attr-defined]
            raise self.fail(name, f"{value!r} is not one of {options}") from None

    def table(self, name: str, required: bool = False) -> Table | None:
        value = self._get(name, dict, "a table", None, required)
        return None if value is None else Table(self.source, self.key(name), value)

    def tables(self, name: str, required: bool = False) -> list[Table]:
        value = self._get(name, list, "an array of tables", None, required)
        if value is None:
            return []
        if required and not value:
            raise self.fail(name, "must not be empty")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{name}[{i}]", f"expected a table, got {item!r}")
            out.append(Table(self.source, f"{self.key(name)}[{i}]", item))
        return out

    def path_value(self, name: str, required: bool = False) -> Path | None:
        value = self.str(name, required=required)
        if value is None:
            return None
        expanded = _ENV.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), value)
        if "${" in expanded:
            raise self.fail(name, f"cannot expand {value!r}")
        path = Path(expanded)
        return path if path.is_absolute() else self.source.resolve().parent / path

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.fail(unknown[0], "unknown key (a typo?)")


def load_device(path: Path) -> Device:
    """Read a description file; DescriptionError on the first mistake."""
    try:
        text = path.read_text()
    except IsADirectoryError:
        raise DescriptionError(f"{path}: is a folder, not a device description") from None
    except OSError as e:
        raise DescriptionError(f"{path}: cannot read the device description: "
                               f"{e.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise DescriptionError(f"{path}: not valid TOML: {e}") from None
    return parse_device(data, path)


def parse_device(data: dict[str, Any], source: Path) -> Device:
    top = Table(source, "", data)
    dev = top.table("device", required=True)
    assert dev is not None
    name = dev.str("name", required=True)
    dev.str("description")
    dev.done()

    board, chip_name = _board(_req(top, "board"))
    layout = _layout(top, chip_name)
    image = _image(top)
    firmware = _firmware(_req(top, "firmware"), layout)
    network = _network(_req(top, "network"))
    console = _console(_req(top, "console"))
    metadata = _metadata(_req(top, "metadata"), layout)
    transports = _transports(_req(top, "transport"), layout)
    oracle = _oracle(top.table("oracle"), layout, board)
    top.done()
    device = Device(name=name, source=source, board=board, firmware=firmware, network=network,
                    layout=layout, image=image, console=console, transports=transports,
                    metadata=metadata, oracle=oracle)
    return device


def _req(top: Table, name: str) -> Table:
    table = top.table(name, required=True)
    assert table is not None
    return table


def _board(t: Table) -> tuple[Board, str]:
    platform_name = t.str("platform", "stm32f407-eth.repl")
    local = t.source.parent / platform_name
    platform = local if local.is_file() else platform_file(platform_name)
    if not platform.is_file():
        raise t.fail("platform", f"{platform_name!r}: no such platform file (next to the "
                                 "description, or one the bench ships)")
    chip = t.str("chip", "stm32f407vg")
    if chip not in CHIPS:
        raise t.fail("chip", f"{chip!r} is not one of {', '.join(CHIPS)}")
    inputs = []
    it = t.table("inputs")
    if it is not None:
        for pin in list(it.data):
            if not _PIN.match(pin):
                raise it.fail(pin, "not a GPIO pin name (PA0 .. PI15)")
            inputs.append((pin, it.int(pin, lo=0, hi=1)))
        it.done()
    board = Board(platform=platform, inputs=tuple(inputs),
                  boot_timeout_ns=t.seconds("boot_timeout_s", 20.0),
                  vbat_held=t.bool("vbat_held"))
    t.done()
    return board, chip


def _layout(top: Table, chip_name: str) -> Layout:
    chip = CHIPS.get(chip_name)
    if chip is None:
        raise DescriptionError(f"{top.source}: board.chip: {chip_name!r} is not one of "
                               f"{', '.join(CHIPS)}")
    lt = _req(top, "layout")
    regions: list[Region] = []
    for rt in lt.tables("region", required=True):
        name = rt.str("name", required=True)
        addr = rt.int("addr", required=True)
        size = rt.int("size", required=True, lo=1)
        role = rt.choice("role", Role, required=True)
        region = Region(name, addr, size, role, rt.bool("protected"))
        rt.done()
        if any(r.name == name for r in regions):
            raise rt.fail("name", f"{name!r} is named twice")
        end = chip.flash_base + chip.flash_size
        if not (chip.flash_base <= addr and addr + size <= end):
            raise rt.fail("addr", f"0x{addr:08x}+0x{size:x} is outside the {chip.name}'s flash "
                                  f"(0x{chip.flash_base:08x}..0x{end:08x})")
        if role is not Role.METADATA or size >= min(chip.sector_sizes):
            # Regions that are erased as a whole start and end on sector boundaries.
            starts = set(chip.sector_addrs)
            if addr not in starts or (addr + size not in starts and addr + size != end):
                raise rt.fail("addr", f"0x{addr:08x}+0x{size:x} does not start and end on "
                                      f"sector boundaries of the {chip.name}")
        for other in regions:
            if addr < other.end and other.addr < addr + size:
                raise rt.fail("addr", f"{name!r} overlaps {other.name!r}")
        regions.append(region)
    lt.done()
    layout = Layout(chip, tuple(regions))
    for role in (Role.BOOTLOADER, Role.APPLICATION):
        if not layout.by_role(role):
            raise DescriptionError(f"{top.source}: layout.region: no region with role "
                                   f"{role.value!r}")
    return layout


def _image(top: Table) -> ImageSpec:
    t = top.table("image")
    if t is None:
        return ImageSpec(ImageFormat.PYBENCH, HEADER_SIZES[ImageFormat.PYBENCH])
    fmt = t.choice("format", ImageFormat, "pybench")
    t.done()
    return ImageSpec(fmt, HEADER_SIZES[fmt])


def _region_name(t: Table, name: str, layout: Layout, default: str | None = None) -> str:
    value = t.str(name, default, required=default is None)
    try:
        layout.region(value)
    except KeyError:
        names = ", ".join(r.name for r in layout.regions)
        raise t.fail(name, f"no region named {value!r} (regions: {names})") from None
    return str(value)


def _firmware(t: Table, layout: Layout) -> Firmware:
    boot = t.path_value("bootloader", required=True)
    assert boot is not None
    app = None
    at = t.table("application")
    if at is not None:
        region = layout.region(_region_name(at, "region", layout, layout.app_slot.name))
        path = at.path_value("file", required=True)
        assert path is not None
        app = FirmwareFile(path, region.addr)
        at.done()
    extra = []
    for et in t.tables("extra"):
        path = et.path_value("file", required=True)
        addr = et.int("addr")
        assert path is not None
        extra.append(FirmwareFile(path, addr))
        et.done()
    images: dict[str, UpdateImage] = {}
    it = t.table("images")
    if it is not None:
        for key in list(it.data):
            value = it.data[key]
            if isinstance(value, dict):
                sub = it.table(key)
                assert sub is not None
                path = sub.path_value("file", required=True)
                version = sub.int("version", lo=0, hi=0xFFFFFFFF)
                sub.done()
            else:
                path, version = it.path_value(key), None
            assert path is not None
            images[key] = UpdateImage(path, version)
        it.done()
    t.done()
    return Firmware(boot, app, tuple(extra), images)


def _ipv4(t: Table, name: str, value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise t.fail(name, f"{value!r} is not an IPv4 address") from None


def _network(t: Table) -> Network:
    mac = t.str("mac", required=True)
    if not _MAC.match(mac):
        raise t.fail("mac", f"{mac!r} is not a MAC address (02:00:00:00:00:02)")
    if int(mac[:2], 16) & 1:
        raise t.fail("mac", f"{mac!r} is a multicast address")
    address = t.str("address", required=True)
    netmask = _ipv4(t, "netmask", t.str("netmask", "255.255.255.0"))
    try:
        prefix = ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen
    except ValueError:
        prefix = 0
    if not prefix:
        raise t.fail("netmask", f"{netmask!r} is not a netmask")
    host = _ipv4(t, "host", t.str("host", required=True))
    gateway = _ipv4(t, "gateway", t.str("gateway", host))
    host_mac = t.str("host_mac", "02:00:00:00:00:01")
    if not _MAC.match(host_mac):
        raise t.fail("host_mac", f"{host_mac!r} is not a MAC address")
    net = ipaddress.IPv4Network(f"{host}/{netmask}", strict=False)
    dhcp = None
    dt = t.table("dhcp")
    if address == "dhcp":
        if dt is None:
            raise t.fail("dhcp", "missing: address = \"dhcp\" needs a [network.dhcp] table "
                                 "(the pool the bench serves)")
        start = _ipv4(dt, "pool_start", dt.str("pool_start", required=True))
        end = _ipv4(dt, "pool_end", dt.str("pool_end", required=True))
        for key, ip in (("pool_start", start), ("pool_end", end)):
            if ipaddress.IPv4Address(ip) not in net:
                raise dt.fail(key, f"{ip} is not on the host's network {net}")
        if ipaddress.IPv4Address(start) > ipaddress.IPv4Address(end):
            raise dt.fail("pool_end", f"{end} is before pool_start {start}")
        dhcp = Dhcp(start, end, dt.int("lease_s", 3600, lo=60))
        dt.done()
        device_ip = None
    else:
        if dt is not None:
            raise t.fail("dhcp", "only with address = \"dhcp\"")
        device_ip = _ipv4(t, "address", address)
        if ipaddress.IPv4Address(device_ip) not in net:
            raise t.fail("address", f"{device_ip} is not on the host's network {net}")
        if device_ip == host:
            raise t.fail("address", f"{device_ip} is also the host's address")
    t.done()
    return Network(mac.lower(), device_ip, netmask, gateway, host, host_mac.lower(), dhcp)


def _console(t: Table) -> Console:
    console = Console(ready=t.regex("ready", required=True), version=t.regex("version"),
                      staged=t.regex("staged"), refused=t.regex("refused"),
                      repair=t.regex("repair"), flash_failed=t.regex("flash_failed"))
    t.done()
    return console


def _metadata(t: Table, layout: Layout) -> Metadata:
    kind = t.choice("kind", MetadataKind, required=True)
    if kind is MetadataKind.JOURNAL:
        names = t._get("regions", list, "a list of two region names", None, True)
        if len(names) != 2 or not all(isinstance(n, str) for n in names):
            raise t.fail("regions", f"expected two region names, got {names!r}")
        for n in names:
            try:
                layout.region(n)
            except KeyError:
                raise t.fail("regions", f"no region named {n!r}") from None
        t.done()
        return Metadata(kind, tuple(names))
    region = layout.region(_region_name(t, "region", layout))
    words = {}
    for key in ("flag_addr", "size_addr", "crc_addr"):
        addr = t.int(key, required=key == "flag_addr")
        if addr is not None and (addr not in region or addr % 4):
            raise t.fail(key, f"0x{addr:08x} is not a word of region {region.name!r}")
        words[key] = addr
    value = t.int("flag_value", required=True, lo=0, hi=0xFFFFFFFF)
    if value == 0xFFFFFFFF:
        raise t.fail("flag_value", "0xFFFFFFFF is what erased flash reads")
    t.done()
    return Metadata(kind, (region.name,), words["flag_addr"], value, words["size_addr"],
                    words["crc_addr"])


def _http_step(t: Table) -> HttpStep:
    method = t.str("method", "GET").upper()
    if method not in ("GET", "POST", "PUT"):
        raise t.fail("method", f"{method!r} is not GET, POST or PUT")
    path = t.str("path", required=True)
    if not path.startswith("/"):
        raise t.fail("path", f"{path!r} does not start with /")
    form: list[tuple[str, str]] = []
    ft = t.table("form")
    if ft is not None:
        for key in list(ft.data):
            form.append((key, ft.str(key)))
        ft.done()
    upload = t.str("upload")
    if upload not in (None, "multipart", "raw"):
        raise t.fail("upload", f"{upload!r} is not multipart or raw")
    step = HttpStep(method=method, path=path, form=tuple(form), upload=upload,
                    field=t.str("field", "file"), filename=t.str("filename", "image.bin"),
                    content_type=t.str("content_type", "application/octet-stream"),
                    accept_status=t.ints("accept_status", (200,)),
                    accept_text=t.regex("accept_text"), refuse_text=t.regex("refuse_text"))
    t.done()
    return step


def _restart(t: Table) -> Restart:
    kind = t.choice("kind", RestartKind, required=True)
    if kind is RestartKind.HTTP:
        rt = t.table("request", required=True)
        assert rt is not None
        restart = Restart(kind, request=_http_step(rt))
    elif kind is RestartKind.CONSOLE:
        restart = Restart(kind, line=t.regex("line", required=True))
    else:
        restart = Restart(kind)
    t.done()
    return restart


def _transports(t: Table, layout: Layout) -> Transports:
    http = tftp = backdoor = None
    restart: dict[str, Restart] = {}
    rt = t.table("restart")
    if rt is not None:
        restart["default"] = _restart(rt)
    ht = t.table("http")
    if ht is not None:
        steps = tuple(_http_step(s) for s in ht.tables("step", required=True))
        uploads = [s for s in steps if s.upload]
        if len(uploads) != 1:
            raise ht.fail("step", f"exactly one step must carry the image (upload = "
                                  f"\"multipart\" or \"raw\"), found {len(uploads)}")
        http = HttpTransport(steps=steps, port=ht.int("port", 80, lo=1, hi=65535))
        hr = ht.table("restart")
        if hr is not None:
            restart["http"] = _restart(hr)
        ht.done()
    tt = t.table("tftp")
    if tt is not None:
        blksize = tt.int("blksize", lo=8, hi=65464)
        tftp = TftpTransport(port=tt.int("port", 69, lo=1, hi=65535),
                             filename=tt.str("filename", "image.bin"), blksize=blksize,
                             timeout_s=tt.number("timeout_s", 0.5),
                             server_timeout_s=tt.number("server_timeout_s", 10.0))
        tr = tt.table("restart")
        if tr is not None:
            restart["tftp"] = _restart(tr)
        tt.done()
    bt = t.table("backdoor")
    if bt is not None:
        backdoor = Backdoor(_region_name(bt, "region", layout))
        bt.done()
    t.done()
    for via in ("http", "tftp"):
        if (http if via == "http" else tftp) is not None and via not in restart \
                and "default" not in restart:
            raise t.fail(f"{via}.restart", "missing: how the device restarts after an upload "
                                           "(here or in [transport.restart])")
    if http is None and tftp is None and backdoor is None:
        raise t.fail("http", "no transport: give at least one of http, tftp, backdoor")
    return Transports(http, tftp, backdoor, restart)


def _oracle(t: Table | None, layout: Layout, board: Board) -> Oracle:
    if t is None:
        return Oracle(layout.app_slot.name)
    probe = None
    pt = t.table("probe")
    if pt is not None:
        path = pt.str("path", required=True)
        if not path.startswith("/"):
            raise pt.fail("path", f"{path!r} does not start with /")
        probe = Probe(path, pt.regex("version", required=True))
        pt.done()
    oracle = Oracle(_region_name(t, "running_region", layout, layout.app_slot.name),
                    t.seconds("recovery_bound_s", 30.0), probe)
    t.done()
    return oracle
