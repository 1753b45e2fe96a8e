"""The Cortex-M4 bit-band aliases (ARMv7-M "bit-banding"; RM0090 section 2.3.2).

Each word of an alias region stands for one bit of the 1 MiB region below it: the word
at ALIAS + 32 * byte_offset + 4 * bit. A read returns that bit (0 or 1); a write of
bit 0 sets or clears it with one read-modify-write of the target, made at the alias
access's own size and with nothing in between (the bus is held), so it is atomic.
The RMW writes back the other bits as read: a bit-band write to a register whose bits
clear on writing 1 clears the others that were set too, as on the chip.
"""

from __future__ import annotations

from collections.abc import Callable

SRAM_BASE, SRAM_ALIAS = 0x2000_0000, 0x2200_0000
PERIPH_BASE, PERIPH_ALIAS = 0x4000_0000, 0x4200_0000
ALIAS_SIZE = 0x0200_0000          # 32 MiB of alias for 1 MiB of bits

ReadFn = Callable[[int, int], int]
WriteFn = Callable[[int, int, int], None]


def target(base: int, offset: int, size: int) -> tuple[int, int]:
    """(address of the target access of `size` bytes, bit position in it) for an alias
    access at `offset` into the alias of the region at `base`."""
    byte = base + (offset >> 5)
    addr = byte & ~(size - 1)
    return addr, (byte - addr) * 8 + ((offset >> 2) & 7)


class BitBand:
    """One alias region, over read(addr, size) / write(addr, size, value) of the bus."""

    def __init__(self, base: int, read: ReadFn, write: WriteFn):
        self.base = base
        self._read = read
        self._write = write

    def read(self, offset: int, size: int) -> int:
        addr, bit = target(self.base, offset, size)
        return (self._read(addr, size) >> bit) & 1

    def write(self, offset: int, size: int, value: int) -> None:
        addr, bit = target(self.base, offset, size)
        old = self._read(addr, size)
        new = old | (1 << bit) if value & 1 else old & ~(1 << bit)
        self._write(addr, size, new)
