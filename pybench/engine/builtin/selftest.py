"""Start-up checks of the unicorn behaviours the machine relies on (none is documented).

Each check runs a few hand-assembled Thumb instructions on a scratch unicorn and
compares with what machine.py assumes; a failure is a BenchError naming the behaviour,
so a different unicorn build stops the bench at once instead of giving wrong results.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache

from unicorn import (
    UC_ARCH_ARM,
    UC_HOOK_INTR,
    UC_HOOK_MEM_FETCH_PROT,
    UC_HOOK_MEM_READ_PROT,
    UC_HOOK_MEM_WRITE_PROT,
    UC_MEM_FETCH_PROT,
    UC_MEM_READ_PROT,
    UC_MODE_THUMB,
    UC_PROT_ALL,
    UC_PROT_EXEC,
    UC_PROT_NONE,
    UC_PROT_READ,
    Uc,
    UcError,
)
from unicorn import arm_const as a

from pybench.engine.builtin.machine import EMU_COUNTER_OFFSET, UNICORN_VERSION
from pybench.errors import BenchError

CODE = 0x0800_0000
RAM = 0x2000_0000
MMIO = 0x4000_0000
NOP = b"\x00\xbf"
WFI = b"\x30\xbf"
STR_R0_R1_PRE4 = bytes.fromhex("41f8040f")   # str r0, [r1, #4]!
STR_R0_R2 = bytes.fromhex("1060")            # str r0, [r2]
STRH_R0_R2_4 = bytes.fromhex("9080")         # strh r0, [r2, #4]
STRB_R0_R2_6 = bytes.fromhex("9071")         # strb r0, [r2, #6]
LDR_R0_R1 = bytes.fromhex("0868")            # ldr r0, [r1]
BX_LR = bytes.fromhex("7047")
MOVS_R0_1 = bytes.fromhex("0120")            # movs r0, #1
MOVS_R0_2 = bytes.fromhex("0220")            # movs r0, #2
STR_R1_R2 = bytes.fromhex("1160")            # str r1, [r2]


Buffer = ctypes.Array[ctypes.c_ubyte]


def _fresh() -> tuple[Uc, Buffer, Buffer]:
    """A scratch unicorn with 4 KiB of flash (read+exec) and of RAM, both host buffers as
    the machine maps its memories."""
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
    uc.ctl_set_cpu_model(a.UC_CPU_ARM_CORTEX_M4)
    flash = (ctypes.c_ubyte * 0x1000)()
    ram = (ctypes.c_ubyte * 0x1000)()
    uc.mem_map_ptr(CODE, 0x1000, UC_PROT_READ | UC_PROT_EXEC, ctypes.addressof(flash))
    uc.mem_map_ptr(RAM, 0x1000, UC_PROT_ALL, ctypes.addressof(ram))
    return uc, flash, ram


def _put(buf: Buffer, off: int, code: bytes) -> None:
    buf[off : off + len(code)] = list(code)


def check_cpu_model() -> None:
    uc, _, _ = _fresh()
    if uc.ctl_get_cpu_model() != a.UC_CPU_ARM_CORTEX_M4:
        raise BenchError("unicorn self-test: CPU model does not read back as Cortex-M4")


def check_counter_and_stops() -> None:
    """emu_counter sits at EMU_COUNTER_OFFSET; lowering emu_count stops after the current
    instruction; WFI returns from emu_start past the WFI."""
    uc, flash, _ = _fresh()
    ctr = ctypes.c_uint64.from_address(uc._uch.value + EMU_COUNTER_OFFSET)
    cnt = ctypes.c_uint64.from_address(uc._uch.value + EMU_COUNTER_OFFSET + 8)
    _put(flash, 0, NOP * 20)
    uc.emu_start(CODE | 1, 0xFFFFFFFF, count=7)
    if ctr.value != 8 or cnt.value != 7 or uc.reg_read(a.UC_ARM_REG_PC) != CODE + 14:
        raise BenchError("unicorn self-test: the instruction counter is not where the engine"
                         f" reads it (counter {ctr.value}, budget {cnt.value}; unicorn "
                         f"{UNICORN_VERSION}, the bench pins 2.1.1)")

    _put(flash, 0x100, NOP * 3 + STR_R0_R1_PRE4 + NOP * 5)

    def on_write(uc: Uc, offset: int, size: int, value: int, _: object) -> None:
        cnt.value = ctr.value

    uc.mmio_map(MMIO, 0x400, lambda *_: 0, None, on_write, None)
    uc.reg_write(a.UC_ARM_REG_R1, MMIO)
    uc.emu_start((CODE + 0x100) | 1, 0xFFFFFFFF, count=1000)
    if uc.reg_read(a.UC_ARM_REG_PC) != CODE + 0x10A or ctr.value != 5 \
            or uc.reg_read(a.UC_ARM_REG_R1) != MMIO + 4:
        raise BenchError("unicorn self-test: stopping after an instruction did not retire it"
                         " whole")

    _put(flash, 0x200, NOP * 2 + WFI + NOP * 4)
    uc.emu_start((CODE + 0x200) | 1, 0xFFFFFFFF, count=1000)
    if uc.reg_read(a.UC_ARM_REG_PC) != CODE + 0x206 or ctr.value != 3:
        raise BenchError("unicorn self-test: WFI did not return from emu_start after it")


def check_flash_store_hook() -> None:
    """Once the flash mapping's protection has been set again with mem_protect, a
    WRITE_PROT hook returning True sees the store with its PC and unicorn drops the store:
    what the hook writes into the buffer is what flash holds, for every store width."""
    uc, flash, _ = _fresh()
    uc.mem_protect(CODE, 0x1000, UC_PROT_READ | UC_PROT_EXEC)
    _put(flash, 0, STR_R0_R2 + STRH_R0_R2_4 + STRB_R0_R2_6 + NOP)
    uc.reg_write(a.UC_ARM_REG_R0, 0x12345678)
    uc.reg_write(a.UC_ARM_REG_R2, CODE + 0x800)
    seen: list[tuple[int, int, int]] = []

    def hook(uc: Uc, access: int, addr: int, size: int, value: int, _: object) -> bool:
        seen.append((uc.reg_read(a.UC_ARM_REG_PC), addr, size))
        off = addr - CODE
        flash[off : off + size] = list((value & 0x0F0F0F0F).to_bytes(size, "little"))
        return True

    uc.hook_add(UC_HOOK_MEM_WRITE_PROT, hook)
    try:
        uc.emu_start(CODE | 1, 0xFFFFFFFF, count=3)
    except UcError as e:
        raise BenchError(f"unicorn self-test: store into read-only flash failed: {e}") from None
    want_seen = [(CODE, CODE + 0x800, 4), (CODE + 2, CODE + 0x804, 2),
                 (CODE + 4, CODE + 0x806, 1)]
    if bytes(flash[0x800:0x807]) != bytes.fromhex("08060402080608") or seen != want_seen:
        raise BenchError("unicorn self-test: the flash store hook did not see the stores"
                         " with their PC, or unicorn did not leave flash to the hook"
                         f" ({bytes(flash[0x800:0x807]).hex()}, {seen})")


def check_protection_retry() -> None:
    """A load or a fetch from flash mapped with no access reaches the READ_PROT or
    FETCH_PROT hook; after the hook opens the mapping and returns True, the access is
    made again and succeeds (flashwatch.py)."""
    uc, flash, _ = _fresh()
    _put(flash, 0x400, LDR_R0_R1 + NOP)
    flash[0x800:0x804] = [0x78, 0x56, 0x34, 0x12]
    uc.reg_write(a.UC_ARM_REG_R1, CODE + 0x800)
    uc.mem_protect(CODE + 0x400, 0x400, UC_PROT_NONE)
    uc.mem_protect(CODE + 0x800, 0x400, UC_PROT_NONE)
    seen: list[tuple[int, int]] = []

    def hook(uc: Uc, access: int, addr: int, size: int, value: int, _: object) -> bool:
        seen.append((access, addr))
        uc.mem_protect(addr & ~0x3FF, 0x400, UC_PROT_READ | UC_PROT_EXEC)
        return True

    uc.hook_add(UC_HOOK_MEM_READ_PROT | UC_HOOK_MEM_FETCH_PROT, hook)
    try:
        uc.emu_start((CODE + 0x400) | 1, 0xFFFFFFFF, count=2)
    except UcError as e:
        raise BenchError(f"unicorn self-test: access to protected flash failed: {e}") from None
    if seen != [(UC_MEM_FETCH_PROT, CODE + 0x400), (UC_MEM_READ_PROT, CODE + 0x800)] \
            or uc.reg_read(a.UC_ARM_REG_R0) != 0x12345678:
        raise BenchError("unicorn self-test: a protected flash access was not retried after"
                         f" the hook opened it ({seen})")


def check_exception_return() -> None:
    """With IPSR set by hand and APSR rewritten, `bx lr` to EXC_RETURN is interrupt 8."""
    uc, flash, _ = _fresh()
    _put(flash, 0, BX_LR)
    uc.reg_write(a.UC_ARM_REG_XPSR, (1 << 24) | 15)
    uc.reg_write(a.UC_ARM_REG_APSR_NZCV, uc.reg_read(a.UC_ARM_REG_APSR_NZCV))
    uc.reg_write(a.UC_ARM_REG_LR, 0xFFFFFFF9)
    got: list[tuple[int, int]] = []

    def intr(uc: Uc, intno: int, _: object) -> None:
        got.append((intno, uc.reg_read(a.UC_ARM_REG_PC)))
        uc.emu_stop()

    uc.hook_add(UC_HOOK_INTR, intr)
    try:
        uc.emu_start(CODE | 1, 0xFFFFFFFF, count=10)
    except UcError as e:
        raise BenchError(f"unicorn self-test: exception return failed: {e}") from None
    if got != [(8, 0xFFFFFFF8)]:
        raise BenchError(f"unicorn self-test: exception return arrived as {got}, not"
                         " interrupt 8 at 0xFFFFFFF8")


def check_code_in_ram_rewritten() -> None:
    """A CPU store into RAM that holds translated code drops that code: the next run of
    it runs the new instruction (firmware that copies functions into RAM relies on it;
    unicorn 2.1.1 keeps its own detection of such stores, where 2.1.2 on slowed every
    store to RAM for it: docs/builtin-engine.md, "Which unicorn")."""
    uc, flash, ram = _fresh()
    _put(ram, 0x100, MOVS_R0_1 + NOP * 8)
    _put(flash, 0, STR_R1_R2 + NOP * 8)
    # Counted runs, no end address: unicorn drops the block holding an end address
    # itself, which would hide a missed store (written behind unicorn's back, the old
    # instruction runs again).
    uc.emu_start((RAM + 0x100) | 1, 0xFFFFFFFF, count=1)
    first = uc.reg_read(a.UC_ARM_REG_R0)
    uc.reg_write(a.UC_ARM_REG_R1, int.from_bytes(MOVS_R0_2 + NOP, "little"))
    uc.reg_write(a.UC_ARM_REG_R2, RAM + 0x100)
    uc.emu_start(CODE | 1, 0xFFFFFFFF, count=1)
    uc.emu_start((RAM + 0x100) | 1, 0xFFFFFFFF, count=1)
    if (first, uc.reg_read(a.UC_ARM_REG_R0)) != (1, 2):
        raise BenchError("unicorn self-test: code in RAM rewritten by a store ran as it was"
                         f" before (r0 {first}, then {uc.reg_read(a.UC_ARM_REG_R0)})")


CHECKS = (check_cpu_model, check_counter_and_stops, check_flash_store_hook,
          check_protection_retry, check_exception_return, check_code_in_ram_rewritten)


@lru_cache(maxsize=1)
def ensure() -> None:
    """Run every check once per process."""
    for check in CHECKS:
        check()
