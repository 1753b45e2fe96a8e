"""The Renode monitor commands that Renode-written Robot suites use to set a board up and
run it, parsed for the built-in engine (RenodeKeywords.py runs them).

Only this subset is understood; any other command is refused with a one-line message
naming it, so a suite never passes on the built-in engine by ignoring what it asked for.
Pure functions: no engine here.
"""

from __future__ import annotations

import re
import shlex
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

SUPPORTED = (
    'mach create ["name"]',
    "machine LoadPlatformDescription @file.repl",
    "sysbus LoadELF @file.elf",
    "sysbus LoadBinary @file ADDRESS",
    "sysbus.<memory> SetRange START LENGTH VALUE",
    'macro reset "..."',
    "emulation SetGlobalAdvanceImmediately true|false",
    "start / emulation Start",
    "pause / emulation Pause",
    'emulation RunFor "hh:mm:ss.ffffff"',
)


class UnsupportedCommand(ValueError):
    """A monitor command the built-in engine does not offer."""


@dataclass(frozen=True)
class Command:
    kind: str                      # "mach-create", "load-platform", "load-elf", ...
    path: Path | None = None
    address: int = 0
    length: int = 0
    value: int = 0
    target: str = ""               # the memory of SetRange, the machine's name
    ns: int = 0                    # RunFor


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError as e:
        raise UnsupportedCommand(f"cannot read the monitor command {line!r}: {e}") from None


def _path(word: str, cwd: Path) -> Path:
    if not word.startswith("@"):
        raise UnsupportedCommand(f"expected a file as @path, not {word!r}")
    path = Path(word[1:])
    return path if path.is_absolute() else cwd / path


def _int(word: str) -> int:
    try:
        return int(word, 0)
    except ValueError:
        raise UnsupportedCommand(f"not a number: {word!r}") from None


_TIME = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")


def parse_time_ns(text: str) -> int:
    """A Renode TimeInterval: "hh:mm:ss.ffffff", "mm:ss.f" or plain seconds "0.5"."""
    text = text.strip()
    m = _TIME.match(text)
    try:
        if m:
            hours = int(m.group(1) or 0)
            seconds = hours * 3600 + int(m.group(2)) * 60 + float(m.group(3))
        else:
            seconds = float(text)
    except ValueError:
        raise UnsupportedCommand(f"not a time interval: {text!r}") from None
    if seconds < 0:
        raise UnsupportedCommand(f"negative time interval: {text!r}")
    return round(seconds * 1_000_000_000)


def parse(line: str, cwd: Path) -> Command:
    """One monitor command line, or UnsupportedCommand naming it."""
    words = _words(line)
    if not words:
        raise UnsupportedCommand("an empty monitor command")
    head = words[:2]
    if head == ["mach", "create"] and len(words) <= 3:
        return Command("mach-create", target=words[2] if len(words) == 3 else "")
    if head == ["machine", "LoadPlatformDescription"] and len(words) == 3:
        return Command("load-platform", path=_path(words[2], cwd))
    if head == ["sysbus", "LoadELF"] and len(words) == 3:
        return Command("load-elf", path=_path(words[2], cwd))
    if head == ["sysbus", "LoadBinary"] and len(words) == 4:
        return Command("load-binary", path=_path(words[2], cwd), address=_int(words[3]))
    if len(words) == 5 and words[0].startswith("sysbus.") and words[1] == "SetRange":
        return Command("set-range", target=words[0].removeprefix("sysbus."),
                       address=_int(words[2]), length=_int(words[3]), value=_int(words[4]))
    if head == ["macro", "reset"] and len(words) == 3:
        return Command("reset-macro")
    if head == ["emulation", "SetGlobalAdvanceImmediately"] and len(words) == 3 \
            and words[2].lower() in ("true", "false"):
        return Command("advance-immediately")
    if words in (["start"], ["emulation", "Start"]):
        return Command("start")
    if words in (["pause"], ["emulation", "Pause"]):
        return Command("pause")
    if head == ["emulation", "RunFor"] and len(words) == 3:
        return Command("run-for", ns=parse_time_ns(words[2]))
    raise UnsupportedCommand(
        f"the built-in engine does not offer the monitor command {line.strip()!r}"
        f" (it offers: {'; '.join(SUPPORTED)})")


def strip_fcs(frame: bytes) -> bytes | None:
    """The frame without its frame check sequence, or None when the FCS is wrong (a MAC
    drops such a frame: Renode's SynopsysEthernetMAC does, with "Invalid CRC")."""
    if len(frame) < 4:
        return None
    body, fcs = frame[:-4], frame[-4:]
    return body if struct.pack("<I", zlib.crc32(body)) == fcs else None


def bytes_match(pattern: str, index: int, frame: bytes) -> bool:
    """Renode's NetworkInterfaceTester match: hex `pattern` at `index`, "_" a wildcard
    nibble."""
    if len(pattern) % 2:
        raise ValueError("Partial bytes specified in the search pattern.")
    if index + len(pattern) // 2 > len(frame):
        return False
    digits = frame[index : index + len(pattern) // 2].hex()
    return all(p == "_" or p.lower() == d for p, d in zip(pattern, digits, strict=True))
