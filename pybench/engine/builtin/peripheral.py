"""What a peripheral model is, and what it may ask of the machine it sits in.

Every model of the built-in engine (USART, RCC, flash interface, Ethernet MAC, ...) is a
`Peripheral`: it answers register reads and writes at offsets from its base address,
resets, and saves/restores its state for snapshots. It reaches the rest of the board
only through the `Bus` it is given: memory for DMA, interrupt lines, virtual time and
timed callbacks, frames out, and events for the bench. One model, one file, one job.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol


class Bus(Protocol):
    """The machine as a peripheral model sees it."""

    @property
    def now_ns(self) -> int:
        """Current virtual time."""
        ...

    def cpu_pc(self) -> int:
        """Address of the instruction being executed (where an access came from)."""
        ...

    def read_mem(self, addr: int, size: int) -> bytes:
        """Read memory as a bus master (DMA): SRAM, CCM, flash."""
        ...

    def write_mem(self, addr: int, data: bytes) -> None:
        """Write memory as a bus master (DMA): SRAM and CCM only."""
        ...

    def set_irq(self, irq: int, level: bool) -> None:
        """Drive external interrupt line `irq` (0..81) of the NVIC high or low."""
        ...

    def schedule(self, at_ns: int, callback: Callable[[], None]) -> object:
        """Call `callback` when virtual time reaches at_ns; returns a handle for cancel()."""
        ...

    def cancel(self, handle: object) -> None: ...

    def advance(self, ns: int) -> None:
        """Stall the CPU for ns of virtual time (e.g. code fetch blocked during a flash erase)."""
        ...

    def frame_out(self, frame: bytes) -> None:
        """A frame the board put on the Ethernet wire."""
        ...

    def console_write(self, data: bytes) -> None:
        """Bytes a USART sent: the board's console."""
        ...

    def event(self, kind: str, detail: str) -> None:
        """Tell the bench something happened (kinds: "unmapped", "fault", "power-cut", ...)."""
        ...

    def request_stop(self, reason: str) -> None:
        """Stop the CPU as soon as the current instruction allows (power cut, breakpoint)."""
        ...


class Peripheral(ABC):
    """A memory-mapped peripheral model at [base, base + size)."""

    #: The Renode type names (as in a .repl file) this model stands for.
    repl_types: tuple[str, ...] = ()

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        self.name = name
        self.base = base
        self.size = size
        self.bus = bus
        self.props = props
        self._reported: set[int] = set()

    @abstractmethod
    def read(self, offset: int, size: int) -> int:
        """A CPU read of `size` bytes (1, 2 or 4) at base + offset."""

    @abstractmethod
    def write(self, offset: int, size: int, value: int) -> None:
        """A CPU write of `size` bytes at base + offset."""

    @abstractmethod
    def reset(self) -> None:
        """Power-on or system reset: registers to their reset values."""

    def stable_read(self, offset: int) -> bool:
        """A read at `offset` has no side effect and its value changes only by CPU writes
        or by this model's scheduled callbacks, never by the mere passing of time: a
        loop polling it may be skipped up to the next event (pollskip.py). False unless
        a model says so."""
        return False

    def system_reset(self, cause: str) -> None:
        """A reset of the chip: cause is "power-on", "SYSRESETREQ", "IWDG" or "WWDG".
        Models of the backup domain or of reset flags keep state across some; the
        rest just reset."""
        self.reset()

    @abstractmethod
    def save(self) -> Any:
        """State for a snapshot: plain, immutable-enough data (tuples, bytes, ints)."""

    @abstractmethod
    def load(self, state: Any) -> None:
        """Restore what save() returned."""

    def unknown(self, offset: int, access: str) -> None:
        """An access to a register this model does not know: reported once per offset
        (as the machine reports registers of blocks nobody models: "unmodelled", with
        the PC). Reads of unknown registers return 0 and writes are dropped, but never
        silently."""
        report = getattr(self.bus, "unmodelled_access", None)
        if report is not None:
            report(self.base + offset, access)     # the machine keeps one per register
            return
        if offset in self._reported:
            return
        self._reported.add(offset)
        self.bus.event(
            "unmodelled",
            f"{self.name}: {access} of unknown register at 0x{self.base + offset:08x}"
            f" (offset 0x{offset:03x})",
        )
