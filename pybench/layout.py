"""The flash layout, read from firmware/include/flash_layout.h (its one definition).

The header is written for three readers: the C compiler, the linker scripts (through
the preprocessor) and this module. It keeps one ``#define NAME value`` per line with
plain integer values, and one comma-separated list (the sector sizes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pybench.chip import Chip
from pybench.device.model import Region
from pybench.errors import BenchError
from pybench.paths import repo_root

__all__ = ["FlashLayout", "Region", "header_path", "load", "parse_header"]

_DEFINE = re.compile(r"^\s*#define\s+([A-Z0-9_]+)\s+(.*?)\s*(?:/\*.*)?$")
_GUARD = "FLASH_LAYOUT_H"


def parse_header(text: str, source: str = "flash_layout.h") -> dict[str, int | tuple[int, ...]]:
    """Map each #define of the header to an int, or a tuple of ints for a list."""
    values: dict[str, int | tuple[int, ...]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _DEFINE.match(line)
        if not m or m.group(1) == _GUARD:
            continue
        name, raw = m.group(1), m.group(2)
        try:
            parts = [int(p.strip(), 0) for p in raw.split(",")]
        except ValueError:
            raise BenchError(
                f"{source}:{lineno}: {name} is not an integer or list: {raw!r}"
            ) from None
        values[name] = parts[0] if len(parts) == 1 else tuple(parts)
    return values


@dataclass(frozen=True)
class FlashLayout:
    values: dict[str, int | tuple[int, ...]]

    def __getattr__(self, name: str) -> int:
        try:
            value = self.values[name]
        except KeyError:
            raise AttributeError(name) from None
        if not isinstance(value, int):
            raise AttributeError(f"{name} is a list, use sector_sizes")
        return value

    @property
    def sector_sizes(self) -> tuple[int, ...]:
        kib = self.values["FLASH_SECTOR_SIZES_KIB"]
        assert isinstance(kib, tuple)
        return tuple(k * 1024 for k in kib)

    @property
    def chip(self) -> Chip:
        """The chip as this header sees it (its sectors and RAM)."""
        return Chip("flash_layout.h", self.FLASH_BASE_ADDR, self.sector_sizes,
                    (self.SRAM_BASE_ADDR, self.SRAM_TOTAL_SIZE),
                    (self.CCM_BASE_ADDR, self.CCM_TOTAL_SIZE))

    @property
    def sector_addrs(self) -> tuple[int, ...]:
        return self.chip.sector_addrs

    def sector_of(self, addr: int) -> int:
        return self.chip.sector_of(addr)

    def sectors(self, first: int, last: int) -> Region:
        addr = self.sector_addrs[first]
        size = sum(self.sector_sizes[first : last + 1])
        return Region(f"sectors {first}-{last}", addr, size)

    @property
    def boot(self) -> Region:
        return Region("bootloader", self.BOOT_ADDR, self.BOOT_SIZE)

    @property
    def journal(self) -> tuple[Region, Region]:
        size = self.JOURNAL_SECTOR_SIZE
        return (Region("journal A", self.JOURNAL_A_ADDR, size),
                Region("journal B", self.JOURNAL_B_ADDR, size))

    @property
    def app_slot(self) -> Region:
        return Region("application slot", self.APP_SLOT_ADDR, self.APP_SLOT_SIZE)

    @property
    def staging(self) -> Region:
        return Region("staging slot", self.STAGING_ADDR, self.STAGING_SIZE)


def header_path() -> Path:
    return repo_root() / "firmware" / "include" / "flash_layout.h"


@lru_cache(maxsize=1)
def load() -> FlashLayout:
    path = header_path()
    try:
        text = path.read_text()
    except OSError as e:
        raise BenchError(f"{path}: cannot read the flash layout: {e.strerror}") from None
    return FlashLayout(parse_header(text, str(path)))
