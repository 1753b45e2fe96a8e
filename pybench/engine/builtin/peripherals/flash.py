"""The flash interface (FLASH_ACR..FLASH_OPTCR at 0x40023C00) of the built-in engine.

The rules themselves live in platforms/stm32f4_flash_rules.py, shared with the Renode
engine; this adapter connects them to the built-in machine:

- register reads and writes (any width: sub-word accesses are merged into the register),
- CPU stores into the flash range, through cpu_store(), which tells the core what the
  flash must hold after the store (StoreOutcome) and whether power failed at it,
- virtual time: while an operation runs, code fetched from flash stalls (RM0090, "Erase
  and program operations"), so when the CPU runs from flash the whole operation time is
  spent at once with bus.advance(); when it runs from RAM, BSY stays set until the
  operation's end, an SR read or a further flash access waits for it, and a scheduled
  callback ends it (EOP, interrupt) when nobody looks,
- the trace of operations as pybench FlashOp records, the power cut, snapshots.

It asks the machine for the CPU's program counter through `bus.cpu_pc()` when one is
offered (not part of the Bus protocol yet); without it, register writes count as coming
from code in flash.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

from pybench.chip import F407
from pybench.engine.base import CutMode, FlashOp, FlashOpKind, PowerCut
from pybench.engine.builtin.peripheral import Bus, Peripheral
from pybench.errors import BenchError
from pybench.paths import platform_file

RULES_FILE = "stm32f4_flash_rules.py"


@lru_cache(maxsize=1)
def rules_module() -> ModuleType:
    """platforms/stm32f4_flash_rules.py, loaded by path: it is not part of the package
    because Renode loads the same file."""
    path = platform_file(RULES_FILE)
    spec = importlib.util.spec_from_file_location("stm32f4_flash_rules", path)
    if spec is None or spec.loader is None:
        raise BenchError(f"{path}: cannot load the flash rules")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except OSError as e:
        raise BenchError(f"{path}: cannot read the flash rules: {e.strerror}") from None
    return module


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """What the core does with a CPU store into flash.

    final: None when the raw store is exactly right (let it land: the fast path), else
    the bytes flash must hold at the store's address once the instruction is done.
    cut: power failed at this store; the core stops the CPU and the board is off.
    """

    final: bytes | None
    cut: bool = False


#: The fast path's answer, shared so that a correct program store allocates nothing.
STORE_AS_IS = StoreOutcome(None, False)

_KINDS = {"erase": FlashOpKind.ERASE, "program": FlashOpKind.PROGRAM}


class FlashInterface(Peripheral):
    """STM32F4 flash interface: registers, program/erase rules, timing, trace, power cut."""

    repl_types = ("Python.PythonPeripheral",)

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        filename = props.get("filename", "flash_controller.py")
        if filename != "flash_controller.py":
            raise BenchError(
                f"{name}: Python.PythonPeripheral with filename {filename!r} is not a model"
                " of the built-in engine (only flash_controller.py is)"
            )
        # The F407's sector table (RM0090 table 5); the engine checks at attach() that the
        # platform's flash memory is that chip's.
        mod = rules_module()
        self.rules: Any = mod.FlashRules(F407.flash_base, list(F407.sector_sizes))
        self.rules.on_event = self._on_event
        self._program_at_once = self.rules.program_at_once
        self._program_ns: int = mod.PROGRAM_NS
        self.irq: int = int(props.get("irq", mod.FLASH_IRQ))
        self._sr: int = mod.SR
        self._cr: int = mod.CR
        self._w1_regs = (mod.SR, mod.KEYR, mod.OPTKEYR)
        self._flash_base: int = F407.flash_base
        self._flash_end: int = F407.flash_base + F407.flash_size
        self.memory: Any = None
        self._irq_level = False
        self._completion: object | None = None
        self._guarded = False        # the machine holds flash accesses until an erase ends
        self._split_left = 0         # byte reports of an unaligned store still to come
        self._ops: list[FlashOp] = []   # FlashOp view of rules.trace, converted lazily

    # --- wiring ---------------------------------------------------------------------
    def attach_memory(self, memory: Any) -> None:
        """The flash array (FlashMemory: .base, .size, .read(addr, n), .write(addr, data))."""
        if memory.base != self._flash_base or memory.base + memory.size != self._flash_end:
            raise BenchError(
                f"{self.name}: flash memory at 0x{memory.base:08x}+0x{memory.size:x} does not"
                f" match the STM32F407's (0x{self._flash_base:08x}..0x{self._flash_end:08x})"
            )
        self.memory = memory
        self.rules.memory = memory

    def _on_event(self, kind: str, detail: str) -> None:
        self.bus.event(kind, f"{self.name}: {detail}")
        if kind == "bus-error":
            # RM0090: a wrong key sequence "generates a bus error": the write to KEYR
            # ends in a BusFault (imprecise: the write was buffered).
            bus_error = getattr(self.bus, "bus_error", None)
            if bus_error is not None:
                bus_error(f"{self.name}: {detail}")

    def _pc(self) -> int:
        cpu_pc = getattr(self.bus, "cpu_pc", None)
        return int(cpu_pc()) if cpu_pc is not None else self._flash_base

    def _in_flash(self, pc: int) -> bool:
        return self._flash_base <= pc < self._flash_end

    # --- time -----------------------------------------------------------------------
    def _wait_idle(self) -> None:
        """Stall the CPU until the current operation ends, then end it."""
        rules = self.rules
        if not rules.busy:
            return
        stall = rules.stall_ns(self.bus.now_ns)
        if stall:
            self.bus.advance(stall)
        rules.finish(rules.busy_until)
        self._drop_completion()
        self._guard(False)

    def wait_for_operation(self) -> None:
        """A flash access while an operation runs behind code in RAM: the bus stalls
        until the operation ends (RM0090, "Erase and program operations")."""
        self._wait_idle()
        self._update_irq()

    def _guard(self, on: bool) -> None:
        if on != self._guarded:
            self._guarded = on
            guard = getattr(self.bus, "guard_flash", None)
            if guard is not None:
                guard(on)

    def _after_start(self, pc: int) -> None:
        """An operation just started: spend its time now, or let it run behind the CPU."""
        rules = self.rules
        if rules.cut:
            self.bus.request_stop("power-cut")
        elif rules.busy:
            if self._in_flash(pc):
                # The next instruction fetch waits for the whole operation.
                self._wait_idle()
            else:
                self._drop_completion()
                self._completion = self.bus.schedule(rules.busy_until, self._complete)
                if rules.busy_until - self.bus.now_ns > self._program_ns:
                    # An erase runs behind the CPU: flash reads and fetches wait for it.
                    self._guard(True)
        self._update_irq()

    def _complete(self) -> None:
        self._completion = None
        if self.rules.finish(self.bus.now_ns):
            self._guard(False)
            self._update_irq()

    def _drop_completion(self) -> None:
        if self._completion is not None:
            self.bus.cancel(self._completion)
            self._completion = None

    def _update_irq(self) -> None:
        level = bool(self.rules.irq_level())
        if level != self._irq_level:
            self._irq_level = level
            self.bus.set_irq(self.irq, level)

    # --- registers ------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        reg, shift = offset & ~3, (offset & 3) * 8
        rules = self.rules
        if reg == self._sr:
            if rules.busy:
                # Software polls BSY; the poll ends when the operation does.
                self._wait_idle()
                self._update_irq()
            if shift == 0 and size == 4:
                return rules.sr       # the BSY poll after every program: no time needed
        value = rules.read_reg(reg, self.bus.now_ns)
        if value is None:
            self.unknown(offset, "read")
            return 0
        return int(value >> shift) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        rules = self.rules
        reg, shift = offset & ~3, (offset & 3) * 8
        if size < 4:
            mask = ((1 << (8 * size)) - 1) << shift
            value = (value << shift) & mask
            if reg not in self._w1_regs:
                current = rules.read_reg(reg, self.bus.now_ns)
                if current is not None:
                    value |= current & ~mask
        if reg == self._cr:
            # FLASH_CR writes stall the bus while BSY is set (RM0090 note under "Erase and
            # program operations").
            self._wait_idle()
        pc = self._pc()
        if not rules.write_reg(reg, value, self.bus.now_ns, pc):
            self.unknown(offset, "write")
            return
        self._after_start(pc)

    # --- CPU stores into flash --------------------------------------------------------
    def cpu_store(self, addr: int, size: int, value: int, pc: int, old: int | None = None,
                  now_ns: int | None = None) -> StoreOutcome:
        """A CPU store of `size` bytes into the flash range (the core's hook).

        The core may pass what flash holds there (`old`, little-endian) and the time, which
        it has at hand more cheaply than the memory interface and the Bus."""
        if self._split_left:
            # A byte of an unaligned store unicorn reports after the whole one, which
            # was handled whole: flash keeps what that left.
            self._split_left -= 1
            return StoreOutcome(self.memory.read(addr, size), False)
        if addr % size:
            return self._split_store(addr, size, value, pc)
        rules = self.rules
        if old is None:
            old = int.from_bytes(self.memory.read(addr, size), "little")
        if self._flash_base <= pc < self._flash_end:
            # The hot path: code in flash stalls for the program time, so the rules can
            # complete the operation in the same call (or decline: the general path).
            new = self._program_at_once(addr, size, value, old,
                                        self.bus.now_ns if now_ns is None else now_ns, pc)
            if new is not None:
                self.bus.advance(self._program_ns)
                if rules.sr or self._irq_level:
                    self._update_irq()
                if new == value:
                    return STORE_AS_IS
                return StoreOutcome(new.to_bytes(size, "little"), False)
        if rules.busy:
            self._wait_idle()
            old = int.from_bytes(self.memory.read(addr, size), "little")
        now = self.bus.now_ns
        new = rules.program(addr, size, value, old, now, pc)
        if rules.busy and self._flash_base <= pc < self._flash_end and not rules.cut:
            # The hot path, code in flash: the next fetch waits for the program time.
            end = rules.busy_until
            self.bus.advance(end - now)
            rules.finish(end)
            if rules.sr or self._irq_level:
                self._update_irq()
        elif rules.busy or rules.cut:
            self._after_start(pc)
        elif rules.sr:
            self._update_irq()   # a refused store may raise OPERR
        if new == value and not rules.cut:
            return STORE_AS_IS
        return StoreOutcome(new.to_bytes(size, "little"), rules.cut)

    def _split_store(self, addr: int, size: int, value: int, pc: int) -> StoreOutcome:
        """An unaligned store, as the Cortex-M4 splits it into aligned accesses
        (ARMv7-M A3.2.1): a word at an even address into two half-words, at an odd one
        into a byte, a half-word and a byte; a half-word into two bytes. Each reaches the
        flash interface on its own (with PSIZE x16 the half-words program, with x8 they
        are PGPERR). unicorn reports the store whole and then byte by byte: the whole
        report does the work, the byte reports after it change nothing."""
        if size == 4 and addr % 2 == 0:
            pieces = [(0, 2), (2, 2)]
        elif size == 4:
            pieces = [(0, 1), (1, 2), (3, 1)]
        else:
            pieces = [(i, 1) for i in range(size)]
        final = bytearray(self.memory.read(addr, size))
        cut = False
        for off, width in pieces:
            if self.rules.cut:
                break
            part = (value >> (8 * off)) & ((1 << (8 * width)) - 1)
            outcome = self.cpu_store(addr + off, width, part, pc)
            final[off : off + width] = outcome.final if outcome.final is not None else \
                part.to_bytes(width, "little")
            cut = cut or outcome.cut
        self._split_left = size
        return StoreOutcome(bytes(final), cut)

    # --- trace, power cut, protection -----------------------------------------------
    @property
    def trace(self) -> list[FlashOp]:
        raw = self.rules.trace
        if len(self._ops) > len(raw):
            self._ops = []
        for index, kind, addr, size, sector, value, time_ns, pc in raw[len(self._ops):]:
            self._ops.append(FlashOp(index, _KINDS[kind], addr, size, sector, value,
                                     time_ns, pc))
        return list(self._ops)

    @property
    def op_count(self) -> int:
        return len(self.rules.trace)

    def ops_since(self, start: int) -> list[FlashOp]:
        """trace[start:], converted without the cache (which a restore empties)."""
        return [FlashOp(index, _KINDS[kind], addr, size, sector, value, time_ns, pc)
                for index, kind, addr, size, sector, value, time_ns, pc
                in self.rules.trace[start:]]

    def reset_trace(self) -> None:
        self.rules.reset_trace()
        self._ops = []

    def arm(self, cut: PowerCut | None) -> None:
        if cut is None:
            self.rules.disarm()
            return
        try:
            self.rules.arm(cut.op_index, CutMode(cut.mode).value, cut.progress, cut.seed)
        except ValueError as e:
            raise BenchError(f"{self.name}: {e}") from None

    @property
    def cut(self) -> bool:
        """Power failed at a flash operation since the last reset."""
        return bool(self.rules.cut)

    def set_write_protect(self, sector: int, on: bool) -> None:
        try:
            self.rules.set_write_protect(sector, on)
        except ValueError as e:
            raise BenchError(f"{self.name}: {e}") from None

    # --- reset and snapshots --------------------------------------------------------
    def reset(self) -> None:
        self._drop_completion()
        self._guard(False)
        self.rules.reset()
        if self._irq_level:
            self._irq_level = False
            self.bus.set_irq(self.irq, False)

    def save(self) -> Any:
        # The machine's snapshot holds its scheduler whole, the completion callback
        # included, so the handle stays valid across a restore.
        return (self.rules.save(), self._irq_level, self._completion, self._guarded)

    def load(self, state: Any) -> None:
        rules_state, self._irq_level, self._completion, guarded = state
        self.rules.load(rules_state)
        self._ops = []
        # An erase behind RAM code was running: flash accesses wait for it again.
        self._guarded = False
        self._guard(guarded)
