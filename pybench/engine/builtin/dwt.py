"""The Cortex-M4's Data Watchpoint and Trace unit (DWT, 0xE0001000; ARMv7-M C1.8) and
the debug register DEMCR (0xE000EDFC) that powers it.

What firmware uses it for: CYCCNT, a free-running count of CPU cycles, which counts
while DEMCR.TRCENA and DWT_CTRL.CYCCNTENA are both set (HAL's and Zephyr's microsecond
delays and timing, benchmarks). In the bench 1 instruction is 1 cycle, so CYCCNT is the
machine's own cycle count from the moment it started, wrapping at 2^32. The other
profiling counters read 0 (their events are not modelled); the comparators are stored.
"""

from __future__ import annotations

from typing import Any, Protocol

from pybench.engine.builtin.peripheral import Bus, Peripheral
from pybench.engine.builtin.regfile import merge

CTRL, CYCCNT, CPICNT, EXCCNT, SLEEPCNT, LSUCNT, FOLDCNT, PCSR = range(0, 0x20, 4)
LAR, LSR = 0xFB0, 0xFB4
CTRL_CYCCNTENA = 1 << 0
CTRL_RESET = 4 << 28              # NUMCOMP = 4 comparators
DEMCR_TRCENA = 1 << 24
DEMCR_WRITABLE = 0x010F_07F1      # TRCENA, MON_*, VC_* bits
# COMPn, MASKn, FUNCTIONn for n = 0..3 at 0x20 + 16 n.
_COMPARATORS = {0x20 + 16 * n + 4 * r for n in range(4) for r in range(3)}


class Clock(Protocol):
    @property
    def cycles(self) -> int: ...


class Dwt(Peripheral):
    repl_types = ("Miscellaneous.DWT",)
    default_size = 0x1000

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        self.clock: Clock | None = None
        self.reset()

    def bind(self, clock: Clock) -> None:
        """The machine's cycle counter (CYCCNT follows it)."""
        self.clock = clock

    def _now(self) -> int:
        return self.clock.cycles if self.clock is not None else 0

    def reset(self) -> None:
        self.ctrl = CTRL_RESET
        self.demcr = 0
        # CYCCNT = (cyc_value + cycles since cyc_base) while counting, else cyc_value.
        self.cyc_value = 0
        self.cyc_base = 0
        self.comparators: dict[int, int] = dict.fromkeys(sorted(_COMPARATORS), 0)

    def save(self) -> Any:
        return (self.ctrl, self.demcr, self.cyc_value, self.cyc_base,
                tuple(sorted(self.comparators.items())))

    def load(self, state: Any) -> None:
        self.ctrl, self.demcr, self.cyc_value, self.cyc_base, comps = state
        self.comparators = dict(comps)

    # --- CYCCNT ------------------------------------------------------------------------
    def counting(self) -> bool:
        return bool(self.ctrl & CTRL_CYCCNTENA and self.demcr & DEMCR_TRCENA)

    def cyccnt(self) -> int:
        if not self.counting():
            return self.cyc_value
        return (self.cyc_value + self._now() - self.cyc_base) & 0xFFFF_FFFF

    def _change(self, ctrl: int | None = None, demcr: int | None = None,
                cyccnt: int | None = None) -> None:
        """Fold the count so far into cyc_value, then change what decides counting."""
        self.cyc_value = self.cyccnt() if cyccnt is None else cyccnt & 0xFFFF_FFFF
        self.cyc_base = self._now()
        if ctrl is not None:
            self.ctrl = (ctrl & 0x0FFF_FFFF) | CTRL_RESET
        if demcr is not None:
            self.demcr = demcr & DEMCR_WRITABLE

    def write_demcr(self, value: int) -> None:
        self._change(demcr=value)

    def stable_read(self, offset: int) -> bool:
        return offset & ~3 != CYCCNT

    # --- registers ---------------------------------------------------------------------
    def _read_word(self, word: int) -> int | None:
        if word == CTRL:
            return self.ctrl
        if word == CYCCNT:
            return self.cyccnt()
        if word in (CPICNT, EXCCNT, SLEEPCNT, LSUCNT, FOLDCNT, PCSR, LSR):
            return 0
        return self.comparators.get(word)

    def read(self, offset: int, size: int) -> int:
        value = self._read_word(offset & ~3)
        if value is None:
            self.unknown(offset & ~3, "read")
            return 0
        return (value >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        old = self._read_word(word)
        if old is None and word != LAR:
            self.unknown(word, "write")
            return
        _, value = merge(old or 0, offset, size, value)
        if word == CTRL:
            self._change(ctrl=value)
        elif word == CYCCNT:
            self._change(cyccnt=value)
        elif word in self.comparators:
            self.comparators[word] = value
        # LAR (the lock access key) and the read-only counters: nothing to keep.
