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
handler) and is probed again at once.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING

from unicorn import arm_const as a
from unicorn.unicorn_py3.unicorn import uclib

if TYPE_CHECKING:
    from pybench.engine.builtin.machine import Machine

MAX_PROBE = 48                  # instructions a probe steps before giving up
QUIET = 4096                    # a slice at least this long that ended quietly: probe
AFTER_EVENT_SLICE = 4096        # after an event in a known loop, the next slice is short
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
        # uc_reg_read_batch straight through the C API (the binding's costs ~2 ms here).
        n = len(STATE_REGS)
        self._ids = (ctypes.c_int * n)(*STATE_REGS)
        self._vals = (ctypes.c_uint64 * n)()
        base = ctypes.addressof(self._vals)
        self._ptrs = (ctypes.c_void_p * n)(*(base + 8 * i for i in range(n)))
        self._read_regs = uclib.uc_reg_read_batch
        self.skips = 0

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

    def access(self, stable: bool) -> None:
        """A peripheral access during a probe (only called while probing)."""
        if not stable:
            self.unstable = True

    def slice_limit(self, n: int) -> int:
        """The length of the next slice: short right after an event in a known loop."""
        return min(n, AFTER_EVENT_SLICE) if self.hint else n

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
            self.hint = False
            self.next_probe = m.cycles + self.backoff
            self.backoff = min(2 * self.backoff, BACKOFF_MAX)
        else:
            self.backoff = BACKOFF_MIN
            self.hint = False
            self.loop = (m.cpu_pc(), period)
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

    def _state(self) -> tuple[bytes, ...]:
        """What a loop iteration could change: CPU registers and RAM. The models cannot
        change during a probe: it reads only registers without side effects, writes
        nothing, and no scheduled callback runs inside it."""
        m = self.m
        self._read_regs(m.uc._uch, self._ids, self._ptrs, len(STATE_REGS))
        return (bytes(self._vals), *(bytes(mem.view) for mem in m.memories if mem.writable))

    def _probe(self, horizon: int) -> int | None:
        """Step until the CPU is back where it started in the same state: the period in
        instructions, or None."""
        m = self.m
        pc0 = m.cpu_pc()
        state0 = self._state()
        self.probing, self.unstable = True, False
        try:
            for step in range(1, MAX_PROBE + 1):
                if m.cycles + 1 > horizon:
                    return None
                events = len(m.events)
                if m._slice(1) != 1 or self.unstable or m.scs.pending or not m.powered \
                        or m._stop_request is not None or m._halt is not None \
                        or m._reset_request or len(m.events) != events or m.sleeping:
                    return None
                if m.cpu_pc() != pc0:
                    continue
                return step if self._state() == state0 else None
            return None
        finally:
            self.probing = False
