"""Unicorn callbacks registered straight through its C API.

The Python binding wraps every callback in a generic layer (handle conversion, varargs,
exception capture) that costs about as much as a small model's register read; the
machine's hottest callbacks (peripheral registers, flash stores) are registered here
with only the exception capture kept: an exception stops the emulation and emu_start
raises it, as with the binding's own callbacks.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from unicorn import UC_HOOK_MEM_WRITE_PROT, UcError
from unicorn.unicorn_py3.unicorn import (
    HOOK_MEM_INVALID_CFUNC,
    MMIO_READ_CFUNC,
    MMIO_WRITE_CFUNC,
    uclib,
)

ReadFn = Callable[[int, int], int]             # (offset, size) -> value
WriteFn = Callable[[int, int, int], None]      # (offset, size, value)
StoreFn = Callable[[int, int, int], bool]      # (address, size, value) -> let it land
RawStoreFn = Callable[[int, int, int, int, int, int], bool]


def fail(uc: Any, e: BaseException) -> None:
    """A callback raised: stop the emulation; emu_start raises the exception."""
    if uc._hook_exception is None:
        uc._hook_exception = e
    uc.emu_stop()


Access = tuple[ReadFn, WriteFn]


def map_region(uc: Any, base: int, size: int, read: ReadFn, write: WriteFn,
               keep: list[Any]) -> None:
    """mmio_map [base, base+size) to read(offset, size) / write(offset, size, value)."""

    def on_read(_h: int, offset: int, width: int, _ud: int) -> int:
        try:
            return read(offset, width)
        except BaseException as e:
            fail(uc, e)
            return 0

    def on_write(_h: int, offset: int, width: int, value: int, _ud: int) -> None:
        try:
            write(offset, width, value)
        except BaseException as e:
            fail(uc, e)

    rcb, wcb = MMIO_READ_CFUNC(on_read), MMIO_WRITE_CFUNC(on_write)
    keep.append((rcb, wcb))
    _mmio_map(uc, base, size, rcb, wcb)


def _mmio_map(uc: Any, base: int, size: int, rcb: Any, wcb: Any) -> None:
    status = uclib.uc_mmio_map(uc._uch, base, size, rcb, None, wcb, None)
    if status:
        raise UcError(status)


class SwitchedRegions:
    """mmio regions that all switch between two pairs of functions at once: the plain
    pair, and the pair a polling-loop probe needs (pollskip.py), which also tells the
    probe whether each access keeps the loop exact.

    Unicorn's callbacks call `reads[i]` / `writes[i]`: switching replaces the lists'
    content in one step, and costs the plain path one list index per access instead of
    a Python frame (the plain function is most often the model's own read)."""

    def __init__(self) -> None:
        self.reads: list[ReadFn] = []
        self.writes: list[WriteFn] = []
        self._plain: tuple[list[ReadFn], list[WriteFn]] = ([], [])
        self._probing: tuple[list[ReadFn], list[WriteFn]] = ([], [])
        self.probing = False

    def map(self, uc: Any, base: int, size: int, plain: Access, probing: Access,
            keep: list[Any]) -> None:
        i = len(self.reads)
        for pair, (read, write) in ((self._plain, plain), (self._probing, probing)):
            pair[0].append(read)
            pair[1].append(write)
        current = probing if self.probing else plain
        self.reads.append(current[0])
        self.writes.append(current[1])
        reads, writes = self.reads, self.writes

        def on_read(_h: int, offset: int, width: int, _ud: int) -> int:
            try:
                return reads[i](offset, width)
            except BaseException as e:
                fail(uc, e)
                return 0

        def on_write(_h: int, offset: int, width: int, value: int, _ud: int) -> None:
            try:
                writes[i](offset, width, value)
            except BaseException as e:
                fail(uc, e)

        rcb, wcb = MMIO_READ_CFUNC(on_read), MMIO_WRITE_CFUNC(on_write)
        keep.append((rcb, wcb))
        _mmio_map(uc, base, size, rcb, wcb)

    def select(self, probing: bool) -> None:
        if probing != self.probing:
            self.probing = probing
            self.reads[:], self.writes[:] = self._probing if probing else self._plain


def hook_write_prot(uc: Any, begin: int, end: int, store: StoreFn, keep: list[Any]) -> None:
    """Call store(address, size, value) for every store into read-only [begin, end]."""

    def on_store(_h: int, _access: int, addr: int, size: int, value: int, _ud: int) -> bool:
        try:
            return store(addr, size, value)
        except BaseException as e:
            fail(uc, e)
            return False

    hook_write_prot_raw(uc, begin, end, on_store, keep)


def hook_write_prot_raw(uc: Any, begin: int, end: int, on_store: RawStoreFn,
                        keep: list[Any]) -> None:
    """hook_write_prot() for a callback that takes unicorn's own arguments (handle,
    access, address, size, value, user data) and catches its exceptions with fail():
    one Python frame less on the hottest path, the flash program."""
    cb = HOOK_MEM_INVALID_CFUNC(on_store)
    keep.append(cb)
    handle = ctypes.c_size_t()
    status = uclib.uc_hook_add(uc._uch, ctypes.byref(handle), UC_HOOK_MEM_WRITE_PROT,
                               ctypes.cast(cb, ctypes.c_void_p), None,
                               ctypes.c_uint64(begin), ctypes.c_uint64(end))
    if status:
        raise UcError(status)
