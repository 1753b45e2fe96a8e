"""The built-in engine's board: unicorn's Cortex-M4, memories, peripheral models, time.

- Memories are host buffers mapped into unicorn (mem_map_ptr): flash read+exec with a
  write-protection hook that hands every CPU store to the flash controller, which says
  what flash holds afterwards and the hook writes it into the buffer (unicorn drops the
  store itself); SRAM and CCM read/write/exec. Snapshots copy the buffers with memmove.
- A FlashWatch (flashwatch.py) can note which flash sectors a run depended on.
- Peripherals are mapped as mmio pages (1 KiB, unicorn's ARM page size) and dispatched to
  the model at that address; a gap in a page or an unmapped address is a BusFault.
- Time is counted in CPU cycles, 1 instruction = 1 cycle at 168 MHz, from unicorn's own
  instruction counter (the counter behind emu_start's `count`). Slices of at most SLICE
  instructions are clipped to the next scheduled event; WFI skips to the next event.
- "Stop after this instruction" (a power cut, an interrupt becoming pending, a flash
  store that needs a fix-up) lowers unicorn's instruction budget to the count already
  reached, so the current instruction retires whole and the slice ends right after it.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import itertools
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from unicorn import (
    UC_ARCH_ARM,
    UC_HOOK_CODE,
    UC_HOOK_INTR,
    UC_HOOK_MEM_READ,
    UC_HOOK_MEM_UNMAPPED,
    UC_HOOK_MEM_WRITE,
    UC_HOOK_MEM_WRITE_PROT,
    UC_MEM_FETCH_UNMAPPED,
    UC_MEM_WRITE,
    UC_MEM_WRITE_UNMAPPED,
    UC_MODE_THUMB,
    UC_PROT_ALL,
    UC_PROT_EXEC,
    UC_PROT_READ,
    Uc,
    UcError,
)
from unicorn import arm_const as a
from unicorn import unicorn_const as uconst
from unicorn.unicorn_py3.unicorn import uclib

from pybench.chip import F407
from pybench.engine.base import BoardEvent, CpuState, RunResult, StopReason
from pybench.engine.builtin import (
    bitband,
    chipmap,
    cortexm,
    mmio,
    registry,
    sysmem,
    tcgbuf,
    ucctl,
)
from pybench.engine.builtin.cortexm import BadReturn, Fault, Lockup, SystemControlSpace
from pybench.engine.builtin.dwt import Dwt
from pybench.engine.builtin.flashwatch import FlashWatch
from pybench.engine.builtin.loader import Segment
from pybench.engine.builtin.memscan import anonymous_ranges, memcmp, within
from pybench.engine.builtin.peripheral import Peripheral
from pybench.engine.builtin.peripherals.flash import STORE_AS_IS
from pybench.engine.builtin.pollskip import PollSkip
from pybench.engine.builtin.scheduler import NEVER, Scheduler
from pybench.errors import BenchError
from pybench.platform.repl import Platform

CPU_HZ = 168_000_000
# The longest slice: long slices amortise emu_start's own cost (~20 us); nothing waits on
# a slice's end, as interrupts, events and stops each end the slice when they happen.
SLICE = 100_000
CHECK_CYCLES = CPU_HZ // 10_000          # the stop condition runs at least every 100 us
# While an enabled interrupt waits behind PRIMASK/BASEPRI, slices start this short and
# double: unicorn gives no hook on CPSIE or MSR, so this bounds the delay between the
# unmasking instruction and the exception entry for short critical sections.
MASKED_SLICE = 16
PAGE = 1024                              # unicorn's ARM target page
# Snapshots hold each memory as chunks of at least this size, shared between snapshots where
# unchanged (Memory.save). A restore writes only the chunks that differ from the memory
# as it is and drops only the code translated from those: the bootloader's translations
# survive the campaign's restores and power cycles (a signature check is 19 M
# instructions of it).
SNAP_CHUNK = 4 * 1024
SNAP_CHUNKS = 64     # ... or in this many chunks, when those are larger (1 MiB of flash)
# The translation buffer is flushed between runs, never by unicorn itself in the middle of
# one (ucctl.TCG_BUFFER_SIZE): at a reset or restore once it is half full, read in place
# (tcgbuf.py). Where that cannot be read, by a budget instead: a restore spends
# TB_COST_RESTORE, a reset TB_COST_RESET (it may retranslate a whole application), and
# the buffer is flushed at TB_BUDGET (4 resets of a firmware with 6 MiB of translated
# code use 24 of its 32 MiB; a restore retranslates only what a run to the next cut
# executes from the chunks that changed).
TB_BUDGET = 64
TB_COST_RESTORE = 1
TB_COST_RESET = 16
BKPSRAM_BASE = 0x4002_4000               # backup SRAM: in the backup domain (VBAT)
# Offset of uc_struct.emu_counter (emu_count follows it) in the unicorn builds the engine
# was measured on, by PyPI version; the self-test checks it before the engine relies on it.
# 2.1.1 is the pinned one: from 2.1.2 on, every store to RAM takes unicorn's slow path
# (about 60-80 ns instead of 3 ns; docs/builtin-engine.md, "Which unicorn").
EMU_COUNTER_OFFSETS = {"2.1.1": 1344, "2.1.2": 1352, "2.1.3": 1352, "2.1.4": 1368}
UNICORN_VERSION = importlib.metadata.version("unicorn")
EMU_COUNTER_OFFSET = EMU_COUNTER_OFFSETS.get(UNICORN_VERSION, 1344)
_WFI = (0xBF30, 0xBF20)                  # WFI, WFE
_RAW_REG_READ = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
_MASK = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFF_FFFF, 8: (1 << 64) - 1}
Access = mmio.Access                     # a region's read and write functions
# Flash content generations, unique across machines: two states with the same generation
# hold the same flash, so snapshots skip copying 1 MiB that did not change.
_GENERATIONS = itertools.count(1)


# Where unicorn keeps R0..R15 (CPUARMState.regs): (offset of a pointer in uc_struct,
# offset of regs[0] from where it points), found once per process; None if not found.
_REGS_PATH: tuple[int, int] | None = None
_REGS_SEARCHED = False
_REGS_SCAN_UC = 8192          # bytes of uc_struct whose words may point to the CPU
_REGS_SCAN_CPU = 256 * 1024   # bytes after such a pointer where regs may sit
_MARKS = [0xC0DE0000 | (0x0F0F * i + 0x1234) & 0xFFFF for i in range(13)]


def _regs_address(uc: Uc) -> int | None:
    """Address of unicorn's R0 (R15 follows at +60) for this Uc, or None.

    Reading the PC there is what uc_reg_read(UC_ARM_REG_PC) does (it returns
    env->regs[15]) without the ctypes call, which costs ~0.6 us on every flash store.
    The search looks for R0-R12 set to known values, from the pointers in uc_struct, and
    every answer is checked against uc_reg_read before it is used."""
    global _REGS_PATH, _REGS_SEARCHED
    handle = uc._uch.value
    ctx = uc.context_save()
    try:
        uc.reg_write_batch(list(zip([a.UC_ARM_REG_R0 + i for i in range(13)], _MARKS,
                                    strict=True)))
        pattern = struct.pack("<13I", *_MARKS)
        ranges = anonymous_ranges()
        if _REGS_PATH is not None:
            ptr_off, regs_off = _REGS_PATH
            if within(ranges, handle + ptr_off, 8) == 8:
                base = ctypes.c_uint64.from_address(handle + ptr_off).value
                if _checked(uc, ranges, base + regs_off, pattern):
                    return base + regs_off
            return None
        if _REGS_SEARCHED:
            return None
        _REGS_SEARCHED = True
        seen: set[int] = set()
        for ptr_off in range(0, _REGS_SCAN_UC, 8):
            if within(ranges, handle + ptr_off, 8) != 8:
                break
            base = ctypes.c_uint64.from_address(handle + ptr_off).value
            n = within(ranges, base, _REGS_SCAN_CPU)
            if base in seen or n < len(pattern):
                continue
            seen.add(base)
            at = ctypes.string_at(base, n).find(pattern)
            if at >= 0 and at % 4 == 0 and _checked(uc, ranges, base + at, pattern):
                _REGS_PATH = (ptr_off, at)
                return base + at
        return None
    finally:
        uc.context_restore(ctx)


def _checked(uc: Uc, ranges: list[tuple[int, int]], addr: int, pattern: bytes) -> bool:
    if within(ranges, addr, 64) != 64 or ctypes.string_at(addr, len(pattern)) != pattern:
        return False
    r15 = ctypes.c_uint32.from_address(addr + 60)
    for pc in (0x0800_0100, 0x2000_1234, 0x0801_0202):
        uc.reg_write(a.UC_ARM_REG_PC, pc | 1)
        if r15.value != uc.reg_read(a.UC_ARM_REG_PC):
            return False
    return True


def ns_to_cycles(ns: int) -> int:
    return -((-ns * 21) // 125)          # ceil(ns * 168e6 / 1e9)


def cycles_to_ns(cycles: int) -> int:
    return cycles * 125 // 21


def fetch_fault(addr: int) -> Fault:
    """An instruction fetch that fails at addr. The default memory map (ARMv7-M B3.1)
    makes the peripheral, device and system regions execute-never: a fetch there is a
    MemManage fault (IACCVIOL, MMFAR not valid) even with the MPU off; a jump to an
    erased vector (0xFFFFFFFF) ends there. A fetch from nothing in an executable region
    is a bus error (BusFault IBUSERR)."""
    addr &= ~1
    if 0x4000_0000 <= addr < 0x6000_0000 or addr >= 0xA000_0000:
        return Fault(cortexm.MEMMANAGE, cortexm.CFSR_IACCVIOL,
                     f"MemManage: instruction fetch from execute-never 0x{addr:08x}")
    return Fault(cortexm.BUSFAULT, cortexm.CFSR_IBUSERR,
                 f"BusFault: instruction fetch from 0x{addr:08x}")


class Memory:
    """A memory of the board: a host buffer mapped into unicorn."""

    def __init__(self, name: str, base: int, size: int, writable: bool):
        self.name = name
        self.base = base
        self.size = size
        self.end = base + size
        self.writable = writable
        self.buf = (ctypes.c_ubyte * size)()
        self.view = memoryview(self.buf).cast("B")
        self.addr = ctypes.addressof(self.buf)
        # The chunks of save() and load(): a restore looks at each one.
        self.chunk = max(SNAP_CHUNK, size // SNAP_CHUNKS)

    def contains(self, addr: int, n: int) -> bool:
        return self.base <= addr and addr + n <= self.end

    def save(self, like: Chunks = ()) -> Chunks:
        """The content as chunks of `self.chunk` bytes. A chunk equal to the one at the
        same place in `like` (an earlier save) is that very object: saves taken one
        after another share what did not change, so a campaign can keep a thousand
        snapshots of an update that changes a few KiB between two of them."""
        out = []
        for i, off in enumerate(range(0, self.size, self.chunk)):
            n = min(self.chunk, self.size - off)
            if i < len(like) and not memcmp(self.addr + off, like[i], n):
                out.append(like[i])
            else:
                out.append(bytes(self.view[off : off + n]))
        return tuple(out)

    def load(self, chunks: Chunks) -> list[tuple[int, int]]:
        """Become `chunks` (a save()), writing only the chunks that differ; returns
        the [lo, hi) bus address ranges written, adjacent ones merged."""
        out: list[tuple[int, int]] = []
        off = 0
        for chunk in chunks:
            n = len(chunk)
            if memcmp(self.addr + off, chunk, n):
                ctypes.memmove(self.addr + off, chunk, n)
                lo = self.base + off
                if out and out[-1][1] == lo:
                    out[-1] = (out[-1][0], lo + n)
                else:
                    out.append((lo, lo + n))
            off += n
        return out

    def clear(self) -> None:
        ctypes.memset(self.addr, 0, self.size)


class FlashMemory:
    """The flash array as the flash controller sees it (the agreed interface)."""

    def __init__(self, memory: Memory, machine: Machine):
        self._mem = memory
        self._machine = machine
        self.base = memory.base
        self.size = memory.size

    def read(self, addr: int, n: int) -> bytes:
        watch = self._machine.watch
        if watch.active:
            watch.note(addr, n)
        off = addr - self.base
        return bytes(self._mem.view[off : off + n])

    def write(self, addr: int, data: bytes) -> None:
        """Set bytes directly (erase, programmer); translated code is dropped."""
        off = addr - self.base
        if off < 0 or off + len(data) > self.size:
            raise ValueError(f"flash write 0x{addr:08x}+{len(data)} outside flash")
        watch = self._machine.watch
        if watch.active:
            watch.overwritten(addr, len(data))
        self._mem.view[off : off + len(data)] = data
        self._machine.code_changed(addr, addr + len(data))


Chunks = tuple[bytes, ...]     # a memory's content as Memory.save() keeps it


@dataclass
class Snapshot:
    context: Any
    memories: tuple[Chunks, ...]
    flash_generation: int
    models: tuple[Any, ...]
    cycles: int
    scheduler: Any
    powered: bool
    sleeping: bool
    console: tuple[str, tuple[str, ...], str]   # text, lines, the unfinished line
    events: int
    lockup: bool
    unmodelled: tuple[tuple[int, str], ...] = ()


class Machine:
    """One board: CPU, memories, models, virtual time; runs slices and answers the Bus."""

    def __init__(self, platform: Platform, strict: bool = False, vbat_held: bool = False):
        self.platform = platform
        # strict: an access to a register no model answers is a BusFault (as on a chip
        # without that peripheral) instead of reading 0 with an "unmodelled" event.
        self.strict = strict
        # The board keeps VBAT up across power cuts (a coin cell): the backup domain
        # (RTC backup registers, backup SRAM) keeps its content when power comes back.
        self.vbat_held = vbat_held
        # End run() at the first fault, with its registers, instead of letting the
        # firmware's handler run (pybench boot does this).
        self.stop_on_fault = False
        self.unmodelled: dict[int, str] = {}   # word address -> first access, for listings
        self._fault_stop: str | None = None
        self.reset_cause = "power-on"
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
        handle = self.uc._uch.value
        ucctl.set_tcg_buffer_size(handle)
        self._tb_spent = 0
        self._tb_gauge: tcgbuf.Gauge | None = None    # found at the first reset
        self._tb_gauge_sought = False
        self.uc.ctl_set_cpu_model(a.UC_CPU_ARM_CORTEX_M4)
        self._ctr = ctypes.c_uint64.from_address(handle + EMU_COUNTER_OFFSET)
        self._cnt = ctypes.c_uint64.from_address(handle + EMU_COUNTER_OFFSET + 8)
        # The PC is read on every flash store: straight through the C API (a prototype
        # without argument conversion), into one buffer.
        self._pc_buf = ctypes.c_uint32()
        self._pc_addr = ctypes.addressof(self._pc_buf)
        self._uch = handle
        self._reg_read = _RAW_REG_READ(ctypes.cast(uclib.uc_reg_read, ctypes.c_void_p).value)
        regs = _regs_address(self.uc)
        # The PC straight from unicorn's CPU state when found there, else through the API.
        self._r15: ctypes.c_uint32 | None = (
            None if regs is None else ctypes.c_uint32.from_address(regs + 60))
        self._cycles = 0
        self._in_slice = False
        self.scheduler = Scheduler()
        self.events: list[BoardEvent] = []
        self.console_text: list[str] = []
        self.console_lines: list[str] = []
        self._partial = ""
        self._console_len = 0
        self.frames_out: list[tuple[int, bytes]] = []
        self.powered = False
        self.sleeping = False
        self.lockup = False
        self._observed = False
        self._stop_request: str | None = None
        self._reset_request = False
        self._reset_why = "SYSRESETREQ"
        self._mpu_hooks: list[Any] = []
        self._mpu_regions: list[Any] = []
        self._mpu_undo: tuple[int, bytes] | None = None
        self._late_fault: Fault | None = None
        self._fault: Fault | None = None
        self._lockup_detail: str | None = None
        self._halt: str | None = None
        self._unmapped: tuple[int, int] | None = None
        self._dirty = (NEVER, 0)
        self._flash_gen = next(_GENERATIONS)
        # Each memory's last save or restore, to share chunks with; the flash generation
        # it holds (flash is compared again only when that moved).
        self._saved: dict[int, Chunks] = {}
        self._saved_flash_gen = 0
        self._breakpoints: dict[int, int] = {}
        self._skip_bp: int | None = None
        self._halted_at: int | None = None     # the breakpoint the CPU stopped on
        self._flash_ctrl_missing_reported = False
        self._masked_slice = MASKED_SLICE
        self._event_horizon = NEVER        # the next event or the deadline of this slice

        self.poll = PollSkip(self)
        self.generation = 0                 # counts what the bench does to the board
        self.memory_generation = 0          # counts bus-master writes into RAM
        self._quiet = 0                     # instructions the last slice ran uneventfully
        self.memories: list[Memory] = []
        self._map_memories()
        self.watch = FlashWatch(self.uc, self.flash_mem.base, F407.sector_sizes)
        self.watch.on_guarded_access = self._on_guarded_flash_access
        self.models: list[Peripheral] = registry.build(platform, self)
        self.scs = self._find_scs()
        self.scs.bind(self)
        for model in self.models:
            if isinstance(model, Dwt):
                model.bind(self)
                self.scs.dwt = model
        self.flash_ctrl: Any = next((m for m in self.models if hasattr(m, "cpu_store")), None)
        if self.flash_ctrl is not None:
            self.flash_ctrl.attach_memory(self.flash)
        self._pages: dict[int, list[tuple[int, int, Peripheral]]] = {}
        self._keep: list[Any] = []          # C callbacks unicorn holds: keep them alive
        self._regions = mmio.SwitchedRegions()   # the models' mmio regions
        self._map_models()
        self._map_chip()
        self._install_hooks()
        self._pristine = self.uc.context_save()
        self.debug = DebugPort(self)

    # --- construction -----------------------------------------------------------------
    def _map_memories(self) -> None:
        flash: Memory | None = None
        for entry in self.platform.memories:
            assert entry.address is not None and entry.size is not None
            is_flash = entry.address <= F407.flash_base < entry.address + entry.size
            mem = Memory(entry.name, entry.address, entry.size, writable=not is_flash)
            if is_flash:
                ctypes.memset(mem.addr, 0xFF, mem.size)   # a new chip's flash is erased
            perms = UC_PROT_READ | UC_PROT_EXEC if is_flash else UC_PROT_ALL
            try:
                self.uc.mem_map_ptr(mem.base, mem.size, perms, mem.addr)
            except UcError as e:
                raise BenchError(
                    f"{self.platform.path}:{entry.line}: cannot map memory {entry.name!r}"
                    f" at 0x{mem.base:08x}+0x{mem.size:x}: {e}") from None
            self.memories.append(mem)
            if is_flash:
                flash = mem
                # Setting the protection once more is not a no-op: from then on unicorn
                # drops a store that the write-protection hook allowed instead of letting
                # it land, so the hook can write the flash contents itself (the
                # self-test checks this; FlashWatch changes protections as well).
                self.uc.mem_protect(mem.base, mem.size, perms)
        if flash is None:
            raise BenchError(f"{self.platform.path}: no memory holds flash at"
                             f" 0x{F407.flash_base:08x}")
        self.flash_mem = flash
        self.flash = FlashMemory(flash, self)

    def _find_scs(self) -> SystemControlSpace:
        for m in self.models:
            if isinstance(m, SystemControlSpace):
                return m
        raise BenchError(f"{self.platform.path}: no NVIC (IRQControllers.NVIC) on sysbus")

    def _map_models(self) -> None:
        for m in self.models:
            if m.size <= 0:
                continue
            for page in range(m.base // PAGE, (m.base + m.size - 1) // PAGE + 1):
                self._pages.setdefault(page, []).append((m.base, m.base + m.size, m))
        # Runs of consecutive pages that hold the same models become one mmio region.
        runs: list[tuple[int, int, tuple[Peripheral, ...]]] = []
        for page in sorted(self._pages):
            models = tuple(m for _, _, m in self._pages[page])
            if runs and runs[-1][1] == page and runs[-1][2] == models:
                runs[-1] = (runs[-1][0], page + 1, models)
            else:
                runs.append((page, page + 1, models))
        for first, end, models in runs:
            base = first * PAGE
            if len(models) == 1:
                plain, probing = self._model_access(base, models[0])
            else:
                plain, probing = self._dispatch_access(base)
            self._regions.map(self.uc, base, (end - first) * PAGE, plain, probing, self._keep)
        # The boot alias: with BOOT0 low, main flash also answers at 0 (data reads only:
        # unicorn cannot fetch code from mmio, and vectors are read through read_vector).
        alias = min(self.flash_mem.size, 0x0010_0000)
        mmio.map_region(self.uc, 0, alias, self._alias_read, self._alias_write, self._keep)

    def _model_access(self, base: int, model: Peripheral) -> tuple[Access, Access]:
        """Register access of a region that holds one model (the common, fast case):
        the plain pair, and the pair a polling-loop probe uses (pollskip.py), where every
        access also says whether it keeps the loop exact."""
        lo, hi = model.base, model.base + model.size
        delta = base - lo
        mread, mwrite, none, stable = model.read, model.write, self._no_model, model.stable_read
        poll = self.poll

        def read(offset: int, size: int) -> int:
            if lo <= base + offset < hi:
                return mread(offset + delta, size) & _MASK[size]
            return none(base + offset, "read")

        def write(offset: int, size: int, value: int) -> None:
            if lo <= base + offset < hi:
                mwrite(offset + delta, size, value & _MASK[size])
            else:
                none(base + offset, "write")

        def probe_read(offset: int, size: int) -> int:
            poll.peripheral = True
            if lo <= base + offset < hi and not stable(offset + delta):
                poll.unstable = True
            return read(offset, size)

        def probe_write(offset: int, size: int, value: int) -> None:
            poll.unstable = True
            write(offset, size, value)

        if lo == base and hi % PAGE == 0:
            # The model fills its pages: unicorn calls it directly (its values are of
            # the access size by the Peripheral contract). The flash interface's BSY
            # poll after every programmed word comes this way.
            return (mread, mwrite), (probe_read, probe_write)
        return (read, write), (probe_read, probe_write)

    def _dispatch_access(self, base: int) -> tuple[Access, Access]:
        poll = self.poll

        def read(offset: int, size: int) -> int:
            addr = base + offset
            model = self._page_model(addr)
            if model is None:
                return self._no_model(addr, "read")
            return model.read(addr - model.base, size) & _MASK[size]

        def write(offset: int, size: int, value: int) -> None:
            addr = base + offset
            model = self._page_model(addr)
            if model is None:
                self._no_model(addr, "write")
                return
            model.write(addr - model.base, size, value & _MASK[size])

        def probe_read(offset: int, size: int) -> int:
            poll.peripheral = True
            addr = base + offset
            model = self._page_model(addr)
            if model is None or not model.stable_read(addr - model.base):
                poll.unstable = True
            return read(offset, size)

        def probe_write(offset: int, size: int, value: int) -> None:
            poll.unstable = True
            write(offset, size, value)

        return (read, write), (probe_read, probe_write)

    def probe_mode(self, on: bool) -> None:
        """While a polling-loop probe runs, every peripheral access goes through the
        functions that tell the probe whether the loop stays exact; otherwise the
        plain ones (for most models, the model's own read and write)."""
        self._regions.select(on)

    def _map_chip(self) -> None:
        """What the chip has besides the platform's models and memories: the unmodelled
        rest of its peripheral blocks, the bit-band aliases, the system memory (OTP, UID,
        flash size) and the option bytes."""
        taken = set(self._pages)
        for mem in self.memories:
            taken.update(range(mem.base // PAGE, (mem.end - 1) // PAGE + 1))
        pages = sorted({p for b in chipmap.BLOCKS
                        for p in range(b.base // PAGE, (b.end - 1) // PAGE + 1)} - taken)
        runs: list[list[int]] = []
        for page in pages:
            if runs and runs[-1][1] == page:
                runs[-1][1] = page + 1
            else:
                runs.append([page, page + 1])
        for first, end in runs:
            base = first * PAGE

            def read(offset: int, size: int, base: int = base) -> int:
                return self._no_model(base + offset, "read")

            def write(offset: int, size: int, value: int, base: int = base) -> None:
                self.poll.unstable = True
                self._no_model(base + offset, "write")

            mmio.map_region(self.uc, base, (end - first) * PAGE, read, write, self._keep)
        for alias, target in ((bitband.SRAM_ALIAS, bitband.SRAM_BASE),
                              (bitband.PERIPH_ALIAS, bitband.PERIPH_BASE)):
            band = bitband.BitBand(target, self._unstable_read, self._unstable_write)
            mmio.map_region(self.uc, alias, bitband.ALIAS_SIZE, band.read, band.write,
                            self._keep)
        self.sysmem = sysmem.SystemMemory(self.uc, self._flash_rules, self._bus_fault)
        self.sysmem.map(self._keep, self._map_unstable)

    def _map_unstable(self, uc: Any, base: int, size: int, read: mmio.ReadFn,
                      write: mmio.WriteFn, keep: list[Any]) -> None:
        """mmio.map_region() for registers a polling-loop probe must not follow (the
        option bytes, which change when the flash interface programs them)."""
        poll = self.poll

        def probe_read(offset: int, size: int) -> int:
            poll.peripheral = poll.unstable = True
            return read(offset, size)

        def probe_write(offset: int, size: int, value: int) -> None:
            poll.unstable = True
            write(offset, size, value)

        self._regions.map(uc, base, size, (read, write), (probe_read, probe_write), keep)

    def _flash_rules(self) -> Any:
        return None if self.flash_ctrl is None else self.flash_ctrl.rules

    # --- the bus as the CPU's bit-band unit sees it --------------------------------------
    def bus_read(self, addr: int, size: int) -> int:
        """A read of `size` bytes at addr as the CPU would do it: memory, a model, or
        an unmodelled register (for the bit-band unit)."""
        for mem in self.memories:
            if mem.contains(addr, size):
                off = addr - mem.base
                return int.from_bytes(mem.view[off : off + size], "little")
        model = self._page_model(addr)
        if model is None:
            return self._no_model(addr, "read")
        return model.read(addr - model.base, size) & _MASK[size]

    def bus_write(self, addr: int, size: int, value: int) -> None:
        for mem in self.memories:
            if mem.contains(addr, size):
                if mem is self.flash_mem:
                    self._bus_fault(addr, "write")
                    return
                off = addr - mem.base
                mem.view[off : off + size] = (value & _MASK[size]).to_bytes(size, "little")
                self.memory_generation += 1
                return
        model = self._page_model(addr)
        if model is None:
            self._no_model(addr, "write")
            return
        model.write(addr - model.base, size, value & _MASK[size])

    def _unstable_read(self, addr: int, size: int) -> int:
        self.poll.unstable = True      # a bit-band access: not followed by the poll probe
        return self.bus_read(addr, size)

    def _unstable_write(self, addr: int, size: int, value: int) -> None:
        self.poll.unstable = True
        self.bus_write(addr, size, value)

    def _no_model(self, addr: int, access: str) -> int:
        """An access no model answers: inside a block the chip has, an unmodelled
        register (reads 0, writes dropped, one event per register) unless strict; a
        reserved address is a BusFault, as on the chip."""
        block = chipmap.block_at(addr)
        if block is None:
            self._bus_fault(addr, access)
            return 0
        if self.strict:
            self._bus_fault(addr, access, f"{block.name}+0x{addr - block.base:03x}, not"
                                          " modelled (strict),")
            return 0
        self.unmodelled_access(addr, access)
        return 0

    def unmodelled_access(self, addr: int, access: str) -> None:
        """Note an access to a register nothing models (once per register)."""
        word = addr & ~3
        if word in self.unmodelled:
            return
        text = f"{chipmap.describe(word)}: {access} at pc 0x{self.cpu_pc():08x}"
        self.unmodelled[word] = text
        self.event("unmodelled", text)

    def _install_hooks(self) -> None:
        uc = self.uc
        fm = self.flash_mem
        if self.flash_ctrl is None:
            mmio.hook_write_prot(uc, fm.base, fm.end - 1, self._on_flash_store, self._keep)
        else:
            mmio.hook_write_prot_raw(uc, fm.base, fm.end - 1, self._flash_store_hook(),
                                     self._keep)
        uc.hook_add(UC_HOOK_MEM_UNMAPPED, self._on_unmapped)
        # A store into the system memory, OTP or UID: refused, a BusFault at its address.
        uc.hook_add(UC_HOOK_MEM_WRITE_PROT, self._on_rom_store, None, sysmem.ROM_BASE,
                    sysmem.ROM_BASE + sysmem.ROM_SIZE - 1)
        uc.hook_add(UC_HOOK_INTR, self._on_intr)

    # --- memory as a bus master --------------------------------------------------------
    def memory_at(self, addr: int, n: int) -> Memory:
        for mem in self.memories:
            if mem.contains(addr, n):
                return mem
        raise ValueError(f"0x{addr:08x}+{n} is not in one memory")

    def read_mem(self, addr: int, size: int) -> bytes:
        if addr < self.flash_mem.size:
            addr += self.flash_mem.base    # the boot alias
        if self.sysmem.contains(addr, size):
            return self.sysmem.read(addr, size)
        mem = self.memory_at(addr, size)
        if mem is self.flash_mem and self.watch.active:
            self.watch.note(addr, size)
        off = addr - mem.base
        return bytes(mem.view[off : off + size])

    def write_mem(self, addr: int, data: bytes) -> None:
        mem = self.memory_at(addr, len(data))
        if not mem.writable:
            raise ValueError(f"0x{addr:08x}: {mem.name} is not writable by a bus master")
        self.memory_generation += 1
        off = addr - mem.base
        mem.view[off : off + len(data)] = data

    def load_segments(self, segments: list[Segment], source: str) -> None:
        """Write ELF segments or an image as a programmer would (no flash rules)."""
        self.touch()
        for seg in segments:
            try:
                mem = self.memory_at(seg.addr, len(seg.data))
            except ValueError:
                raise BenchError(f"{source}: {seg.what} is outside the board's memory") from None
            off = seg.addr - mem.base
            mem.view[off : off + len(seg.data)] = seg.data
            self.code_changed(seg.addr, seg.addr + len(seg.data))

    def code_changed(self, begin: int, end: int) -> None:
        self._flash_gen = next(_GENERATIONS)
        lo, hi = self._dirty
        self._dirty = (min(lo, begin), max(hi, end))
        if not self._in_slice:
            self._flush_dirty()

    def _flush_dirty(self) -> None:
        lo, hi = self._dirty
        if lo < hi:
            self._remove_cache(lo, hi)
            self._dirty = (NEVER, 0)

    def _spend_tb(self, cost: int) -> bool:
        """At a reset or restore (between runs): flush the whole translation buffer (True)
        once it is half full, or, with no gauge, once resets and restores have spent the
        budget (module constants)."""
        if self._tb_gauge is None and not self._tb_gauge_sought:
            self._tb_gauge_sought = True
            self._tb_gauge = tcgbuf.find(self.uc, ucctl.TCG_BUFFER_SIZE)
        if self._tb_gauge is not None:
            if self._tb_gauge.used() < ucctl.TCG_BUFFER_SIZE // 2:
                return False
        else:
            self._tb_spent += cost
            if self._tb_spent < TB_BUDGET:
                return False
        ucctl.flush_tb(self._uch)
        self._tb_spent = 0
        self._dirty = (NEVER, 0)
        return True

    def _drop_all_code(self) -> None:
        """Drop every translation without a flush (new hooks apply to code translated
        from now on)."""
        self._flush_dirty()
        for mem in self.memories:
            self._remove_cache(mem.base, mem.end)
        self._remove_cache(sysmem.ROM_BASE, sysmem.ROM_BASE + sysmem.ROM_SIZE)

    def _remove_cache(self, lo: int, hi: int) -> None:
        """Drop code translated from [lo, hi): uc.ctl_remove_cache straight through the C
        API (once per slice that programmed flash; the Python wrapper cost ~10 us)."""
        ucctl.remove_cache(self._uch, lo, hi)

    # --- Bus (what models may ask) -----------------------------------------------------
    @property
    def cycles(self) -> int:
        if self._in_slice:
            return self._cycles + self._ctr.value
        return self._cycles

    @property
    def now_ns(self) -> int:
        # Inlined cycles_to_ns(self.cycles): models ask for the time on every access.
        if self._in_slice:
            return (self._cycles + self._ctr.value) * 125 // 21
        return self._cycles * 125 // 21

    def set_irq(self, irq: int, level: bool) -> None:
        self.scs.set_irq(irq, level)

    def schedule(self, at_ns: int, callback: Callable[[], None]) -> object:
        return self.schedule_cycles(ns_to_cycles(at_ns), callback)

    def schedule_cycles(self, at: int, callback: Callable[[], None]) -> object:
        handle = self.scheduler.schedule(at, callback)
        if self._in_slice:
            # End the slice at the callback's time, not later.
            self._event_horizon = min(self._event_horizon, at)
            self._limit_slice(max(at - self._cycles, self._ctr.value))
        return handle

    def cancel(self, handle: object) -> None:
        self.scheduler.cancel(handle)

    def advance(self, ns: int) -> None:
        cycles = -((-ns * 21) // 125)     # ns_to_cycles(ns), inlined: once per program
        self._cycles += cycles
        if self._in_slice:
            # Time jumped forward inside the slice: it must still end by the next event.
            # A long stall (an erase) ends it at once, so the run looks around (its stop
            # condition) before going on; short ones (a program) do not, or a flash loop
            # would end a slice every few words.
            ctr = self._ctr.value
            limit = ctr if cycles >= CHECK_CYCLES else self._event_horizon - self._cycles
            if limit < self._cnt.value:
                self._cnt.value = max(ctr, limit)

    def frame_out(self, frame: bytes) -> None:
        self.frames_out.append((self.now_ns, bytes(frame)))
        self._observe()

    def event(self, kind: str, detail: str) -> None:
        self.events.append(BoardEvent(self.now_ns, kind, detail))

    def request_stop(self, reason: str) -> None:
        self._stop_request = self._stop_request or reason
        self._stop_after_instruction()

    def cpu_pc(self) -> int:
        if self._r15 is not None:
            return self._r15.value
        self._reg_read(self._uch, a.UC_ARM_REG_PC, self._pc_addr)
        return self._pc_buf.value

    def console_write(self, data: bytes) -> None:
        """Bytes a USART sent: the console log, split into lines at "\\n", "\\r" dropped."""
        text = data.decode("latin-1")
        self.console_text.append(text)
        self._console_len += len(text)
        for ch in text:
            if ch == "\n":
                self.console_lines.append(self._partial)
                self._partial = ""
                self._observe()
            elif ch != "\r":
                self._partial += ch

    @property
    def console(self) -> str:
        if len(self.console_text) > 1:
            self.console_text = ["".join(self.console_text)]
        return self.console_text[0] if self.console_text else ""

    # --- for the core's own models ------------------------------------------------------
    def interrupt_pending_changed(self) -> None:
        if self._in_slice and self.scs.wakes():
            self._stop_after_instruction()

    def request_system_reset(self, cause: str = "SYSRESETREQ") -> None:
        """Reset the chip after this instruction (SYSRESETREQ, or a watchdog: "IWDG",
        "WWDG"); RAM and time are kept, the models see the cause."""
        self._reset_request = True
        self._reset_why = cause
        self._stop_after_instruction()

    def guard_flash(self, on: bool) -> None:
        """An erase runs behind code in RAM (on) or ended (off): while it runs every
        flash access stalls until its end (flashwatch.py, the erase guard)."""
        self.watch.want_guard(on)
        if self._in_slice:
            self._stop_after_instruction()
        else:
            self.watch.release_pending()

    def _on_guarded_flash_access(self) -> None:
        if self.flash_ctrl is not None:
            self.flash_ctrl.wait_for_operation()

    def bus_error(self, detail: str) -> None:
        """A peripheral answered a write with a bus error (the flash interface after a
        wrong key): an imprecise BusFault, taken once the writing instruction retired."""
        if self._late_fault is None:
            self._late_fault = Fault(cortexm.BUSFAULT, cortexm.CFSR_IMPRECISERR,
                                     f"BusFault (imprecise): {detail}")
        self._stop_after_instruction()

    def mpu_changed(self) -> None:
        """An MPU register was written: the regions apply after this instruction."""
        self._stop_after_instruction()

    def _apply_mpu(self) -> None:
        """Hooks over the ranges of the MPU regions that take rights away (mpu.py)."""
        mpu = self.scs.mpu
        mpu.changed = False
        if not mpu.enabled and not self._mpu_hooks:
            return                 # nothing installed, nothing to install: no TB flush
        for handle in self._mpu_hooks:
            self.uc.hook_del(handle)
        self._mpu_hooks = []
        self._mpu_regions = mpu.regions() if mpu.enabled else []
        for region in self._mpu_regions:
            if not region.restricts:
                continue
            lo, hi = region.base, region.base + region.size - 1
            if region.ap != 3:
                self._mpu_hooks.append(self.uc.hook_add(
                    UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, self._on_mpu_access, None, lo, hi))
            if region.xn:
                self._mpu_hooks.append(self.uc.hook_add(
                    UC_HOOK_CODE, self._on_mpu_fetch, None, lo, hi))
        self._drop_all_code()

    def _privileged(self) -> bool:
        ipsr, control = self.uc.reg_read_batch([a.UC_ARM_REG_IPSR, a.UC_ARM_REG_CONTROL])
        return bool(ipsr & 0x1FF) or not control & 1

    def _on_mpu_access(self, uc: Any, access: int, addr: int, size: int, value: int,
                       _: Any) -> None:
        kind = "write" if access == UC_MEM_WRITE else "read"
        if self._fault is not None or self.scs.mpu.check(
                self._mpu_regions, addr, kind, self._privileged()):
            return
        if kind == "write" and any(m.contains(addr, size) and m.writable
                                   for m in self.memories):
            self._mpu_undo = (addr, self.read_mem(addr, size))
        self._fault = Fault(cortexm.MEMMANAGE, cortexm.CFSR_DACCVIOL | cortexm.CFSR_MMARVALID,
                            f"MemManage: MPU denies {kind} at 0x{addr:08x}"
                            f" (pc 0x{self.cpu_pc():08x})", addr)
        uc.emu_stop()

    def _on_mpu_fetch(self, uc: Any, addr: int, size: int, _: Any) -> None:
        if self._fault is not None or self.scs.mpu.check(
                self._mpu_regions, addr, "fetch", self._privileged()):
            return
        self._fault = Fault(cortexm.MEMMANAGE, cortexm.CFSR_IACCVIOL,
                            f"MemManage: MPU region is execute-never at 0x{addr:08x}")
        uc.emu_stop()

    def touch(self) -> None:
        """The bench acted on the board (a frame, console input, a pin, flash written):
        a polling loop found before may see something new."""
        self.generation += 1
        self.poll.forget()

    def peer(self, cls: type) -> Any:
        """The first model of class `cls` on this board, or None (models that work
        together: the timers ask the RCC for their clock, the MAC asks SYSCFG)."""
        for m in self.models:
            if isinstance(m, cls):
                return m
        return None

    def _observe(self) -> None:
        self._observed = True
        self._stop_after_instruction()

    def _stop_after_instruction(self) -> None:
        if self._in_slice:
            self._limit_slice(self._ctr.value)

    def _limit_slice(self, count: int) -> None:
        if count < self._cnt.value:
            self._cnt.value = count

    # --- hooks --------------------------------------------------------------------------
    def _page_model(self, addr: int) -> Peripheral | None:
        for lo, hi, model in self._pages.get(addr >> 10, ()):
            if lo <= addr < hi:
                return model
        return None

    def _alias_read(self, offset: int, size: int) -> int:
        if self.watch.active:
            self.watch.note(self.flash_mem.base + offset, size)
        return int.from_bytes(self.flash_mem.view[offset : offset + size], "little")

    def _alias_write(self, offset: int, size: int, value: int) -> None:
        self._bus_fault(offset, "write")

    def _bus_fault(self, addr: int, access: str, what: str = "unmapped") -> None:
        pc = self.cpu_pc()
        self._fault = Fault(cortexm.BUSFAULT, cortexm.CFSR_PRECISERR | cortexm.CFSR_BFARVALID,
                            f"BusFault: {access} at {what} 0x{addr:08x} (pc 0x{pc:08x})", addr)
        self.uc.emu_stop()

    def _on_unmapped(self, uc: Any, access: int, addr: int, size: int, value: int,
                     _: Any) -> bool:
        self._unmapped = (access, addr)
        return False

    def _on_rom_store(self, uc: Any, access: int, addr: int, size: int, value: int,
                      _: Any) -> bool:
        self._unmapped = (UC_MEM_WRITE_UNMAPPED, addr)
        return False

    def _on_flash_store(self, addr: int, size: int, value: int) -> bool:
        """A CPU store into flash on a board without a flash controller: ignored (unicorn
        drops the store, and nothing writes it)."""
        self._no_flash_ctrl()
        return True

    def _flash_store_hook(self) -> mmio.RawStoreFn:
        """unicorn's callback for CPU stores into flash, handed to the flash controller.

        Every firmware flash program passes here, so the common case (the controller
        answers STORE_AS_IS: flash takes the stored value) is kept to one Python frame above
        the controller's: the PC read straight through the C API, names bound once."""
        uc, ctrl = self.uc, self.flash_ctrl
        cpu_store, as_is = ctrl.cpu_store, STORE_AS_IS
        reg_read, uch, pc_reg, pc_addr, pc_buf = (
            self._reg_read, self._uch, a.UC_ARM_REG_PC, self._pc_addr, self._pc_buf)
        generations = _GENERATIONS
        view, base, ctr, r15 = self.flash_mem.view, self.flash_mem.base, self._ctr, self._r15
        # Aligned words read and written through a word view (no slice object per store);
        # the host buffer is in host byte order, which is the board's only on
        # little-endian hosts.
        words = view.cast("I") if sys.byteorder == "little" else None
        watch = self.watch
        watched = watch.watched

        def on_store(_h: int, _access: int, addr: int, size: int, value: int,
                     _ud: int) -> bool:
            # (A polling-loop probe sees a store here by the flash generation moving.)
            try:
                end = addr + size
                lo, hi = self._dirty
                if addr < lo:
                    self._dirty = lo, hi = addr, max(hi, end)
                if end > hi:
                    self._dirty = (lo, end)
                self._flash_gen = next(generations)
                if r15 is None:
                    reg_read(uch, pc_reg, pc_addr)
                    pc = pc_buf.value
                else:
                    pc = r15.value
                off = addr - base
                if watched[off >> 10]:
                    watch.note(addr, size)          # a program depends on the old bits
                word = size == 4 and not off & 3 and words is not None
                old = words[off >> 2] if word else \
                    int.from_bytes(view[off : off + size], "little")
                value &= _MASK[size]
                outcome = cpu_store(addr, size, value, pc, old,
                                    (self._cycles + ctr.value) * 125 // 21)
                # unicorn drops the store itself: flash holds what the controller says.
                final = outcome.final
                if final is None:
                    if word:
                        words[off >> 2] = value
                    else:
                        view[off : off + size] = value.to_bytes(size, "little")
                else:
                    view[off : off + size] = final
                if outcome is not as_is and outcome.cut:
                    self.request_stop("power-cut")   # after this instruction
                return True
            except BaseException as e:
                mmio.fail(uc, e)
                return False

        return on_store

    def _no_flash_ctrl(self) -> None:
        if not self._flash_ctrl_missing_reported:
            self._flash_ctrl_missing_reported = True
            self.event("unmapped", "flash store with no flash controller model: ignored")

    def _on_intr(self, uc: Any, intno: int, _: Any) -> None:
        pc = self.cpu_pc()
        try:
            if intno == 8:
                self.scs.exception_return(pc | 1)
                nxt = self.scs.takeable()
                if nxt is not None:
                    self.scs.enter(nxt, self.cpu_pc())   # tail-chain
            elif intno == 2:
                self.scs.pending |= 1 << cortexm.SVCALL
                target = cortexm.SVCALL
                if self.scs.takeable() != cortexm.SVCALL:
                    target = self.scs.fault_target(Fault(cortexm.HARDFAULT, 0,
                                                         "SVC that cannot be taken"))
                    self.scs.pending &= ~(1 << cortexm.SVCALL)
                    self.scs.hfsr |= cortexm.HFSR_FORCED
                    self.event("fault", f"SVC at 0x{pc - 2:08x} cannot be taken -> HardFault")
                self.scs.enter(target, pc)
            elif intno == 7:
                self._halt = f"bkpt at 0x{pc:08x}"
                uc.emu_stop()
            elif intno == 3:
                self._fault = fetch_fault(pc)
                uc.emu_stop()
            else:
                self._fault = Fault(cortexm.USAGEFAULT, cortexm.CFSR_UNDEFINSTR,
                                    f"UsageFault: CPU exception {intno} at 0x{pc:08x}")
                uc.emu_stop()
        except BadReturn as e:
            self._fault = Fault(cortexm.USAGEFAULT, cortexm.CFSR_INVPC, f"UsageFault: {e}")
            uc.emu_stop()
        except Lockup as e:
            self._lockup_detail = str(e)
            uc.emu_stop()

    def _on_breakpoint(self, uc: Any, addr: int, size: int, _: Any) -> None:
        if self._skip_bp == addr:
            self._skip_bp = None
            return
        self._halt = f"breakpoint at 0x{addr:08x}"
        self._halted_at = addr
        uc.emu_stop()

    # --- power and reset ----------------------------------------------------------------
    def power_on(self) -> None:
        for mem in self.memories:
            if mem.writable and not (self.vbat_held and mem.base == BKPSRAM_BASE):
                mem.clear()     # backup SRAM keeps its content while VBAT holds
        # Start on a whole nanosecond count (21 cycles are exactly 125 ns): every time in
        # ns the models compute from here rounds the same way whenever power comes back,
        # so a run from power-on does not depend on when it started.
        self._cycles = -(-self._cycles // 21) * 21
        self._reset("power-on")

    def _reset(self, why: str) -> None:
        self.touch()
        self.scheduler.clear()
        self.reset_cause = why
        for m in self.models:
            m.system_reset(why)
        self.uc.context_restore(self._pristine)
        # Code translated from flash stays valid across a reset: every change of flash
        # drops what was translated from it (code_changed(), restore()). RAM was cleared
        # behind unicorn's back at power-on, so what was translated from it goes.
        if not self._spend_tb(TB_COST_RESET):
            self._flush_dirty()
            for mem in self.memories:
                if mem is not self.flash_mem:
                    self._remove_cache(mem.base, mem.end)
        self._apply_mpu()
        self._dirty = (NEVER, 0)
        sp, pc = struct.unpack("<II", self.flash.read(self.flash.base, 8))
        self.uc.reg_write(a.UC_ARM_REG_MSP, sp)
        self.uc.reg_write(a.UC_ARM_REG_SP, sp)
        self.uc.reg_write(a.UC_ARM_REG_PC, pc | 1)   # bit 0: Thumb state
        self.powered = True
        self.sleeping = False
        self.lockup = False
        self._stop_request = None
        self._reset_request = False
        self._fault = None
        self._late_fault = None
        self._fault_stop = None
        self._halt = None
        self.event("reset", why)

    def power_off(self, why: str) -> None:
        self.powered = False
        self.sleeping = False
        self.scheduler.clear()
        self.event("power-cut", why)

    # --- running ------------------------------------------------------------------------
    def run(self, duration_ns: int, stop: Callable[[], bool] | None = None,
            max_instructions: int | None = None) -> RunResult:
        deadline = self._cycles + ns_to_cycles(duration_ns)
        budget = NEVER if max_instructions is None else max_instructions
        next_check = self._cycles + CHECK_CYCLES
        self.poll.forget()          # the bench may have changed the board since the last run
        while True:
            if not self.powered:
                return RunResult(StopReason.POWER_CUT, self.now_ns, "the board is off")
            result = self._pending_stop() if self._fault_stop is not None else None
            if result is not None:
                return result
            if self.lockup:
                return RunResult(StopReason.FAULT, self.now_ns, "lockup")
            self._fire_due()
            result = self._pending_stop()
            if result is not None:
                return result
            if self._reset_request:
                self._reset_request = False
                self._reset(self._reset_why)
                continue
            if stop is not None and (self._observed or self._cycles >= next_check):
                self._observed = False
                next_check = self._cycles + CHECK_CYCLES
                if stop():
                    return RunResult(StopReason.CONDITION, self.now_ns)
                self.poll.checked(self.generation)   # did it act on the board?
            if self._cycles >= deadline:
                return RunResult(StopReason.DEADLINE, self.now_ns)
            if budget <= 0:
                return RunResult(StopReason.HALTED, self.now_ns, "step")
            self._take_interrupts()
            if self.lockup:
                continue
            horizon = min(self.scheduler.next_at(), deadline,
                          next_check if stop is not None else NEVER)
            if self.sleeping:
                if self.scs.wakes():
                    self.sleeping = False
                else:
                    if horizon >= NEVER:
                        return RunResult(StopReason.DEADLINE, self.now_ns, "asleep forever")
                    self._cycles = max(self._cycles, horizon)
                    continue
            n = max(1, min(SLICE, horizon - self._cycles, budget))
            masked = self.scs.wakes()
            if masked:
                n = min(n, self._masked_slice)
                self._masked_slice = min(2 * self._masked_slice, SLICE)
            else:
                self._masked_slice = MASKED_SLICE
            self._event_horizon = min(self.scheduler.next_at(), deadline)
            if max_instructions is None and not self.sleeping \
                    and self.poll.try_skip(horizon, self._quiet):
                continue
            if not masked:
                # (While an interrupt waits behind a mask, slices keep their own
                # lengths: they decide when it is taken.)
                n = self.poll.slice_limit(n)
            ran = self._slice(n)
            self._quiet = ran if ran >= n else 0
            budget -= ran

    def _fire_due(self) -> None:
        poll = self.poll
        while True:
            cb = self.scheduler.pop_due(self._cycles)
            if cb is None:
                return
            if poll.event_keeps_loop():
                # A loop that sees only memory goes on as before unless the event
                # changed memory (an interrupt it raises ends the loop when taken).
                memory = (self.memory_generation, self._flash_gen)
                cb()
                if memory != (self.memory_generation, self._flash_gen):
                    poll.forget()
                else:
                    poll.kept += 1
            else:
                poll.forget()
                cb()

    def _pending_stop(self) -> RunResult | None:
        if self._fault_stop is not None:
            line, self._fault_stop = self._fault_stop, None
            return RunResult(StopReason.FAULT, self.now_ns, line)
        if self._stop_request is not None:
            reason, self._stop_request = self._stop_request, None
            if reason == "power-cut" or (self.flash_ctrl is not None
                                         and getattr(self.flash_ctrl, "cut", False)):
                self.power_off("power cut at a flash operation")
                return RunResult(StopReason.POWER_CUT, self.now_ns, reason)
            return RunResult(StopReason.HALTED, self.now_ns, reason)
        if self._halt is not None:
            detail, self._halt = self._halt, None
            return RunResult(StopReason.HALTED, self.now_ns, detail)
        return None

    def _take_interrupts(self) -> None:
        if not self.scs.pending:
            return
        exc = self.scs.takeable()
        if exc is None:
            return
        self.sleeping = False
        self.poll.entered()
        try:
            self.scs.enter(exc, self.cpu_pc())
        except Lockup as e:
            self._do_lockup(str(e))

    def _slice(self, n: int) -> int:
        """Run up to n instructions; returns how many retired."""
        uc = self.uc
        pc = self.cpu_pc()
        self._fault = None
        self._unmapped = None
        error: UcError | None = None
        if pc == self._halted_at:
            self._skip_bp = pc                 # resuming from it: do not stop again
        self._halted_at = None
        self._in_slice = True
        try:
            uc.emu_start(pc | 1, 0xFFFFFFFF, count=n)
        except UcError as e:
            error = e
        finally:
            self._in_slice = False
        ctr, cnt = self._ctr.value, self._cnt.value
        self._skip_bp = None
        stopped_inside = error is not None or self._fault is not None \
            or self._lockup_detail is not None or self._halt is not None
        if stopped_inside or ctr > cnt:
            executed = max(ctr - 1, 0)
        else:
            executed = ctr
            if self._halfword(self.cpu_pc() - 2) in _WFI:
                self.sleeping = True
        self._cycles += executed
        # Translated code is dropped before protections change: dropping it refills
        # TLB entries of the range with the old rights (seen with the erase guard).
        self._flush_dirty()
        if self.watch.between_slices:
            self.watch.release_pending()
        if self._mpu_undo is not None:
            addr, old = self._mpu_undo
            self._mpu_undo = None
            self.write_mem(addr, old)          # the denied store never happened
        if self.scs.mpu.changed:
            self._apply_mpu()
        if error is not None:
            self._fault = self._fault or self._fault_from_error(error)
        if self._lockup_detail is not None:
            detail, self._lockup_detail = self._lockup_detail, None
            self._do_lockup(detail)
        elif self._fault is not None:
            fault, self._fault = self._fault, None
            self._raise_fault(fault)
        elif self._late_fault is not None:
            fault, self._late_fault = self._late_fault, None
            self._raise_fault(fault)
        return executed

    def _halfword(self, addr: int) -> int:
        fm = self.flash_mem
        off = addr - fm.base
        if 0 <= off <= fm.size - 2:
            # Code in flash (after every slice): read_mem's answer without its lookups.
            if self.watch.active:
                self.watch.note(addr, 2)
            view = fm.view
            return view[off] | view[off + 1] << 8
        try:
            return int.from_bytes(self.read_mem(addr, 2), "little")
        except ValueError:
            return 0

    def _fault_from_error(self, error: UcError) -> Fault:
        pc = self.cpu_pc()
        code = error.errno
        if code in (uconst.UC_ERR_READ_UNMAPPED, uconst.UC_ERR_WRITE_UNMAPPED,
                    uconst.UC_ERR_READ_PROT, uconst.UC_ERR_WRITE_PROT):
            addr = self._unmapped[1] if self._unmapped else 0
            access = "write" if self._unmapped and self._unmapped[0] == UC_MEM_WRITE_UNMAPPED \
                else "read"
            return Fault(cortexm.BUSFAULT, cortexm.CFSR_PRECISERR | cortexm.CFSR_BFARVALID,
                         f"BusFault: {access} at unmapped 0x{addr:08x} (pc 0x{pc:08x})", addr)
        if code in (uconst.UC_ERR_FETCH_UNMAPPED, uconst.UC_ERR_FETCH_PROT):
            if self._unmapped and self._unmapped[0] == UC_MEM_FETCH_UNMAPPED:
                pc = self._unmapped[1]
            return fetch_fault(pc)
        if code == uconst.UC_ERR_INSN_INVALID:
            return Fault(cortexm.USAGEFAULT, cortexm.CFSR_UNDEFINSTR,
                         f"UsageFault: undefined instruction at 0x{pc:08x}")
        return Fault(cortexm.USAGEFAULT, cortexm.CFSR_INVSTATE,
                     f"UsageFault: {error} at 0x{pc:08x}")

    def _raise_fault(self, fault: Fault) -> None:
        pc = self.cpu_pc()
        try:
            target = self.scs.fault_target(fault)
            self.scs.record_fault(fault)
            self._fault_event(f"{fault.detail} -> {cortexm.exception_name(target)}", pc)
            self.sleeping = False
            self.scs.enter(target, pc)
        except Lockup as e:
            self._do_lockup(str(e))

    def fault_registers(self) -> str:
        scs = self.scs
        return (f"CFSR=0x{scs.cfsr:08x} HFSR=0x{scs.hfsr:08x} MMFAR=0x{scs.mmfar:08x}"
                f" BFAR=0x{scs.bfar:08x}")

    def _fault_event(self, what: str, pc: int) -> None:
        line = f"{what}; {self.fault_registers()} PC=0x{pc:08x}"
        self.event("fault", line)
        if self.stop_on_fault and self._fault_stop is None:
            self._fault_stop = line

    def _do_lockup(self, detail: str) -> None:
        self.lockup = True
        self._fault_event(f"lockup: {detail}", self.cpu_pc())

    # --- state --------------------------------------------------------------------------
    def cpu_state(self) -> CpuState:
        pc, sp, ipsr = self.uc.reg_read_batch(
            [a.UC_ARM_REG_PC, a.UC_ARM_REG_SP, a.UC_ARM_REG_IPSR])
        ipsr &= 0x1FF
        return CpuState(pc=pc, sp=sp, ipsr=ipsr,
                        in_fault_handler=ipsr in cortexm.FAULT_HANDLERS, lockup=self.lockup)

    def snapshot(self) -> Snapshot:
        return Snapshot(
            context=self.uc.context_save(),
            memories=tuple(self._save_memory(i, m) for i, m in enumerate(self.memories)),
            flash_generation=self._flash_gen,
            models=tuple(m.save() for m in self.models),
            cycles=self._cycles,
            scheduler=self.scheduler.save(),
            powered=self.powered,
            sleeping=self.sleeping,
            # The console itself, not its length: after a restore to an earlier snapshot
            # and a different run, the same lengths hold other lines (a campaign's wait
            # for the ready line would read a line of the abandoned run).
            console=(self.console, tuple(self.console_lines), self._partial),
            events=len(self.events),
            lockup=self.lockup,
            unmodelled=tuple(self.unmodelled.items()),
        )

    def restore(self, snap: Snapshot) -> None:
        self.watch.stop()
        self.uc.context_restore(snap.context)
        stale: list[tuple[int, int]] = []     # code translated from the old content
        for mem, data in zip(self.memories, snap.memories, strict=True):
            if mem is not self.flash_mem or self._flash_gen != snap.flash_generation:
                stale += mem.load(data)
        if not self._spend_tb(TB_COST_RESTORE):
            for lo, hi in stale:
                self._remove_cache(lo, hi)
        self._flash_gen = self._saved_flash_gen = snap.flash_generation
        self._saved = dict(enumerate(snap.memories))
        for model, state in zip(self.models, snap.models, strict=True):
            model.load(state)
        self._apply_mpu()
        self._dirty = (NEVER, 0)
        self._cycles = snap.cycles
        self.scheduler.load(snap.scheduler)
        self.powered, self.sleeping, self.lockup = snap.powered, snap.sleeping, snap.lockup
        text, lines, self._partial = snap.console
        self.console_text = [text] if text else []
        self._console_len = len(text)
        self.console_lines[:] = lines
        del self.events[snap.events:]
        self.unmodelled = dict(snap.unmodelled)
        self._stop_request = None
        self._reset_request = False
        self._halt = None
        self._halted_at = None
        self._fault = None
        self._late_fault = None
        self._fault_stop = None
        self.poll.forget()

    def _save_memory(self, index: int, mem: Memory) -> Chunks:
        """mem.save(), sharing chunks with its last save or restore; flash is compared
        again only when its generation moved."""
        last = self._saved.get(index, ())
        if mem is self.flash_mem:
            if last and self._saved_flash_gen == self._flash_gen:
                return last
            self._saved_flash_gen = self._flash_gen
        data = self._saved[index] = mem.save(last)
        return data

    def state_digest(self) -> bytes:
        h = hashlib.sha256()
        for mem in self.memories:
            h.update(mem.view)
        regs = self.debug.read_core_regs()
        h.update(struct.pack(f"<{len(regs)}I", *regs))
        return h.digest()

    # --- breakpoints (debug) ------------------------------------------------------------
    def add_breakpoint(self, addr: int) -> None:
        addr &= ~1
        if addr not in self._breakpoints:
            self._breakpoints[addr] = self.uc.hook_add(UC_HOOK_CODE, self._on_breakpoint,
                                                       None, addr, addr)
            self._remove_cache(addr, addr + 4)

    def remove_breakpoint(self, addr: int) -> None:
        handle = self._breakpoints.pop(addr & ~1, None)
        if handle is not None:
            self.uc.hook_del(handle)


_CORE_REGS = [getattr(a, f"UC_ARM_REG_R{i}") for i in range(13)] + [
    a.UC_ARM_REG_SP, a.UC_ARM_REG_LR, a.UC_ARM_REG_PC, a.UC_ARM_REG_XPSR,
    a.UC_ARM_REG_MSP, a.UC_ARM_REG_PSP, a.UC_ARM_REG_PRIMASK, a.UC_ARM_REG_BASEPRI,
    a.UC_ARM_REG_FAULTMASK, a.UC_ARM_REG_CONTROL,
]


class DebugPort:
    """What a debugger (the GDB stub) may do to the machine."""

    REG_NAMES = ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11",
                 "r12", "sp", "lr", "pc", "xpsr", "msp", "psp", "primask", "basepri",
                 "faultmask", "control")

    def __init__(self, machine: Machine):
        self.m = machine

    def read_core_regs(self) -> list[int]:
        values = list(self.m.uc.reg_read_batch(_CORE_REGS))
        values[16] |= cortexm.XPSR_T
        return values

    def write_core_reg(self, index: int, value: int) -> None:
        self.m.touch()
        if not 0 <= index < len(_CORE_REGS):
            raise ValueError(f"no core register {index}")
        if index == 15:
            value |= 1   # unicorn takes bit 0 as the Thumb state
        self.m.uc.reg_write(_CORE_REGS[index], value & 0xFFFFFFFF)

    def read_memory(self, addr: int, n: int) -> bytes:
        m = self.m
        rules = m._flash_rules()
        if rules is not None and rules.read_protection() and (
                m.flash_mem.contains(addr, 1) or addr < m.flash_mem.size):
            # RDP level 1 or 2: the debug port cannot read flash (RM0090 3.6.3).
            raise ValueError(f"0x{addr:08x}: flash read protection (RDP level "
                             f"{rules.read_protection()}) blocks debug reads")
        try:
            return self.m.read_mem(addr, n)
        except ValueError:
            return bytes(self.m.uc.mem_read(addr, n))

    def write_memory(self, addr: int, data: bytes) -> None:
        m = self.m
        m.touch()
        if m.flash_mem.contains(addr, len(data)):
            m.flash.write(addr, data)
            return
        try:
            m.write_mem(addr, data)
        except ValueError:
            m.uc.mem_write(addr, data)

    def add_breakpoint(self, addr: int) -> None:
        self.m.add_breakpoint(addr)

    def remove_breakpoint(self, addr: int) -> None:
        self.m.remove_breakpoint(addr)

    def step(self) -> RunResult:
        return self.m.run(1 << 40, max_instructions=1)

    def cont(self, max_ns: int) -> RunResult:
        return self.m.run(max_ns)
