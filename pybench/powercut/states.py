"""Which flash operations change flash, and the runs of programs that go together.

A cut leaves flash as it was after the operations before it; the machine at the next
power-on is determined by that flash alone (RAM is lost, the CPU resets). So cuts whose
flash is equal are the same test. This module replays a trace over a copy of the flash
taken when the trace started, to find:

- effective operations: those that change flash (a program of all-ones bits, or a
  program of what is already there, or an erase of an erased sector, changes nothing);
- bursts: maximal runs of consecutive effective programs into one sector at ascending
  contiguous addresses, outside the metadata regions (a journal, a flag word). Inside a
  burst, every intermediate state is "the same data, partly written"; the states plan
  keeps the burst's edges (see plan.py) and counts the rest as one state. Metadata
  words are never grouped: the
  bootloader decides on a record field by field (a record with its state written but
  not its CRC, or its `copied` field still erased, is exactly what a bad journal
  reader trusts), so every partly written record is a state of its own.

Pure: a trace and bytes in, numbers out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pybench.device.model import Layout
from pybench.engine.base import FlashOp, FlashOpKind


@dataclass(frozen=True)
class Burst:
    first: int   # index (FlashOp.index) of the first operation
    last: int    # index of the last operation (== first for a single operation)
    kind: FlashOpKind
    sector: int


def replay(trace: Sequence[FlashOp], initial: bytes, lay: Layout
           ) -> Iterator[tuple[FlashOp, bool, bytearray]]:
    """Apply the trace to a copy of `initial` (the whole flash when the trace started):
    yields each operation, whether it changed flash, and the flash after it (the same
    bytearray each time, updated in place: copy what you keep)."""
    if len(initial) != lay.FLASH_TOTAL_SIZE:
        raise ValueError(f"initial flash is {len(initial)} bytes, not {lay.FLASH_TOTAL_SIZE}")
    flash = bytearray(initial)
    for op in trace:
        off = op.addr - lay.FLASH_BASE_ADDR
        old = bytes(flash[off : off + op.size])
        if op.kind is FlashOpKind.ERASE:
            new = b"\xff" * op.size
        else:
            value = op.value if op.value is not None else (1 << (8 * op.size)) - 1
            new = bytes(o & n for o, n in zip(old, value.to_bytes(op.size, "little"),
                                              strict=True))
        flash[off : off + op.size] = new
        yield op, new != old, flash


def effective_ops(trace: Sequence[FlashOp], initial: bytes | None, lay: Layout) -> list[bool]:
    """For each operation: does it change flash? `initial` is the whole flash when the
    trace started; without it, every erase counts as a change and a program does when
    its value has a zero bit."""
    if initial is not None:
        return [changed for _, changed, _ in replay(trace, initial, lay)]
    ones = [(1 << (8 * op.size)) - 1 for op in trace]
    return [op.kind is FlashOpKind.ERASE or (op.value is not None and op.value != m)
            for op, m in zip(trace, ones, strict=True)]


def bursts(trace: Sequence[FlashOp], effective: Sequence[bool], lay: Layout) -> list[Burst]:
    """The effective operations grouped into bursts (an erase is a burst of its own).

    Programs that change nothing (all-ones words in an image's padding) do not end a
    burst when they continue its addresses: a cut next to them leaves the same flash.
    """
    out: list[Burst] = []
    open_run = False          # is out[-1] a program burst that may still grow?
    expect = -1               # address the open burst's next program would have
    for op, eff in zip(trace, effective, strict=True):
        if op.kind is FlashOpKind.ERASE:
            open_run = False
            if eff:
                out.append(Burst(op.index, op.index, op.kind, op.sector))
            continue
        continues = (
            open_run and op.addr == expect and op.sector == out[-1].sector
            and not any(op.addr in r for r in lay.metadata)
        )
        if continues:
            expect = op.addr + op.size
            if eff:
                last = out[-1]
                out[-1] = Burst(last.first, op.index, last.kind, last.sector)
        elif eff:
            out.append(Burst(op.index, op.index, op.kind, op.sector))
            open_run, expect = True, op.addr + op.size
        else:
            open_run = False
    return out
