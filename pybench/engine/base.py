"""The interface every emulation engine offers: the built-in one and Renode.

Scenarios, the network host, the Robot keywords and the power-cut campaigns talk to a
board only through this interface, so they run unchanged on either engine.

Time is virtual: nanoseconds of the emulated board, derived from what it executed. A
run stops at a deadline, at a condition the caller gives, at a power cut, or at a
fault; the caller then looks at the board, sends frames, and runs again.
"""

from __future__ import annotations

import enum
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pybench.errors import BenchError


class FlashOpKind(str, enum.Enum):
    ERASE = "erase"      # one sector erase (SER + STRT)
    PROGRAM = "program"  # one programmed unit (a word with PSIZE x32)


@dataclass(frozen=True)
class FlashOp:
    """One flash operation the firmware started, in the order it started them."""

    index: int           # 0-based, counted from the last reset_trace()
    kind: FlashOpKind
    addr: int            # sector base (erase) or programmed address (program)
    size: int            # bytes erased or programmed
    sector: int
    value: int | None    # the value programmed; None for an erase
    time_ns: int         # virtual time the operation started
    pc: int              # address of the instruction that started it


class CutMode(str, enum.Enum):
    BEFORE = "before"    # power fails just before operation N takes effect
    AFTER = "after"      # power fails just after operation N completed
    TORN = "torn"        # power fails during operation N: a torn erase or program
    # Flash failures without a power cut (docs/powercut.md, "Flash failures"): operation
    # N goes wrong in this way and the board runs on. The seed draws the bits.
    SILENT = "silent"            # a program leaves some bits at 1, and says nothing
    DROPPED = "dropped"          # the program or erase does not happen
    DISTURB = "disturb"          # a program also clears a bit of the neighbouring word
    WEAK_ERASE = "weak-erase"    # an erase leaves 0 bits in a few words
    STUCK = "stuck"              # a bit stays 0 from now on, through erases

    @property
    def is_fault(self) -> bool:
        """A flash failure, not a power cut: the board stays on."""
        return self not in (CutMode.BEFORE, CutMode.AFTER, CutMode.TORN)


@dataclass(frozen=True)
class PowerCut:
    """Where power fails: at flash operation `op_index` (as FlashOp.index counts them)."""

    op_index: int
    mode: CutMode = CutMode.BEFORE
    # For TORN: how far the operation got, 0.0 (nothing) .. 1.0 (complete), and the seed
    # that picks which bits or words had changed by then. Same inputs, same torn flash.
    progress: float = 0.5
    seed: int = 0


class StopReason(str, enum.Enum):
    DEADLINE = "deadline"      # the requested virtual time passed
    CONDITION = "condition"    # the caller's stop condition became true
    POWER_CUT = "power-cut"    # an armed power cut fired; the board is off
    FAULT = "fault"            # a fault the firmware did not survive (lockup, bad fetch)
    HALTED = "halted"          # a breakpoint or BKPT stopped the CPU (debugger)


@dataclass(frozen=True)
class RunResult:
    reason: StopReason
    time_ns: int
    detail: str = ""


@dataclass(frozen=True)
class CpuState:
    pc: int
    sp: int
    ipsr: int                 # exception number being handled, 0 in thread mode
    in_fault_handler: bool    # IPSR is HardFault, MemManage, BusFault or UsageFault
    lockup: bool = False


@dataclass
class BoardEvent:
    """Something the bench should know about: a reset, a fault, an unknown register."""

    time_ns: int
    kind: str                 # "reset", "fault", "unmapped", "power-cut", ...
    detail: str = ""


@dataclass
class UartLog:
    """Console output, kept whole and as lines."""

    text: str = ""
    lines: list[str] = field(default_factory=list)


StopCondition = Callable[[], bool]


class Engine(ABC):
    """An emulated STM32F407 board: load, power, run, console, Ethernet, flash, snapshots."""

    name: str = "engine"
    # Snapshots cost well under a millisecond and flash_op_count() is a local read:
    # campaigns may take hundreds of snapshots and count operations at every check.
    cheap_snapshots: bool = False

    # --- set-up -------------------------------------------------------------------
    @abstractmethod
    def load_platform(self, platform: Path) -> None:
        """Build the board from a platform description (platforms/*.repl)."""

    @abstractmethod
    def load_elf(self, elf: Path) -> None:
        """Program an ELF's loadable segments into flash, as a factory programmer would."""

    # --- power --------------------------------------------------------------------
    @abstractmethod
    def power_on(self) -> None:
        """Start from reset: flash kept, RAM and peripheral state lost, CPU from vectors."""

    @abstractmethod
    def arm_power_cut(self, cut: PowerCut | None) -> None:
        """Fail power at a flash operation (None disarms). The run stops with POWER_CUT."""

    # --- running ------------------------------------------------------------------
    @abstractmethod
    def run(self, duration_ns: int, stop: StopCondition | None = None) -> RunResult:
        """Run for up to duration_ns of virtual time.

        `stop` is checked after every console line, every frame the board sends and at
        least every 100 us of virtual time; the run returns as soon as it is true.
        """

    @property
    @abstractmethod
    def now_ns(self) -> int:
        """Virtual time since the first power-on."""

    @abstractmethod
    def cpu_state(self) -> CpuState: ...

    @abstractmethod
    def events(self) -> list[BoardEvent]: ...

    # --- console ------------------------------------------------------------------
    @abstractmethod
    def uart(self) -> UartLog:
        """Everything the console printed since load, across power cycles."""

    def run_until_uart(self, pattern: str | re.Pattern[str], timeout_ns: int) -> RunResult:
        """Run until a console line matches `pattern` (searched), or the timeout."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        log = self.uart()
        start = len(log.lines)

        def seen() -> bool:
            return any(rx.search(line) for line in self.uart().lines[start:])

        return self.run(timeout_ns, seen)

    # --- Ethernet -----------------------------------------------------------------
    @abstractmethod
    def send_frame(self, frame: bytes) -> None:
        """Put an Ethernet frame (no FCS) on the wire towards the board."""

    @abstractmethod
    def take_frames(self) -> list[tuple[int, bytes]]:
        """Frames the board sent since the last call, with their virtual send time."""

    # --- GPIO inputs --------------------------------------------------------------
    def set_input(self, pin: str, level: int) -> None:
        """Hold input `pin` ("PA0" .. "PI15") at `level` (0 or 1) from outside the chip,
        as a button held down would: kept across resets and power cycles, and saved in
        snapshots. Call it before power_on() for a level the firmware samples at start."""
        raise BenchError(f"the {self.name} engine cannot drive GPIO inputs")

    # --- flash --------------------------------------------------------------------
    @abstractmethod
    def read_flash(self, addr: int, size: int) -> bytes: ...

    @abstractmethod
    def write_flash(self, addr: int, data: bytes) -> None:
        """Set flash content directly (a programmer's view: no rules, no trace)."""

    @abstractmethod
    def flash_trace(self) -> Sequence[FlashOp]:
        """Flash operations since the last reset_trace()."""

    @abstractmethod
    def reset_trace(self) -> None: ...

    def flash_op_count(self) -> int:
        """len(flash_trace()), cheaply where the engine can (asked often by campaigns)."""
        return len(self.flash_trace())

    def flash_ops_since(self, start: int) -> list[FlashOp]:
        """flash_trace()[start:]."""
        return list(self.flash_trace())[start:]

    # --- snapshots ----------------------------------------------------------------
    @abstractmethod
    def snapshot(self) -> object:
        """The whole machine: CPU, memories, models, time, trace position."""

    @abstractmethod
    def restore(self, snap: object) -> None: ...

    def state_digest(self) -> bytes:
        """A digest of flash, RAM and CPU state, equal for equal machines (campaign dedup)."""
        raise NotImplementedError(f"{self.name} engine cannot digest its state")

    # --- dependence on flash (campaign dedup) ---------------------------------------
    def watch_flash(self) -> bool:
        """Start noting which flash sectors the board's run depends on: those it reads or
        programs before erasing them (docs/powercut.md, "Dedup"). False when the engine
        cannot; then flash_depended() says None."""
        return False

    def flash_depended(self) -> frozenset[int] | None:
        """Stop noting; the sectors (indices) whose content when watch_flash() was
        called the run has depended on, or None when nothing was watched."""
        return None

    def close(self) -> None:  # noqa: B027 - an optional hook: most engines hold nothing
        """Release processes and sockets the engine holds."""
