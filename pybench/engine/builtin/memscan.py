"""This process's own memory, in place: which parts can be read safely, for the searches
that find unicorn's internals (machine._regs_address, tcgbuf.find: only anonymous
mappings, which reading cannot fault, unlike a file mapping past the end of its file),
and libc's memcmp, to compare a memory with its copy without a second copy (snapshot
restores, the polling detector)."""

from __future__ import annotations

import ctypes

# Addresses, ctypes arrays or bytes; argtypes so that 64-bit addresses pass whole.
memcmp = ctypes.CDLL(None).memcmp
memcmp.restype = ctypes.c_int
memcmp.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]


def anonymous_ranges() -> list[tuple[int, int]]:
    """Readable anonymous mappings (heap, malloc'ed blocks) of this process."""
    ranges = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split()
                if fields[1].startswith("r") and (len(fields) < 6 or fields[5] == "[heap]"):
                    lo, hi = (int(x, 16) for x in fields[0].split("-"))
                    ranges.append((lo, hi))
    except OSError:
        pass
    return ranges


def within(ranges: list[tuple[int, int]], addr: int, n: int) -> int:
    """Bytes readable from addr (at most n) inside one of the ranges; 0 if none."""
    for lo, hi in ranges:
        if lo <= addr < hi:
            return min(n, hi - addr)
    return 0
