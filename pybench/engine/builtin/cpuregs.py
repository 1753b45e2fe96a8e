"""CPU registers read and written straight through unicorn's C API.

The Python binding's `reg_read` / `reg_write` pick a ctypes class per register, build a
value object and check the status: about 4 us a call, 25 us for a batch of five (its
`reg_read_batch`). Exception entry and return touch a dozen registers, so a board that
takes a SysTick every millisecond spent ~120 us per interrupt there. These calls reach
the same C functions (uc_reg_read, uc_reg_write and their batch forms) as functions of the
library without argument types, called with ctypes objects made once (no conversion on
the way in): ~0.7 us a call.

Only 32-bit registers (core, special, S0-S31, FPSCR) go through here: values are
64-bit buffers as the binding uses, masked to 32 bits on the way out.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

from unicorn import UcError
from unicorn.unicorn_py3.unicorn import uclib


def _raw(name: str) -> Any:
    """A function of unicorn's library with no argument types: ctypes passes ctypes
    objects as they are and Python ints as C ints (all our register ids are)."""
    fn = getattr(ctypes.CDLL(uclib._name), name)
    fn.argtypes = None
    fn.restype = ctypes.c_int
    return fn


_READ = _raw("uc_reg_read")
_WRITE = _raw("uc_reg_write")
_READ_MANY = _raw("uc_reg_read_batch")
_WRITE_MANY = _raw("uc_reg_write_batch")
_M32 = 0xFFFF_FFFF


class RegSet:
    """A fixed list of registers read or written in one C call."""

    def __init__(self, uch: ctypes.c_void_p, regs: Sequence[int]):
        n = len(regs)
        self._uch = uch
        self._n = ctypes.c_int(n)
        self._ids = (ctypes.c_int * n)(*regs)
        self._vals = (ctypes.c_uint64 * n)()
        base = ctypes.addressof(self._vals)
        self._ptrs = (ctypes.c_void_p * n)(*(base + 8 * i for i in range(n)))

    def read(self) -> list[int]:
        status = _READ_MANY(self._uch, self._ids, self._ptrs, self._n)
        if status:
            raise UcError(status)
        return [v & _M32 for v in self._vals]

    def read_raw(self) -> bytes:
        """The values as one byte string (for comparing whole states)."""
        status = _READ_MANY(self._uch, self._ids, self._ptrs, self._n)
        if status:
            raise UcError(status)
        return bytes(self._vals)

    def write(self, values: Sequence[int]) -> None:
        vals = self._vals
        for i, v in enumerate(values):
            vals[i] = v & _M32
        status = _WRITE_MANY(self._uch, self._ids, self._ptrs, self._n)
        if status:
            raise UcError(status)


class CpuRegs:
    """One Uc's registers, one at a time or as fixed sets."""

    def __init__(self, uc: Any):
        self.uch = ctypes.c_void_p(uc._uch.value)
        self._buf = ctypes.c_uint64()
        self._ref = ctypes.byref(self._buf)

    def read(self, reg: int) -> int:
        buf = self._buf
        buf.value = 0
        status = _READ(self.uch, reg, self._ref)
        if status:
            raise UcError(status)
        return buf.value & _M32

    def write(self, reg: int, value: int) -> None:
        self._buf.value = value & _M32
        status = _WRITE(self.uch, reg, self._ref)
        if status:
            raise UcError(status)

    def set(self, regs: Sequence[int]) -> RegSet:
        return RegSet(self.uch, regs)
