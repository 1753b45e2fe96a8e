"""The chips a board description can name: their flash geometry and RAM, from RM0090.

These are facts of the silicon, not of any device: a device description says which chip
its board carries, and its flash layout is checked against that chip's sectors.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024


@dataclass(frozen=True)
class Chip:
    name: str
    flash_base: int
    sector_sizes: tuple[int, ...]
    sram: tuple[int, int]          # base, size (SRAM1 + SRAM2, contiguous)
    ccm: tuple[int, int]
    eth_mac: int = 0x4002_8000     # the Ethernet MAC's registers (RM0090 section 33.8)

    @property
    def flash_size(self) -> int:
        return sum(self.sector_sizes)

    @property
    def sector_addrs(self) -> tuple[int, ...]:
        addrs, addr = [], self.flash_base
        for size in self.sector_sizes:
            addrs.append(addr)
            addr += size
        return tuple(addrs)

    def sector_of(self, addr: int) -> int:
        for i, (base, size) in enumerate(zip(self.sector_addrs, self.sector_sizes, strict=True)):
            if base <= addr < base + size:
                return i
        raise ValueError(f"0x{addr:08x} is not in flash")

    def in_ram(self, addr: int) -> bool:
        return any(base <= addr < base + size for base, size in (self.sram, self.ccm))


# RM0090 table 5: sectors 0-3 of 16 KiB, 4 of 64 KiB, then 128 KiB each.
_F4_SECTORS_1M = (16 * KIB,) * 4 + (64 * KIB,) + (128 * KIB,) * 7

CHIPS = {
    "stm32f407vg": Chip("stm32f407vg", 0x0800_0000, _F4_SECTORS_1M,
                        (0x2000_0000, 128 * KIB), (0x1000_0000, 64 * KIB)),
    "stm32f407ve": Chip("stm32f407ve", 0x0800_0000, _F4_SECTORS_1M[:8],
                        (0x2000_0000, 128 * KIB), (0x1000_0000, 64 * KIB)),
}


def chip_for_flash(base: int, size: int) -> Chip:
    """The chip whose flash starts at `base` and holds `size` bytes (a platform file gives
    its flash memory; the sectors follow from the chip)."""
    for chip in CHIPS.values():
        if chip.flash_base == base and chip.flash_size == size:
            return chip
    raise ValueError(f"no known chip has {size // KIB} KiB of flash at 0x{base:08x}")


# The chip of the bench's own platform file (platforms/stm32f407-eth.repl).
F407 = CHIPS["stm32f407vg"]
