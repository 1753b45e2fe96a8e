"""Outcomes of recovery runs, found again by the part of flash each run depended on.

After a cut, power-on clears RAM and resets the CPU and the models, so the run that
follows is a function of flash, of the cuts still to come and of whether the update had
been committed (which the oracle asks). The engine can say which flash sectors a run
depended on (read or programmed before erasing them, pybench/engine/builtin/
flashwatch.py). A later power-on whose flash agrees with a judged one on those sectors
runs the same way, step by step, so it takes that outcome without running.

Such a state is named by the sectors and their digests, so every cut that leads to the
same run gets the same name, whichever worker saw it first: that is what makes the
"joined" counts of a campaign independent of -j. An engine that cannot watch flash
depends on every sector: equal states are then equal flash images.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class SectorDigests:
    """Digests of one flash image's sectors, each computed when first asked for; a
    sector equal to the same sector of `before` (the image of the cut before, mostly
    equal but for a sector or two) takes its digest, if it has one: comparing 128 KiB
    costs a twentieth of hashing them."""

    def __init__(self, flash: bytes, sectors: Sequence[tuple[int, int]],
                 before: SectorDigests | None = None) -> None:
        self.flash = flash
        self.sectors = sectors            # (offset in the image, size)
        self._done: dict[int, bytes] = {}
        self._before = before
        if before is not None:
            before._before = None         # one image back, not a chain of them

    def one(self, i: int) -> bytes:
        d = self._done.get(i)
        if d is None:
            off, size = self.sectors[i]
            part = self.flash[off : off + size]
            before = self._before
            if (before is None or (d := before._done.get(i)) is None
                    or before.flash[off : off + size] != part):
                d = hashlib.blake2b(part, digest_size=16).digest()
            self._done[i] = d
        return d

    def of(self, which: Sequence[int]) -> bytes:
        return b"".join(self.one(i) for i in which)


def state_name(sectors: Sequence[int], digest: bytes, committed: bool) -> str:
    """The name of a power-on state: its depended sectors and their digests."""
    h = hashlib.sha256(bytes(sectors) + b"|" + digest)
    return h.hexdigest()[:24] + ("+c" if committed else "")


class JudgedStates(Generic[T]):
    """Outcomes (T) by (depended sectors and their content, cuts to come, committed)."""

    def __init__(self, sectors: Sequence[tuple[int, int]]) -> None:
        self.sectors = sectors
        # (depended sectors, cuts to come, committed) -> digest of those sectors -> value
        self._groups: dict[tuple[tuple[int, ...], str, bool], dict[bytes, tuple[str, T]]] = {}
        self._last: SectorDigests | None = None

    def __len__(self) -> int:
        return sum(len(g) for g in self._groups.values())

    def digests(self, flash: bytes) -> SectorDigests:
        """The digests of `flash`, taking those of unchanged sectors from the last call's."""
        self._last = SectorDigests(flash, self.sectors, self._last)
        return self._last

    def find(self, digests: SectorDigests, rest: str, committed: bool) -> tuple[str, T] | None:
        """The judged state this power-on state runs like, as (name, outcome)."""
        for (which, g_rest, g_committed), table in self._groups.items():
            if g_rest == rest and g_committed == committed:
                hit = table.get(digests.of(which))
                if hit is not None:
                    return hit
        return None

    def add(self, digests: SectorDigests, depended: frozenset[int] | None, rest: str,
            committed: bool, value: T | None) -> str:
        """Remember a judged run (None: only name it); `depended` None means every
        sector. Returns the state's name."""
        which = tuple(range(len(self.sectors))) if depended is None else tuple(sorted(depended))
        digest = digests.of(which)
        name = state_name(which, digest, committed)
        if value is not None:
            self._groups.setdefault((which, rest, committed), {})[digest] = (name, value)
        return name
