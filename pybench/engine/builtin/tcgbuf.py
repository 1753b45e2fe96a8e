"""How full unicorn's translation buffer is: TCGContext.code_gen_ptr, read in place.

Unicorn 2.1.1 crashes when its translation buffer fills in the middle of a run and it
flushes by itself (docs/builtin-engine.md, "Which unicorn"), so the machine flushes it
between runs once it is half full. Unicorn does not say how full it is; this finds its
TCGContext from the pointers in uc_struct (as machine._regs_address finds the CPU
registers), by fields that sit together there: code_gen_buffer, code_gen_buffer_size
(the size the engine asked for), one more word, code_gen_ptr, data_gen_ptr and
code_gen_highwater, the pointers inside the buffer. The path (which pointer of uc_struct,
where in what it points to) is searched once per process and checked on every new
unicorn; not found, the machine counts resets and restores instead (machine.TB_BUDGET).
"""

from __future__ import annotations

import ctypes
import struct
from typing import Any

from pybench.engine.builtin.memscan import anonymous_ranges, within

_SCAN_UC = 8192           # bytes of uc_struct whose words may point to the TCGContext
_SCAN_CTX = 64 * 1024     # bytes of what they point to where the fields may sit
_FIELDS = struct.Struct("<QQQQQQ")   # buffer, size, (size left), ptr, data ptr, highwater

_path: tuple[int, int] | None = None
_searched = False


class Gauge:
    """Bytes of the translation buffer in use (code_gen_ptr - code_gen_buffer)."""

    def __init__(self, buffer: int, ptr_addr: int, size: int) -> None:
        self.buffer = buffer
        self.size = size
        self._ptr = ctypes.c_uint64.from_address(ptr_addr)

    def used(self) -> int:
        return self._ptr.value - self.buffer


def _fields_at(addr: int, size: int) -> tuple[int, int] | None:
    """(buffer, address of code_gen_ptr) when the fields at addr are the ones sought."""
    buf, got, _, ptr, _, high = _FIELDS.unpack(ctypes.string_at(addr, _FIELDS.size))
    if got == size and buf and buf <= ptr <= buf + size and buf < high <= buf + size:
        return buf, addr + 24
    return None


def find(uc: Any, size: int) -> Gauge | None:
    """The gauge of this unicorn's buffer, which must be `size` bytes; None if not
    found (call it after the first mapping: unicorn makes its TCGContext then)."""
    global _path, _searched
    handle = uc._uch.value
    ranges = anonymous_ranges()
    if _path is not None:
        uc_off, ctx_off = _path
        if within(ranges, handle + uc_off, 8) != 8:
            return None
        ctx = ctypes.c_uint64.from_address(handle + uc_off).value
        if within(ranges, ctx + ctx_off, _FIELDS.size) != _FIELDS.size:
            return None
        found = _fields_at(ctx + ctx_off, size)
        return Gauge(found[0], found[1], size) if found else None
    if _searched:
        return None
    _searched = True
    for uc_off in range(0, _SCAN_UC, 8):
        if within(ranges, handle + uc_off, 8) != 8:
            break
        ctx = ctypes.c_uint64.from_address(handle + uc_off).value
        n = within(ranges, ctx, _SCAN_CTX)
        if n < _FIELDS.size:
            continue
        blob = ctypes.string_at(ctx, n)
        at = blob.find(struct.pack("<Q", size))
        while at >= 0:
            if at >= 8 and at % 8 == 0 and at - 8 + _FIELDS.size <= n:
                found = _fields_at(ctx + at - 8, size)
                if found is not None:
                    _path = (uc_off, at - 8)
                    return Gauge(found[0], found[1], size)
            at = blob.find(struct.pack("<Q", size), at + 1)
    return None
