"""The stricter oracle: rules a run must keep besides ending on the right image, each
with a verdict of its own (docs/powercut.md, "The oracle"). Pure: a trace, the flash it
started from, board events, journal bytes in; a Judgement or None out.

- `protected-write`: an erase or program in a protected region (the bootloader sector);
- `overwrite`: a program into a word that was not erased (flash ANDs: the word ends
  up neither old nor new; the STM32F4 does not refuse it, others do);
- `chip-refused`: an operation the flash interface refused (no PG, PSIZE, alignment,
  sequence or protection errors: the flash rules report them as "flash-refused" events);
- `bad-access`: an access to memory the chip does not have (a BusFault on an unmapped
  address);
- `boot-loop`: the board reset again and again without the ready line;
- `unfinished`: the journal still says an update is under way after it was judged;
- `writes-on-boot`: flash written on a boot with nothing pending (wear);
- `unstable`: a later boot (reset, power cycle) ran another image, or none;
- `app-reset`: the application reset within the soak time after its ready line.
"""

from __future__ import annotations

from collections.abc import Sequence

from pybench import journal
from pybench.device.model import Layout
from pybench.engine.base import BoardEvent, FlashOp, FlashOpKind
from pybench.powercut.oracle import Judgement, Verdict

# Resets after a power-on, without the ready line, that make a boot loop.
LOOP_RESETS = 3
REFUSED_EVENT = "flash-refused"
_FINISHED = (journal.State.EMPTY, journal.State.DONE, journal.State.CANCELLED,
             journal.State.REJECTED)


def _where(op: FlashOp) -> str:
    return f"{op.kind.value} at 0x{op.addr:08x} (sector {op.sector}, operation {op.index})"


def trace_rules(ops: Sequence[FlashOp], flash: bytes, lay: Layout) -> Judgement | None:
    """protected-write, then overwrite, over a run's trace from the flash it began with
    (the bootloader region of `lay` is the protected one)."""
    lo, hi = lay.boot.addr, lay.boot.end
    for op in ops:
        if lo <= op.addr < hi:
            return Judgement(Verdict.PROTECTED_WRITE, f"{_where(op)}: the bootloader sector "
                                                      "is protected")
    base = lay.FLASH_BASE_ADDR
    now = bytearray(flash)
    erased = {n: b"\xff" * n for n in (1, 2, 4, 8)}
    for op in ops:
        off, size = op.addr - base, op.size
        ones = erased.get(size) or b"\xff" * size
        if op.kind is FlashOpKind.ERASE:
            now[off : off + size] = ones
            continue
        old = now[off : off + size]
        if old != ones:
            return Judgement(Verdict.OVERWRITE, f"{_where(op)}: programmed over "
                                                f"0x{bytes(old)[::-1].hex()}, not erased")
        # Programmed over erased bytes: flash ends up holding the value itself.
        now[off : off + size] = (op.value if op.value is not None else 0).to_bytes(size,
                                                                                   "little")
    return None


def event_rules(events: Sequence[BoardEvent], ready: bool) -> Judgement | None:
    """chip-refused, bad-access, boot-loop over the events of one run (from its power-on,
    which is itself a reset event)."""
    for e in events:
        if e.kind == REFUSED_EVENT:
            return Judgement(Verdict.CHIP_REFUSED, f"the flash interface refused an "
                                                   f"operation: {e.detail}")
    for e in events:
        if e.kind == "fault" and "unmapped" in e.detail:
            return Judgement(Verdict.BAD_ACCESS, f"access to memory the chip lacks: {e.detail}")
    resets = sum(e.kind == "reset" for e in events) - 1
    if not ready and resets >= LOOP_RESETS:
        return Judgement(Verdict.BOOT_LOOP, f"{resets} resets without the ready line")
    return None


def journal_rule(journal_a: bytes, journal_b: bytes) -> Judgement | None:
    """unfinished: the current record still says STAGED or COPIED."""
    cur = journal.scan(journal_a, journal_b).current
    if cur is not None and cur.state not in _FINISHED:
        return Judgement(Verdict.UNFINISHED, f"the journal still says {cur.state.name} "
                                             f"(seq {cur.seq}) once the update was judged")
    return None


def reboot_rule(how: str, first: Judgement, now: Judgement, ops: Sequence[FlashOp],
                resets: int) -> Judgement | None:
    """After a recovery judged `first`, another boot (`how`: reset, power cycle) judged
    `now`, with the flash operations it did and the resets after its ready line."""
    if ops:
        return Judgement(Verdict.WRITES_ON_BOOT, f"{how}: {len(ops)} flash operations on a "
                                                 f"boot with nothing pending, first "
                                                 f"{_where(ops[0])}")
    if not now.verdict.ok or now.running != first.running:
        return Judgement(Verdict.UNSTABLE, f"{how}: {now.verdict.value}: {now.reason} "
                                           f"(the recovery ran the {first.running} image)")
    if resets:
        return Judgement(Verdict.APP_RESET, f"{how}: the application reset {resets} times "
                                            "after its ready line")
    return None
