"""`pybench device init`: draft a description from one boot of a user's firmware.

Boot the bootloader (and an application, if given) with nobody answering on the wire,
for a while of virtual time, and write down what the board showed: its console lines,
the MAC and address its frames carry (or that it asked for DHCP), the flash its
firmware wrote, where its files sit. The draft is TOML with every guess marked; the
user corrects it, then `pybench device check` says what still does not work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether

from pybench.chip import Chip
from pybench.engine.base import Engine, FlashOpKind

SECOND = 1_000_000_000


@dataclass
class Observed:
    """What one boot showed."""

    lines: list[str] = field(default_factory=list)
    mac: str | None = None
    address: str | None = None
    dhcp: bool = False
    written_sectors: list[int] = field(default_factory=list)
    erased_sectors: list[int] = field(default_factory=list)


def observe(engine: Engine, duration_ns: int) -> Observed:
    """Run the board (already programmed and powered on) and collect what it showed."""
    engine.reset_trace()
    engine.run(duration_ns)
    seen = Observed(lines=list(engine.uart().lines))
    for _, raw in engine.take_frames():
        try:
            frame = Ether(raw)
        except Exception:
            continue
        seen.mac = seen.mac or frame.src
        if ARP in frame and frame[ARP].psrc not in ("0.0.0.0", None):
            seen.address = seen.address or frame[ARP].psrc
        if IP in frame:
            if UDP in frame and frame[UDP].dport == 67:
                seen.dhcp = True
            elif frame[IP].src != "0.0.0.0":
                seen.address = seen.address or frame[IP].src
    if seen.mac is None:
        seen.mac = _mac_register(engine)
    if seen.address is None and not seen.dhcp:
        for line in seen.lines:
            m = re.search(r"\b(\d{1,3}(?:\.\d{1,3}){3})\b", line)
            if m:
                seen.address = m.group(1)
                break
    for op in engine.flash_trace():
        target = seen.erased_sectors if op.kind is FlashOpKind.ERASE else seen.written_sectors
        if op.sector not in target:
            target.append(op.sector)
    return seen


def _mac_register(engine: Engine, eth_mac: int = 0x4002_8000) -> str | None:
    """The address the firmware gave the MAC (MACA0HR/MACA0LR), read through the built-in
    engine's debug access; None where the engine has none or nothing was set."""
    uc = getattr(getattr(engine, "machine", None), "uc", None)
    if uc is None:
        return None
    try:   # a peripheral read through unicorn runs the model's read callback
        high = int.from_bytes(bytes(uc.mem_read(eth_mac + 0x40, 4)), "little") & 0xFFFF
        low = int.from_bytes(bytes(uc.mem_read(eth_mac + 0x44, 4)), "little")
    except Exception:
        return None
    raw = low.to_bytes(4, "little") + high.to_bytes(2, "little")
    return None if raw == b"\xff" * 6 else ":".join(f"{b:02x}" for b in raw)


def _escape(text: str) -> str:
    return re.escape(text).replace("\\ ", " ")


def _regex_of(line: str) -> str:
    """A regex for a console line: numbers become \\d+, the rest is escaped."""
    parts = re.split(r"(\d+)", line.strip())
    return "^" + "".join(r"\d+" if p.isdigit() else _escape(p) for p in parts)


def _version_regex(lines: list[str]) -> str | None:
    for line in reversed(lines):
        m = re.search(r"\bv(\d+)\b", line)
        if m:
            head = _escape(line[: m.start()].strip())
            return f"^{head}.*\\bv(\\d+)\\b" if head else r"\bv(\d+)\b"
    return None


def _sectors(chip: Chip, addr: int) -> tuple[int, int]:
    first = chip.sector_of(addr)
    return chip.sector_addrs[first], first


def draft_toml(name: str, chip: Chip, boot: Path, app: Path | None, app_addr: int | None,
               image_format: str, seen: Observed, platform: str) -> str:
    """The description text: what was seen, and TODO marks where the user must decide."""
    ready = _regex_of(seen.lines[-1]) if seen.lines else "TODO: the application's ready line"
    version = _version_regex(seen.lines)
    boot_end = chip.sector_addrs[1]
    out = [
        f"# Drafted by `pybench device init` from one boot of {boot.name}"
        + (f" and {app.name}" if app else "") + ".",
        "# Every value marked 'guess' or TODO needs your eye; then run",
        "# `pybench device check THIS_FILE`. docs/device-description.md explains each key.",
        "",
        "[device]",
        f'name = "{name}"',
        "",
        "[board]",
        f'platform = "{platform}"',
        f'chip = "{chip.name}"',
        "",
        "[firmware]",
        f'bootloader = "{boot.resolve()}"',
    ]
    if app is not None:
        out.append(f'application = {{ file = "{app.resolve()}", region = "app" }}')
        out += ["", "[firmware.images]", f'old = "{app.resolve()}"',
                'new = "TODO: the image an update installs"']
    out += ["", "[image]", f'format = "{image_format}"', "", "[network]"]
    out.append(f'mac = "{seen.mac or "TODO: the MAC address (no frame was seen)"}"')
    if seen.dhcp:
        out += ['address = "dhcp"            # the board sent DHCP DISCOVER',
                'host = "192.168.50.1"       # guess: the bench host on that network',
                "", "[network.dhcp]", 'pool_start = "192.168.50.20"   # guess',
                'pool_end = "192.168.50.40"     # guess']
    else:
        out += [f'address = "{seen.address or "TODO: the static address"}"',
                'netmask = "255.255.255.0"   # guess',
                'host = "TODO: the bench host\'s address on that network"']
    out += ["", "[[layout.region]]", 'name = "boot"', f"addr = 0x{chip.flash_base:08x}",
            f"size = 0x{boot_end - chip.flash_base:x}   # guess: sector 0", 'role = "bootloader"',
            "protected = true"]
    if app_addr is not None:
        base, first = _sectors(chip, app_addr)
        out += ["", "[[layout.region]]", 'name = "app"', f"addr = 0x{base:08x}",
                f"size = 0x{chip.sector_sizes[first]:x}   # TODO: the whole slot "
                f"(sector {first} on)", 'role = "application"']
    for sector in sorted(set(seen.erased_sectors) | set(seen.written_sectors)):
        out += ["", "[[layout.region]]   # the firmware wrote here during the boot",
                f'name = "sector-{sector}"', f"addr = 0x{chip.sector_addrs[sector]:08x}",
                f"size = 0x{chip.sector_sizes[sector]:x}",
                'role = "metadata"   # guess: a flag word or a journal?']
    out += ["", "[metadata]", 'kind = "flag"   # TODO: "journal" for the bench\'s own format',
            'region = "TODO"', "flag_addr = 0   # TODO", "flag_value = 0   # TODO",
            "", "[console]", f"ready = '{ready}'   # guess: the last line printed"]
    if version:
        out.append(f"version = '{version}'   # guess")
    out += ["", "# The console said:"] + [f"#   {line}" for line in seen.lines[:40]]
    out += ["", "[transport.restart]", 'kind = "power-cycle"   # TODO: http or console',
            "", "[transport.http]", "port = 80", "", "[[transport.http.step]]",
            'method = "POST"', 'path = "TODO: the upload path"', 'upload = "multipart"',
            'field = "file"', "accept_status = [200]", "", "[oracle]",
            'running_region = "app"', ""]
    return "\n".join(out)
