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
        self._update_irq()

    def _complete(self) -> None:
        self._completion = None
        if self.rules.finish(self.bus.now_ns):
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
        if addr % size:
            # The Cortex-M4 splits an unaligned store into aligned accesses, and unicorn
            # reports the whole store first and then its pieces, byte by byte: the pieces
            # are what reaches the flash interface. This first report only keeps the old
            # content in place until they land.
            return StoreOutcome(self.memory.read(addr, size), False)
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
        self.rules.reset()
        if self._irq_level:
            self._irq_level = False
            self.bus.set_irq(self.irq, False)

    def save(self) -> Any:
        # The machine's snapshot holds its scheduler whole, the completion callback
        # included, so the handle stays valid across a restore.
        return (self.rules.save(), self._irq_level, self._completion)

    def load(self, state: Any) -> None:
        rules_state, self._irq_level, self._completion = state
        self.rules.load(rules_state)
        self._ops = []
