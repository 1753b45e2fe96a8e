"""Which flash sectors a run depended on, so that a campaign can prove two runs equal.

From start() on, every flash sector is watched. The run depends on a sector's content
at start() when it reads that sector before erasing it: a CPU load or instruction fetch
(unicorn's protection hooks: watched sectors are mapped with no access, the first access
is noted, the sector is opened again and the access retried), a bus master's read (the
Ethernet DMA, the vector fetch, the boot alias, the flash rules reading what a torn
erase leaves), or a program (its result is the old content AND the new value). A
complete erase makes the sector fresh: what it holds afterwards comes from the run
itself, so later accesses add nothing. stop() says which sectors were depended on.

Why it is enough: a run from power-on is a function of flash (RAM is cleared, the CPU
and the models reset). Two power-on states whose flash agrees on every sector the first
run depended on make the second run read, step by step, the values the first one read,
so it takes the same steps, programs the same values and ends the same way.

Protection changes from inside a store hook or an mmio callback crashed unicorn, so
sectors noted there are opened after the current slice (release_pending()); an access
to such a sector before that reaches the protection hook, which opens it at once. Every
change of protection is followed by a flush of unicorn's TLB, which mem_protect does
not always drop (tests/powercut/test_powercut_dedup.py found it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unicorn import (
    UC_HOOK_MEM_FETCH_PROT,
    UC_HOOK_MEM_READ_PROT,
    UC_PROT_EXEC,
    UC_PROT_NONE,
    UC_PROT_READ,
)

from pybench.engine.builtin import ucctl

PAGE_SHIFT = 10          # unicorn's ARM page: 1 KiB
OPEN = UC_PROT_READ | UC_PROT_EXEC


class FlashWatch:
    """Dependence of a run on flash sectors (see the module docstring)."""

    def __init__(self, uc: Any, base: int, sector_sizes: Sequence[int]) -> None:
        self.uc = uc
        self.base = base
        self.sectors: list[tuple[int, int]] = []       # (address, size)
        page_sector: list[int] = []
        addr = base
        for i, size in enumerate(sector_sizes):
            self.sectors.append((addr, size))
            page_sector += [i] * (size >> PAGE_SHIFT)
            addr += size
        self.end = addr
        self.page_sector = page_sector
        # 1 for every page of a sector whose first access is still to be noted; read on
        # every flash store, so a bytearray indexed by page.
        self.watched = bytearray(len(page_sector))
        self.active = False
        self.depended: set[int] = set()
        self._closed: set[int] = set()     # sectors mapped with no access right now
        self._pending: set[int] = set()    # sectors to open after the current slice
        # The erase guard: while an erase started from RAM runs, every flash access
        # waits for its end (RM0090: the bus stalls). Sectors closed for it alone are
        # `_guarded`; the first access calls on_guarded_access (the machine stalls the
        # CPU to the end of the erase) and lifts the guard.
        self.guarding = False
        self._guarded: set[int] = set()
        self._guard_wanted: bool | None = None
        self.on_guarded_access: Any = None
        uc.hook_add(UC_HOOK_MEM_READ_PROT | UC_HOOK_MEM_FETCH_PROT, self._on_prot, None,
                    base, addr - 1)

    # --- the run ------------------------------------------------------------------------
    def start(self) -> None:
        """Watch every sector from now on."""
        self.stop()
        self.depended = set()
        self.active = True
        self.watched[:] = b"\x01" * len(self.watched)
        for i, (addr, size) in enumerate(self.sectors):
            self.uc.mem_protect(addr, size, UC_PROT_NONE)
            self._closed.add(i)
        self._flush_tlb()

    def stop(self) -> frozenset[int] | None:
        """Stop watching; the sectors depended on (None when not watching). The erase
        guard is lifted too."""
        was = self.active
        self.active = False
        self.watched[:] = bytes(len(self.watched))
        for i in sorted(self._closed):
            self._open(i)
        self._pending.clear()
        self.guarding = False
        self._guarded.clear()
        self._guard_wanted = None
        return frozenset(self.depended) if was else None

    # --- the erase guard ------------------------------------------------------------------
    def want_guard(self, on: bool) -> None:
        """Close (on) or open flash for the erase guard at the next apply_guard()."""
        self._guard_wanted = on

    def apply_guard(self) -> None:
        """Carry out want_guard() (between slices: protections cannot change in hooks)."""
        on, self._guard_wanted = self._guard_wanted, None
        if on is None or on == self.guarding:
            return
        if on:
            self.guarding = True
            for i, (addr, size) in enumerate(self.sectors):
                if i not in self._closed:
                    self.uc.mem_protect(addr, size, UC_PROT_NONE)
                    self._closed.add(i)
                    self._guarded.add(i)
            self._flush_tlb()
        else:
            self._lift_guard()

    def _lift_guard(self) -> None:
        self.guarding = False
        for s in self._guarded:
            lo = self.sectors[s][0]
            if not self.watched[(lo - self.base) >> PAGE_SHIFT]:
                self._pending.add(s)
        self._guarded.clear()

    # --- what the machine reports ---------------------------------------------------------
    def note(self, addr: int, n: int) -> None:
        """The run read (or programmed) [addr, addr + n) of flash."""
        if not self.active:
            return
        lo = max(addr, self.base)
        hi = min(addr + n, self.end)
        if lo >= hi:
            return
        pages = self.page_sector
        first = pages[(lo - self.base) >> PAGE_SHIFT]
        last = pages[(hi - 1 - self.base) >> PAGE_SHIFT]
        for s in range(first, last + 1):
            if self.watched[(self.sectors[s][0] - self.base) >> PAGE_SHIFT]:
                self.depended.add(s)
                self._unwatch(s)

    def overwritten(self, addr: int, n: int) -> None:
        """[addr, addr + n) was set without reading it (an erase): whole sectors in it
        are fresh from now on."""
        if not self.active:
            return
        for s, (lo, size) in enumerate(self.sectors):
            if addr <= lo and lo + size <= addr + n:
                self._unwatch(s)

    def release_pending(self) -> None:
        """Between slices: apply the erase guard asked for, open the sectors noted
        inside hooks (while the guard is up they stay closed, for the guard)."""
        if self._guard_wanted is not None:
            self.apply_guard()
        if self.guarding:
            self._guarded |= self._pending & self._closed
            self._pending.clear()
            return
        for s in sorted(self._pending):
            if s in self._closed:
                self._open(s)
        self._pending.clear()

    @property
    def between_slices(self) -> bool:
        """Work waits for the end of the slice (release_pending)."""
        return bool(self._pending) or self._guard_wanted is not None

    def _unwatch(self, s: int) -> None:
        lo, size = self.sectors[s]
        first = (lo - self.base) >> PAGE_SHIFT
        self.watched[first : first + (size >> PAGE_SHIFT)] = bytes(size >> PAGE_SHIFT)
        if s in self._closed:
            self._pending.add(s)

    def _on_prot(self, uc: Any, access: int, addr: int, size: int, value: int,
                 _: Any) -> bool:
        # Flash is always readable but for the sectors closed here, so this is ours.
        s = self.page_sector[(addr - self.base) >> PAGE_SHIFT]
        if self.guarding:
            if self.on_guarded_access is not None:
                self.on_guarded_access()     # the CPU waits for the end of the erase
            self._lift_guard()
        if self.watched[(addr - self.base) >> PAGE_SHIFT]:
            self.depended.add(s)
            self._unwatch(s)
        # No TLB flush in here: it crashed unicorn in the middle of the access. The
        # retried access refills its own entry.
        self._open(s, flush=False)
        self._pending.discard(s)
        return True          # retry the access, now allowed

    def _open(self, s: int, flush: bool = True) -> None:
        lo, n = self.sectors[s]
        self.uc.mem_protect(lo, n, OPEN)
        self._closed.discard(s)
        if flush:
            self._flush_tlb()

    def _flush_tlb(self) -> None:
        # mem_protect leaves some of the CPU's TLB entries in place (measured: a page
        # read in the previous run was read again without reaching the hook), so every
        # change of protection is followed by a flush.
        ucctl.flush_tlb(self.uc._uch.value)
