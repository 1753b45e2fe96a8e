"""The uc_ctl calls the engine makes, straight through unicorn's C API.

Python's wrappers cost about 10 us a call, and the pinned 2.1.1 binding refuses a control
with no argument (its encoder asserts nargs > 0), which is what a TB or TLB flush is.
The code of a control is unicorn.h's UC_CTL_WRITE: the I/O direction in bits 30-31, the
argument count in bits 26-29, the control in the low bits.
"""

from __future__ import annotations

import ctypes

from unicorn import UcError
from unicorn import unicorn_const as uconst
from unicorn.unicorn_py3.unicorn import uclib


def _write(ctl: int, nargs: int) -> int:
    return (uconst.UC_CTL_IO_WRITE << 30) | (nargs << 26) | ctl


_TB_FLUSH = _write(uconst.UC_CTL_TB_FLUSH, 0)
_TLB_FLUSH = _write(uconst.UC_CTL_TLB_FLUSH, 0)
_REMOVE_CACHE = _write(uconst.UC_CTL_TB_REMOVE_CACHE, 2)
_TCG_BUFFER_SIZE = _write(uconst.UC_CTL_TCG_BUFFER_SIZE, 1)

# The translation buffer. Unicorn 2.1.1 crashes (in tb_set_jmp_target) when the buffer
# fills in the middle of a run and it flushes by itself, so the machine keeps it from
# filling: it drops code in ranges, which frees no space, and flushes the whole buffer
# between runs once it is half full (tcgbuf.py, machine._spend_tb). A flush costs about
# 0.1-0.25 ms per MiB of buffer in 2.1.1 (the default, 1 GiB, took 0.5 s); 32 MiB holds
# many times the translations of our sample firmware (its bootloader, through a signature
# check, uses about 0.1 MiB).
TCG_BUFFER_SIZE = 32 << 20


def _check(status: int) -> None:
    if status:
        raise UcError(status)


def set_tcg_buffer_size(uch: int) -> None:
    """Size the translation buffer (TCG_BUFFER_SIZE; before the engine first runs)."""
    _check(uclib.uc_ctl(uch, _TCG_BUFFER_SIZE, ctypes.c_uint32(TCG_BUFFER_SIZE)))


def flush_tb(uch: int) -> None:
    """Drop every translated block."""
    _check(uclib.uc_ctl(uch, _TB_FLUSH))


def flush_tlb(uch: int) -> None:
    """Drop the CPU's TLB (after a change of protection)."""
    _check(uclib.uc_ctl(uch, _TLB_FLUSH))


def remove_cache(uch: int, lo: int, hi: int) -> None:
    """Drop the blocks translated from [lo, hi)."""
    _check(uclib.uc_ctl(uch, _REMOVE_CACHE, ctypes.c_uint64(lo), ctypes.c_uint64(hi)))
