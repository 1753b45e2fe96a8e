"""Polling loops skipped in virtual time, exactly.

Real firmware waits by polling: a status register (RCC's PLLRDY, a timer's UIF, a USART's
TXE), or a tick counter in RAM that an interrupt advances (HAL_Delay). Each iteration
costs unicorn the same work, so a board that mostly waits runs far below real time.

A loop that polls is idle: when the CPU comes back to the same instruction with the same
registers and the same RAM, after an iteration that wrote nothing but RAM and read only
registers whose values change nothing but at scheduled events (`Peripheral.stable_read`),
every later iteration repeats it exactly, until the next scheduled event (a timer update,
an interrupt, a frame, the run's deadline or its check). The machine then adds the
iterations that fit before that event to its cycle count, as if it had executed them:
the state at the event is the one the CPU would have reached, bit for bit, and so is the
time.

Finding the loop (a probe): from where a slice ended, single-step up to MAX_PROBE
instructions until the PC comes back with the same registers and RAM. A probe that fails
(a computing loop, a write to a peripheral, an unstable read) makes the next one wait,
twice as long each time, so code that computes pays almost nothing for it. After a skip,
the loop is remembered: after the next event the CPU runs a short slice (the interrupt
handler) and is probed again at once. A period found at a PC is kept: the next probe
there runs that many instructions in one slice and compares the state once.

A loop that reads no peripheral register (a wait on a tick counter in RAM) stays known
across an event that changes no memory (no DMA, no flash operation ending) and whose
interrupt, if any, is not taken: what the loop sees is the same, so it goes on
repeating, and the machine does not probe it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unicorn import arm_const as a

from pybench.engine.builtin.cpuregs import CpuRegs
from pybench.engine.builtin.memscan import memcmp

if TYPE_CHECKING:
    from pybench.engine.builtin.machine import Machine

MAX_PROBE = 48                  # instructions a probe steps before giving up
QUIET = 4096                    # a slice at least this long that ended quietly: probe
# After an event in a known loop, the next slice is short (the handler, then back to
# a loop): AFTER_EVENT_MIN instructions at first, doubled up to AFTER_EVENT_MAX each time
# the probe after it failed (the handler, or the code after the loop, was longer).
AFTER_EVENT_MIN = 256
AFTER_EVENT_MAX = 4096
MAX_PERIODS = 256               # periods remembered by PC (dropped all at once past this)
BACKOFF_MIN = 168_000           # 1 ms of cycles after a failed probe
BACKOFF_MAX = 168_000 * 64      # at most 64 ms
STATE_REGS = ([getattr(a, f"UC_ARM_REG_R{i}") for i in range(13)]
              + [a.UC_ARM_REG_SP, a.UC_ARM_REG_LR, a.UC_ARM_REG_PC, a.UC_ARM_REG_XPSR,
                 a.UC_ARM_REG_MSP, a.UC_ARM_REG_PSP, a.UC_ARM_REG_PRIMASK,
                 a.UC_ARM_REG_BASEPRI, a.UC_ARM_REG_FAULTMASK, a.UC_ARM_REG_CONTROL,
                 a.UC_ARM_REG_FPSCR]
              + [a.UC_ARM_REG_S0 + i for i in range(32)])


class PollSkip:
    """The machine's polling-loop detector (see the module docstring)."""

    def __init__(self, machine: Machine) -> None:
        self.m = machine
        self.enabled = True
        self.probing = False
        self.unstable = False          # the probe saw an access that breaks exactness
        self.loop: tuple[int, int] | None = None   # (pc, period) of the loop just skipped
        self.generation = 0            # the machine's count of bench actions, last seen
        self.in_handler = False        # an exception entered: its handler runs first
        self.at_start = 0              # cycle at which the CPU was last at the loop start
        self.hint = False              # the CPU was in a skipped loop before the event
        self.next_probe = 0            # cycle before which no probe starts
        self.backoff = BACKOFF_MIN
        self.skipped_cycles = 0        # statistics: cycles added by skips
        self.periods: dict[int, int] = {}  # PC -> period of a loop found there
        self._flash = 0                # the flash generation when the probe started
        self.after_event = AFTER_EVENT_MIN
        self.peripheral = False        # the probe read a peripheral register
        self.reads_peripherals = True  # the known loop reads a peripheral register
        # uc_reg_read_batch straight through the C API (the binding's costs ~2 ms here).
        self._regs = CpuRegs(machine.uc).set(STATE_REGS)
        self.skips = 0
        self.cached = 0                # statistics: probes answered by a known period
        self.kept = 0                  # statistics: events a known loop went on through

    # --- what the machine tells it -----------------------------------------------------
    def forget(self) -> None:
        """Something changed the state from outside the CPU (an event, an interrupt, a
        restore, a bench action): the remembered loop may not repeat any more."""
        if self.loop is not None:
            self.loop = None
            self.hint = True

    def entered(self) -> None:
        """An exception was just entered: let the handler run before probing again."""
        self.forget()
        self.in_handler = True

    def checked(self, generation: int) -> None:
        """The run's stop condition ran: it may have acted on the board (the bench's
        actions count the machine's generation)."""
        if generation != self.generation:
            self.generation = generation
            self.forget()

    def event_keeps_loop(self) -> bool:
        """An event is about to fire: True if the known loop sees only RAM, so that it
        survives the event unless the event changes memory (the machine checks that)."""
        return self.loop is not None and not self.reads_peripherals

    def slice_limit(self, n: int) -> int:
        """The length of the next slice: short right after an event in a known loop."""
        return min(n, self.after_event) if self.hint else n

    # --- the skip ----------------------------------------------------------------------
    def try_skip(self, horizon: int, quiet: int) -> bool:
        """Before a slice: skip the loop the CPU is in up to `horizon` (a cycle count);
        True if time moved. `quiet`: instructions the last slice ran without an event."""
        m = self.m
        if self.in_handler:
            self.in_handler = False
            return False
        if not self.enabled or m._breakpoints or m.scs.pending:
            return False
        if self.loop is not None:
            pc0, period = self.loop
            # Since the last skip the CPU ran part of an iteration (to the stop check):
            # finish it, then the loop is at its start again, in the same state.
            rest = -(m.cycles - self.at_start) % period
            if rest:
                if m.cycles + rest > horizon:
                    return False
                ran = m._slice(rest)
                if ran == rest and m.cpu_pc() == pc0 and self.loop is not None:
                    self._skip(horizon, period)
                else:
                    self.loop, self.hint = None, True
                return True            # time moved: the run loop looks around again
            if m.cpu_pc() == pc0:
                return self._skip(horizon, period)
            self.loop, self.hint = None, True
        if not self.hint and (quiet < QUIET or m.cycles < self.next_probe):
            return False
        start = m.cycles
        period = self._probe(horizon)
        if period is None:
            if self.hint and self.after_event < AFTER_EVENT_MAX:
                # Perhaps the CPU was not back in a loop yet: a longer slice (the
                # hint stays), then the next probe.
                self.after_event *= 2
                self.in_handler = True
                return m.cycles != start
            self.hint = False
            self.next_probe = m.cycles + self.backoff
            self.backoff = min(2 * self.backoff, BACKOFF_MAX)
        else:
            self.backoff = BACKOFF_MIN
            self.hint = False
            self.loop = (m.cpu_pc(), period)
            self.reads_peripherals = self.peripheral
            self._skip(horizon, period)
            self.at_start = m.cycles
        # The probe ran instructions: the run loop looks around (stop condition, events)
        # before its next slice, as after any slice.
        return m.cycles != start

    def _skip(self, horizon: int, period: int) -> bool:
        m = self.m
        k = (horizon - m.cycles) // period
        self.at_start = m._cycles
        if k <= 0:
            return False
        m._cycles += k * period
        self.at_start = m._cycles
        self.skipped_cycles += k * period
        self.skips += 1
        return True

    def _state(self) -> tuple[bytes, list[tuple[Any, bytes, int]]]:
        """What a loop iteration could change: CPU registers and RAM (each writable
        memory with a copy of its content). The models cannot change during a probe: it
        reads only registers without side effects, writes nothing (a flash store moves
        the flash generation), and no scheduled callback runs inside it."""
        return self._regs.read_raw(), [(mem.buf, bytes(mem.view), mem.size)
                                       for mem in self.m.memories if mem.writable]

    def _same(self, state: tuple[bytes, list[tuple[Any, bytes, int]]]) -> bool:
        regs, memories = state
        return self._regs.read_raw() == regs and all(
            not memcmp(buf, saved, size) for buf, saved, size in memories)

    def _probe(self, horizon: int) -> int | None:
        """Run until the CPU is back where it started in the same state: the period in
        instructions, or None. A period found at this PC before is tried first, in one
        slice; otherwise the CPU is stepped one instruction at a time."""
        m = self.m
        pc0 = m.cpu_pc()
        state0 = self._state()
        self._flash = m._flash_gen
        self.probing, self.unstable, self.peripheral = True, False, False
        m.probe_mode(True)
        try:
            period = self.periods.get(pc0)
            if period is not None and m.cycles + period <= horizon:
                if not self._quietly(period):
                    return None
                if m.cpu_pc() == pc0 and self._same(state0):
                    self.cached += 1
                    return period
                # Not (or no longer) a loop with that period here: look for one by
                # stepping, from where the CPU is now.
                del self.periods[pc0]
                pc0 = m.cpu_pc()
                state0 = self._state()
            for step in range(1, MAX_PROBE + 1):
                if m.cycles + 1 > horizon or not self._quietly(1):
                    return None
                if m.cpu_pc() != pc0:
                    continue
                if not self._same(state0):
                    return None
                if len(self.periods) >= MAX_PERIODS:
                    self.periods.clear()
                self.periods[pc0] = step
                return step
            return None
        finally:
            self.probing = False
            m.probe_mode(False)

    def _quietly(self, n: int) -> bool:
        """Run n instructions of a probe: True if all ran and none of them did anything
        that a repeat could not reproduce (a write to a peripheral or to flash, an
        unstable read, an interrupt, an event, a stop, a reset, WFI)."""
        m = self.m
        events = len(m.events)
        return m._slice(n) == n and not self.unstable and not m.scs.pending \
            and m.powered and m._stop_request is None and m._halt is None \
            and not m._reset_request and len(m.events) == events and not m.sleeping \
            and m._flash_gen == self._flash
