"""The Cortex-M4 parts unicorn does not model: the System Control Space (NVIC, SysTick,
SCB at 0xE000E000) with exception entry, return, priorities and faults; and DBGMCU.

Unicorn executes instructions; everything that makes an exception happen is here
(see docs/UNICORN-NOTES in the shared notes): entry pushes the frame by hand, sets IPSR
and refreshes unicorn's handler-mode flag; the handler's return to an EXC_RETURN
value reaches us as interrupt 8 and is undone here.

The SCS reaches the CPU through `Core` (the machine): registers, memory, time, events.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Protocol

from unicorn import arm_const as a

from pybench.engine.builtin.cpuregs import CpuRegs
from pybench.engine.builtin.mpu import OFFSETS as MPU_OFFSETS
from pybench.engine.builtin.mpu import Mpu
from pybench.engine.builtin.peripheral import Bus, Peripheral
from pybench.engine.builtin.regfile import RegisterBank, merge

CPUID = 0x410FC241
DBGMCU_IDCODE = 0x10076413   # DEV_ID 0x413 (F405/407), REV_ID 0x1007 (rev Z)
IRQ_COUNT = 82               # STM32F407: IRQs 0..81
EXC_COUNT = 16 + IRQ_COUNT

RESET, NMI, HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT = 1, 2, 3, 4, 5, 6
SVCALL, DEBUGMON, PENDSV, SYSTICK = 11, 12, 14, 15
EXC_NAMES = {NMI: "NMI", HARDFAULT: "HardFault", MEMMANAGE: "MemManage", BUSFAULT: "BusFault",
             USAGEFAULT: "UsageFault", SVCALL: "SVCall", DEBUGMON: "DebugMonitor",
             PENDSV: "PendSV", SYSTICK: "SysTick"}
FAULT_HANDLERS = (HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT)

# CFSR bits (UsageFault << 16 | BusFault << 8 | MemManage).
CFSR_IACCVIOL = 1 << 0
CFSR_DACCVIOL = 1 << 1
CFSR_MMARVALID = 1 << 7
CFSR_IBUSERR = 1 << 8
CFSR_PRECISERR = 1 << 9
CFSR_IMPRECISERR = 1 << 10
CFSR_STKERR = 1 << 12
CFSR_BFARVALID = 1 << 15
CFSR_UNDEFINSTR = 1 << 16
CFSR_INVSTATE = 1 << 17
CFSR_INVPC = 1 << 18
HFSR_FORCED = 1 << 30
SHCSR_ENABLE = {MEMMANAGE: 1 << 16, BUSFAULT: 1 << 17, USAGEFAULT: 1 << 18}
_SHCSR_ACTIVE = {MEMMANAGE: 0, BUSFAULT: 1, USAGEFAULT: 3, SVCALL: 7, DEBUGMON: 8,
                 PENDSV: 10, SYSTICK: 11}
_SHCSR_PENDED = {USAGEFAULT: 12, MEMMANAGE: 13, BUSFAULT: 14, SVCALL: 15}

CONTROL_SPSEL, CONTROL_FPCA = 1 << 1, 1 << 2
XPSR_T = 1 << 24
XPSR_IT_MASK = 0x0600FC00     # IT/ICI bits of the EPSR
XPSR_ALIGN = 1 << 9           # stacked xPSR: the frame was realigned to 8 bytes

_BASIC = struct.Struct("<8I")
_FP_EXTRA = struct.Struct("<18I")   # S0-S15, FPSCR, reserved
_S_REGS = [a.UC_ARM_REG_S0 + i for i in range(16)]
_FRAME_REGS = [a.UC_ARM_REG_R0, a.UC_ARM_REG_R1, a.UC_ARM_REG_R2, a.UC_ARM_REG_R3,
               a.UC_ARM_REG_R12, a.UC_ARM_REG_LR]
# What exception entry reads, in one call: the frame's registers, then the state.
_ENTRY_REGS = [*_FRAME_REGS, a.UC_ARM_REG_CONTROL, a.UC_ARM_REG_IPSR, a.UC_ARM_REG_SP,
               a.UC_ARM_REG_XPSR]
_MASK_REGS = [a.UC_ARM_REG_PRIMASK, a.UC_ARM_REG_BASEPRI, a.UC_ARM_REG_FAULTMASK]

# Debug registers (offsets in the SCS): DEMCR enables the DWT (TRCENA).
DHCSR, DCRSR, DCRDR, DEMCR = 0xDF0, 0xDF4, 0xDF8, 0xDFC

# SysTick registers (offsets in the SCS).
SYST_CSR, SYST_RVR, SYST_CVR, SYST_CALIB = 0x010, 0x014, 0x018, 0x01C
CSR_ENABLE, CSR_TICKINT, CSR_CLKSOURCE, CSR_COUNTFLAG = 1, 2, 4, 1 << 16
# TENMS for the 21 MHz external reference (HCLK/8): 10 ms is 210000 ticks.
SYST_CALIB_VALUE = 210000 - 1


class Core(Protocol):
    """What the SCS needs from the machine besides the peripheral Bus."""

    uc: Any

    @property
    def cycles(self) -> int: ...

    def read_mem(self, addr: int, size: int) -> bytes: ...

    def write_mem(self, addr: int, data: bytes) -> None: ...

    def schedule_cycles(self, at: int, callback: Any) -> object: ...

    def cancel(self, handle: object) -> None: ...

    def event(self, kind: str, detail: str) -> None: ...

    def request_system_reset(self) -> None: ...

    def request_stop(self, reason: str) -> None: ...

    def interrupt_pending_changed(self) -> None: ...

    def lockup(self, detail: str) -> None: ...

    def mpu_changed(self) -> None: ...


class Lockup(Exception):
    """A fault the core cannot take (a fault in HardFault or NMI): the CPU locks up."""


@dataclass(frozen=True)
class Fault:
    """A fault to raise: which handler, the CFSR bits, BFAR/MMFAR if any, and a text."""

    exc: int
    cfsr: int
    detail: str
    bfar: int | None = None


class SystemControlSpace(Peripheral):
    """NVIC + SysTick + SCB (0xE000E000..0xE000EFFF) and the exception logic."""

    repl_types = ("IRQControllers.NVIC",)
    default_size = 0x1000

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        self.prio_mask = int(props.get("priorityMask", 0xF0)) & 0xFF
        self.core: Core | None = None
        self.dwt: Any = None         # the DWT model, which keeps DEMCR (dwt.py)
        self.mpu = Mpu()
        self.reset()

    def bind(self, core: Core) -> None:
        self.core = core
        # Registers through the C API (cpuregs.py): exception entry and return are on
        # the path of every interrupt.
        regs = CpuRegs(core.uc)
        self._reg = regs
        self._entry_regs = regs.set(_ENTRY_REGS)
        self._frame_regs = regs.set(_FRAME_REGS)
        self._s_regs = regs.set(_S_REGS)
        self._mask_regs = regs.set(_MASK_REGS)

    def stable_read(self, offset: int) -> bool:
        # SysTick's counter moves with time and COUNTFLAG clears when read.
        return offset & ~3 not in (SYST_CSR, SYST_CVR)

    # --- state -----------------------------------------------------------------------
    def reset(self) -> None:
        self.pending = 0             # bit n: exception n pending
        self.active = 0              # bit n: exception n active
        self.enabled = 0             # bit 16+i: IRQ i enabled
        self.levels = 0              # bit 16+i: IRQ line i high
        self.prio = [0] * EXC_COUNT  # configurable priorities (bytes as written, masked)
        self.vtor = 0
        self.prigroup = 0
        self.scr = 0
        self.ccr = 0x0000_0200       # STKALIGN
        self.shcsr_ena = 0
        self.cfsr = 0
        self.hfsr = 0
        self.dfsr = 0
        self.mmfar = 0
        self.bfar = 0
        self.cpacr = 0
        self.fpccr = 0xC000_0000
        self.fpcar = 0
        self.fpdscr = 0
        if hasattr(self, "mpu"):
            self.mpu.reset()
        # SysTick: the counter is described by (base_cycle, base_value) while enabled.
        self.syst_csr = 0
        self.syst_rvr = 0
        self.syst_cvr = 0
        self.syst_base = 0
        self.syst_wrap: object | None = None
        self.syst_wrap_at = 0
        self.syst_countflag = False

    def save(self) -> Any:
        return (self.pending, self.active, self.enabled, self.levels, tuple(self.prio),
                self.vtor, self.prigroup, self.scr, self.ccr, self.shcsr_ena, self.cfsr,
                self.hfsr, self.dfsr, self.mmfar, self.bfar, self.cpacr, self.fpccr,
                self.fpcar, self.fpdscr, self.syst_csr, self.syst_rvr, self.syst_cvr,
                self.syst_base, self.syst_wrap, self.syst_wrap_at, self.syst_countflag,
                self.mpu.save())

    def load(self, state: Any) -> None:
        (self.pending, self.active, self.enabled, self.levels, prio,
         self.vtor, self.prigroup, self.scr, self.ccr, self.shcsr_ena, self.cfsr,
         self.hfsr, self.dfsr, self.mmfar, self.bfar, self.cpacr, self.fpccr,
         self.fpcar, self.fpdscr, self.syst_csr, self.syst_rvr, self.syst_cvr,
         self.syst_base, self.syst_wrap, self.syst_wrap_at, self.syst_countflag,
         mpu) = state
        self.mpu.load(mpu)
        self.prio = list(prio)

    # --- interrupt lines (Bus.set_irq lands here) ---------------------------------------
    def set_irq(self, irq: int, level: bool) -> None:
        if not 0 <= irq < IRQ_COUNT:
            raise ValueError(f"IRQ {irq} does not exist on this NVIC (0..{IRQ_COUNT - 1})")
        bit = 1 << (16 + irq)
        if level:
            self.levels |= bit
            if not self.active & bit:
                self.set_pending(16 + irq)
        else:
            self.levels &= ~bit

    def set_pending(self, exc: int) -> None:
        if not self.pending & (1 << exc):
            self.pending |= 1 << exc
            if self.core is not None:
                self.core.interrupt_pending_changed()

    # --- priorities ------------------------------------------------------------------
    def priority(self, exc: int) -> int:
        if exc <= HARDFAULT:
            return (-3, -3, -2, -1)[exc]
        return self.prio[exc]

    def group(self, prio: int) -> int:
        """The preemption part of a priority (AIRCR.PRIGROUP splits off subpriority)."""
        if prio < 0:
            return prio
        return prio & ((0xFF << (self.prigroup + 1)) & 0xFF)

    def execution_priority(self) -> int:
        ep = 256
        act = self.active
        n = 0
        while act:
            if act & 1:
                ep = min(ep, self.group(self.priority(n)))
            act >>= 1
            n += 1
        assert self.core is not None
        primask, basepri, faultmask = self._mask_regs.read()
        basepri &= self.prio_mask
        if basepri:
            ep = min(ep, self.group(basepri))
        if primask & 1:
            ep = min(ep, 0)
        if faultmask & 1:
            ep = min(ep, -1)
        return ep

    def _candidates(self) -> int:
        # System exceptions are always enabled once pending; IRQs need their ISER bit.
        return self.pending & (self.enabled | 0xFFFF)

    def highest_pending(self) -> int | None:
        cand = self._candidates()
        if not cand:
            return None
        best: int | None = None
        best_key = (999, 999)
        n = 0
        while cand:
            if cand & 1:
                key = (self.priority(n), n)
                if key < best_key:
                    best, best_key = n, key
            cand >>= 1
            n += 1
        return best

    def takeable(self) -> int | None:
        """The exception to enter now, if a pending one beats the execution priority."""
        if not self._candidates():
            return None
        best = self.highest_pending()
        if best is None:
            return None
        if self.group(self.priority(best)) < self.execution_priority():
            return best
        return None

    def wakes(self) -> bool:
        """WFI ends on any pending enabled exception, even one PRIMASK holds back."""
        return bool(self._candidates())

    # --- exception entry and return ------------------------------------------------------
    def enter(self, exc: int, return_addr: int) -> None:
        """Take exception `exc`: stack the frame, switch to handler mode, jump."""
        core = self.core
        assert core is not None
        reg = self._reg
        *regs, control, ipsr, sp, xpsr = self._entry_regs.read()
        ipsr &= 0x1FF
        xpsr |= XPSR_T
        on_psp = ipsr == 0 and bool(control & CONTROL_SPSEL)
        fp = bool(control & CONTROL_FPCA)
        size = 0x68 if fp else 0x20
        frame_sp = (sp - size) & ~7
        if (sp - size) & 4:
            xpsr |= XPSR_ALIGN
        else:
            xpsr &= ~XPSR_ALIGN
        frame = _BASIC.pack(*regs, return_addr & ~1, xpsr)
        if fp:
            sregs = self._s_regs.read()
            frame += _FP_EXTRA.pack(*sregs, reg.read(a.UC_ARM_REG_FPSCR), 0)
        try:
            core.write_mem(frame_sp, frame)
        except ValueError:
            self.cfsr |= CFSR_STKERR
            raise Lockup(f"stacking for exception {exc} failed at SP 0x{frame_sp:08x}") from None
        if on_psp:
            reg.write(a.UC_ARM_REG_PSP, frame_sp)
            # SPSEL=0 while still in thread mode: unicorn swaps the banked SPs.
            reg.write(a.UC_ARM_REG_CONTROL, control & ~(CONTROL_SPSEL | CONTROL_FPCA))
        else:
            reg.write(a.UC_ARM_REG_SP, frame_sp)
            if fp:
                reg.write(a.UC_ARM_REG_CONTROL, control & ~CONTROL_FPCA)
        exc_return = 0xFFFFFFE1 | (0 if fp else 0x10)
        if ipsr == 0:
            exc_return |= 0x8 | (0x4 if on_psp else 0)
        self._set_xpsr((xpsr & ~(XPSR_IT_MASK | XPSR_ALIGN | 0x1FF)) | exc)
        reg.write(a.UC_ARM_REG_LR, exc_return)
        self.pending &= ~(1 << exc)
        self.active |= 1 << exc
        try:
            vector = struct.unpack("<I", core.read_mem(self.vector_addr(exc), 4))[0]
        except ValueError:
            # A vector fetch bus error escalates to HardFault, whose own vector comes from
            # the same table: the core locks up (ARMv7-M B1.5.14, "Lockup").
            raise Lockup(f"vector fetch for exception {exc} failed at VTOR "
                         f"0x{self.vtor:08x}") from None
        reg.write(a.UC_ARM_REG_PC, vector | 1)   # bit 0 keeps unicorn in Thumb state

    def vector_addr(self, exc: int) -> int:
        return self.vtor + 4 * exc

    def _set_xpsr(self, xpsr: int) -> None:
        reg = self._reg
        reg.write(a.UC_ARM_REG_XPSR, xpsr)
        # Refreshes unicorn's cached handler-mode flag (see the unicorn notes).
        reg.write(a.UC_ARM_REG_APSR_NZCV, reg.read(a.UC_ARM_REG_APSR_NZCV))

    def exception_return(self, exc_return: int) -> None:
        """The handler branched to EXC_RETURN: unstack and go back (or tail-chain)."""
        core = self.core
        assert core is not None
        reg = self._reg
        ipsr = reg.read(a.UC_ARM_REG_IPSR) & 0x1FF
        kind = exc_return & 0xF
        if ipsr == 0 or exc_return & 0x0FFFFFE0 != 0x0FFFFFE0 or kind not in (1, 9, 13) \
                or not self.active & (1 << ipsr):
            raise BadReturn(exc_return, ipsr)
        self.active &= ~(1 << ipsr)
        if self.levels & (1 << ipsr):
            self.pending |= 1 << ipsr   # a level interrupt still asserted comes back
        to_thread = bool(kind & 0x8)
        to_psp = kind == 13
        fp = not exc_return & 0x10
        control = reg.read(a.UC_ARM_REG_CONTROL)
        sp = reg.read(a.UC_ARM_REG_PSP if to_psp else a.UC_ARM_REG_MSP)
        size = 0x68 if fp else 0x20
        try:
            raw = core.read_mem(sp, size)
        except ValueError:
            raise Lockup(f"unstacking from SP 0x{sp:08x} failed") from None
        r0, r1, r2, r3, r12, lr, pc, xpsr = _BASIC.unpack_from(raw)
        self._frame_regs.write((r0, r1, r2, r3, r12, lr))
        if fp:
            extra = _FP_EXTRA.unpack_from(raw, 0x20)
            self._s_regs.write(extra[:16])
            reg.write(a.UC_ARM_REG_FPSCR, extra[16])
        new_sp = sp + size + (4 if xpsr & XPSR_ALIGN else 0)
        ret_ipsr = xpsr & 0x1FF
        if to_thread != (ret_ipsr == 0):
            # The frame says another mode than EXC_RETURN does: INVPC on real hardware.
            raise BadReturn(exc_return, ipsr)
        if to_psp:
            reg.write(a.UC_ARM_REG_PSP, new_sp)
        else:
            reg.write(a.UC_ARM_REG_MSP, new_sp)
        self._set_xpsr((xpsr & ~XPSR_ALIGN) | XPSR_T)
        control = (control & ~(CONTROL_SPSEL | CONTROL_FPCA)) | (CONTROL_FPCA if fp else 0)
        if to_psp:
            control |= CONTROL_SPSEL
        # In thread mode now: a CONTROL write with SPSEL swaps unicorn's banked SPs.
        reg.write(a.UC_ARM_REG_CONTROL, control)
        reg.write(a.UC_ARM_REG_PC, pc | 1)

    # --- faults ------------------------------------------------------------------------
    def fault_target(self, fault: Fault) -> int:
        """The handler a fault goes to: its own, or HardFault (escalation); Lockup when
        even HardFault cannot be taken."""
        ep = self.execution_priority()
        exc = fault.exc
        if exc != HARDFAULT:
            enabled = bool(self.shcsr_ena & SHCSR_ENABLE[exc])
            if not enabled or self.group(self.priority(exc)) >= ep:
                self.hfsr |= HFSR_FORCED
                exc = HARDFAULT
        if exc == HARDFAULT and ep <= -1:
            raise Lockup(fault.detail)
        return exc

    def record_fault(self, fault: Fault) -> None:
        self.cfsr |= fault.cfsr
        if fault.bfar is not None:
            if fault.exc == BUSFAULT:
                self.bfar = fault.bfar
            elif fault.exc == MEMMANAGE:
                self.mmfar = fault.bfar

    # --- registers -----------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        if 0x400 <= offset < 0x400 + IRQ_COUNT or 0xD18 <= offset < 0xD24:
            value = 0
            for i in range(size):
                value |= self._prio_byte(offset + i) << (8 * i)
            return value
        word = offset & ~3
        value = self._read_word(word)
        if value is None:
            self.unknown(word, "read")
            return 0
        return (value >> ((offset & 3) * 8)) & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        if 0x400 <= offset < 0x400 + IRQ_COUNT or 0xD18 <= offset < 0xD24:
            for i in range(size):
                self._set_prio_byte(offset + i, (value >> (8 * i)) & 0xFF)
            return
        word = offset & ~3
        old = self._read_word(word) if size != 4 else 0
        _, value = merge(old or 0, offset, size, value)
        if not self._write_word(word, value):
            self.unknown(word, "write")

    def _prio_exc(self, offset: int) -> int:
        return 16 + offset - 0x400 if offset < 0xD00 else offset - 0xD18 + 4

    def _prio_byte(self, offset: int) -> int:
        return self.prio[self._prio_exc(offset)]

    def _set_prio_byte(self, offset: int, value: int) -> None:
        exc = self._prio_exc(offset)
        if exc in (MEMMANAGE, BUSFAULT, USAGEFAULT, SVCALL, DEBUGMON, PENDSV, SYSTICK) \
                or exc >= 16:
            self.prio[exc] = value & self.prio_mask
            if self.core is not None:
                self.core.interrupt_pending_changed()

    def _irq_bits(self, word: int, base: int, reg: int) -> int:
        return (reg >> (16 + 32 * ((word - base) >> 2))) & 0xFFFFFFFF

    def _read_word(self, word: int) -> int | None:
        if 0x100 <= word < 0x10C:
            return self._irq_bits(word, 0x100, self.enabled)
        if 0x180 <= word < 0x18C:
            return self._irq_bits(word, 0x180, self.enabled)
        if 0x200 <= word < 0x20C:
            return self._irq_bits(word, 0x200, self.pending)
        if 0x280 <= word < 0x28C:
            return self._irq_bits(word, 0x280, self.pending)
        if 0x300 <= word < 0x30C:
            return self._irq_bits(word, 0x300, self.active)
        if word in (SYST_CSR, SYST_RVR, SYST_CVR, SYST_CALIB):
            return self._systick_read(word)
        return self._scb_read(word)

    def _scb_read(self, word: int) -> int | None:
        regs: dict[int, int] = {
            0x004: (IRQ_COUNT - 1) // 32,            # ICTR
            0xD00: CPUID, 0xD08: self.vtor,
            0xD0C: 0xFA05_0000 | (self.prigroup << 8),
            0xD10: self.scr, 0xD14: self.ccr, 0xD28: self.cfsr, 0xD2C: self.hfsr,
            0xD30: self.dfsr, 0xD34: self.mmfar, 0xD38: self.bfar, 0xD3C: 0,
            0xD88: self.cpacr, 0xF34: self.fpccr, 0xF38: self.fpcar, 0xF3C: self.fpdscr,
        }
        if word == 0xD04:
            return self._icsr()
        if word == 0xD24:
            return self._shcsr()
        if word == DEMCR:
            return self.dwt.demcr if self.dwt is not None else 0
        if word in MPU_OFFSETS:
            return self.mpu.read(word)
        if word in (DHCSR, DCRSR, DCRDR):
            return 0                          # no debugger attached through the core
        return regs.get(word)

    def _icsr(self) -> int:
        ipsr = self._reg.read(a.UC_ARM_REG_IPSR) if self.core else 0
        value = ipsr & 0x1FF
        pending = self.highest_pending()
        if pending is not None:
            value |= pending << 12
        if self.pending & ~0xFFFF & self.enabled:
            value |= 1 << 22
        if bin(self.active).count("1") <= 1:
            value |= 1 << 11                  # RETTOBASE
        if self.pending & (1 << SYSTICK):
            value |= 1 << 26
        if self.pending & (1 << PENDSV):
            value |= 1 << 28
        if self.pending & (1 << NMI):
            value |= 1 << 31
        return value

    def _shcsr(self) -> int:
        value = self.shcsr_ena
        for exc, bit in _SHCSR_ACTIVE.items():
            if self.active & (1 << exc):
                value |= 1 << bit
        for exc, bit in _SHCSR_PENDED.items():
            if self.pending & (1 << exc):
                value |= 1 << bit
        return value

    def _write_word(self, word: int, value: int) -> bool:
        changed = True
        if 0x100 <= word < 0x10C:
            self.enabled |= (value << (16 + 32 * ((word - 0x100) >> 2))) & _IRQ_MASK
        elif 0x180 <= word < 0x18C:
            self.enabled &= ~(value << (16 + 32 * ((word - 0x180) >> 2)))
        elif 0x200 <= word < 0x20C:
            self.pending |= (value << (16 + 32 * ((word - 0x200) >> 2))) & _IRQ_MASK
        elif 0x280 <= word < 0x28C:
            self.pending &= ~(value << (16 + 32 * ((word - 0x280) >> 2)))
        elif 0x300 <= word < 0x30C:
            changed = False                     # IABR is read-only
        elif word == 0xF00:                     # STIR
            irq = value & 0x1FF
            if irq < IRQ_COUNT:
                self.pending |= 1 << (16 + irq)
        elif word in (SYST_CSR, SYST_RVR, SYST_CVR):
            self._systick_write(word, value)
            changed = False
        elif word == SYST_CALIB:
            changed = False
        else:
            return self._scb_write(word, value)
        if changed and self.core is not None:
            self.core.interrupt_pending_changed()
        return True

    def _scb_write(self, word: int, value: int) -> bool:
        if word == 0xD04:                       # ICSR
            if value & (1 << 31):
                self.pending |= 1 << NMI
            if value & (1 << 28):
                self.pending |= 1 << PENDSV
            if value & (1 << 27):
                self.pending &= ~(1 << PENDSV)
            if value & (1 << 26):
                self.pending |= 1 << SYSTICK
            if value & (1 << 25):
                self.pending &= ~(1 << SYSTICK)
            if self.core is not None:
                self.core.interrupt_pending_changed()
        elif word == 0xD08:
            self.vtor = value & 0xFFFF_FE00     # TBLOFF: bits 29:9 on the M4
        elif word == 0xD0C:
            if value >> 16 != 0x05FA:
                return True                     # wrong VECTKEY: the write is ignored
            self.prigroup = (value >> 8) & 7
            if value & (1 << 2) and self.core is not None:
                self.core.request_system_reset()
            elif self.core is not None:
                self.core.interrupt_pending_changed()
        elif word == 0xD10:
            self.scr = value & 0x16
        elif word == 0xD14:
            self.ccr = (value & 0x31B) | 0x200
        elif word == 0xD24:
            self.shcsr_ena = value & 0x7_0000
        elif word == 0xD28:
            self.cfsr &= ~value                 # write one to clear
        elif word == 0xD2C:
            self.hfsr &= ~value
        elif word == 0xD30:
            self.dfsr &= ~value
        elif word == 0xD34:
            self.mmfar = value
        elif word == 0xD38:
            self.bfar = value
        elif word == 0xD3C:
            pass
        elif word == DEMCR:
            if self.dwt is not None:
                self.dwt.write_demcr(value)
        elif word in MPU_OFFSETS:
            self.mpu.write(word, value)
            if self.core is not None:
                self.core.mpu_changed()
        elif word in (DHCSR, DCRSR, DCRDR):
            pass
        elif word == 0xD88:
            self.cpacr = value & 0x00F0_0000
        elif word == 0xF34:
            self.fpccr = value & 0xC000_01FB
        elif word == 0xF38:
            self.fpcar = value & ~7
        elif word == 0xF3C:
            self.fpdscr = value & 0x07C0_0000
        else:
            return False
        return True

    # --- SysTick -------------------------------------------------------------------------
    def _tick_div(self) -> int:
        return 1 if self.syst_csr & CSR_CLKSOURCE else 8

    def _systick_value(self) -> int:
        if not self.syst_csr & CSR_ENABLE or self.core is None:
            return self.syst_cvr
        ticks = (self.core.cycles - self.syst_base) // self._tick_div()
        if ticks < self.syst_cvr:
            return self.syst_cvr - ticks
        if self.syst_rvr == 0:
            return 0
        return (-(ticks - self.syst_cvr)) % (self.syst_rvr + 1)

    def _systick_read(self, word: int) -> int:
        if word == SYST_CSR:
            value = self.syst_csr | (CSR_COUNTFLAG if self.syst_countflag else 0)
            self.syst_countflag = False
            return value
        if word == SYST_RVR:
            return self.syst_rvr
        if word == SYST_CVR:
            return self._systick_value()
        return SYST_CALIB_VALUE

    def _systick_write(self, word: int, value: int) -> None:
        if word == SYST_RVR:
            self._systick_rebase()
            self.syst_rvr = value & 0xFF_FFFF
        elif word == SYST_CVR:
            self._systick_rebase()
            self.syst_cvr = 0
            self.syst_countflag = False
        else:
            self._systick_rebase()
            self.syst_csr = value & (CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE)
        self._systick_schedule()

    def _systick_rebase(self) -> None:
        """Fold the elapsed time into (syst_base, syst_cvr) before a change."""
        if self.core is None:
            return
        self.syst_cvr = self._systick_value()
        self.syst_base = self.core.cycles

    def _systick_schedule(self) -> None:
        core = self.core
        if core is None:
            return
        if self.syst_wrap is not None:
            core.cancel(self.syst_wrap)
            self.syst_wrap = None
        if not self.syst_csr & CSR_ENABLE:
            return
        if self.syst_cvr:
            ticks = self.syst_cvr
        elif self.syst_rvr:
            ticks = self.syst_rvr + 1
        else:
            return
        self.syst_wrap_at = self.syst_base + ticks * self._tick_div()
        self.syst_wrap = core.schedule_cycles(self.syst_wrap_at, self._systick_wrap)

    def _systick_wrap(self) -> None:
        """The counter reached zero: COUNTFLAG, the interrupt, and the next period."""
        self.syst_wrap = None
        self.syst_countflag = True
        if self.syst_csr & CSR_TICKINT:
            self.set_pending(SYSTICK)
        self.syst_base = self.syst_wrap_at
        self.syst_cvr = 0
        self._systick_schedule()


_IRQ_MASK = ((1 << IRQ_COUNT) - 1) << 16


class BadReturn(Exception):
    """A branch to an EXC_RETURN value that does not match the exception state (INVPC)."""

    def __init__(self, exc_return: int, ipsr: int):
        super().__init__(f"bad EXC_RETURN 0x{exc_return:08x} in exception {ipsr}")


class Dbgmcu(RegisterBank):
    """DBGMCU (RM0090 section 38.16): IDCODE says STM32F405/407 rev Z; the freeze bits
    are stored."""

    repl_types = ("Miscellaneous.STM32_DBGMCU",)
    RESET = {0x00: DBGMCU_IDCODE, 0x04: 0, 0x08: 0, 0x0C: 0}
    default_size = 0x400

    def write_reg(self, offset: int, value: int) -> None:
        if offset != 0x00:
            self.regs[offset] = value & 0xFFFFFFFF


def exception_name(exc: int) -> str:
    return EXC_NAMES.get(exc, f"IRQ{exc - 16}" if exc >= 16 else f"exception {exc}")
