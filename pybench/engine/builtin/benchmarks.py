"""Figures of the built-in engine for `make bench`: each function builds its own small
firmware with arm-none-eabi-gcc, runs it, and returns a dict of measurements.

Goals (the figures carry them so a report can compare): >= 150 M instructions/s on a
compute loop, >= 100 M on a loop that stores to RAM, >= 100 k flash words/s programmed
by firmware, < 0.5 ms per snapshot + restore.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pybench.engine.base import StopReason
from pybench.engine.builtin.engine import BuiltinEngine
from pybench.engine.builtin.fwbuild import build_elf
from pybench.paths import platform_file

LINKER = """
#include "flash_layout.h"
MEMORY {
    FLASH (rx) : ORIGIN = FLASH_BASE_ADDR, LENGTH = BOOT_SIZE
    RAM (rwx) : ORIGIN = SRAM_BASE_ADDR, LENGTH = SRAM_TOTAL_SIZE
}
SECTIONS {
    .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } > FLASH
    .bss (NOLOAD) : { *(.bss*) *(COMMON) } > RAM
}
"""

# A vector table (SP, reset) and a reset handler that calls main with a stack at the
# top of SRAM; enough for programs without initialised data.
STARTUP = """
#include <stdint.h>
#include "flash_layout.h"
int main(void);
static void reset(void) { main(); for (;;) __asm volatile("wfi"); }
__attribute__((section(".vectors"), used))
const uintptr_t vectors[2] = { SRAM_BASE_ADDR + SRAM_TOTAL_SIZE, (uintptr_t)reset };
"""

COMPUTE = """
#include <stdint.h>
volatile uint32_t result[2];
int main(void) {
    uint32_t a = 1, b = 2;
    for (uint32_t i = 0; i < ITERATIONS; i++) { a = a * 1664525u + b; b ^= a >> 7; }
    result[0] = a ^ b;
    result[1] = 1;
    return 0;
}
"""

# Stores to RAM in one of every four instructions or so, as bignum and hash code does
# (mbedTLS's signature check): unicorn 2.1.2 to 2.1.4 take a slow path for every store to
# RAM (docs/builtin-engine.md, "Which unicorn"), which the compute loop does not show.
STORES = """
#include <stdint.h>
volatile uint32_t result[2];
static uint32_t buf[64];
int main(void) {
    uint32_t a = 1;
    for (uint32_t i = 0; i < ITERATIONS; i++) {
        buf[i & 63u] = a;
        a = a * 1664525u + buf[(i + 7u) & 63u];
    }
    result[0] = a;
    result[1] = 1;
    return 0;
}
"""

# Unlock, erase the staging slot's first sector, program it word by word (PSIZE x32).
FLASH_PROGRAM = """
#include <stdint.h>
#include "flash_layout.h"
#define REG(a) (*(volatile uint32_t *)(a))
#define FLASH_KEYR REG(0x40023C04)
#define FLASH_SR REG(0x40023C0C)
#define FLASH_CR REG(0x40023C10)
volatile uint32_t result[2];
static void wait(void) { while (FLASH_SR & (1u << 16)) ; }
int main(void) {
    FLASH_KEYR = 0x45670123u;
    FLASH_KEYR = 0xCDEF89ABu;
    wait();
    FLASH_CR = (2u << 8) | (STAGING_FIRST_SECTOR << 3) | (1u << 1);
    FLASH_CR |= 1u << 16;
    wait();
    FLASH_CR = (2u << 8) | 1u;
    volatile uint32_t *p = (volatile uint32_t *)STAGING_ADDR;
    for (uint32_t i = 0; i < WORDS; i++) { p[i] = i * 2654435761u; wait(); }
    FLASH_CR = 1u << 31;
    result[1] = 1;
    return 0;
}
"""

HELLO = """
#include <stdint.h>
#define REG(a) (*(volatile uint32_t *)(a))
int main(void) {
    REG(0x40023844) |= 1u << 4;
    REG(0x4001100C) = (1u << 13) | (1u << 3);
    for (const char *s = "bench: up\\r\\n"; *s; s++) {
        while (!(REG(0x40011000) & (1u << 7))) ;
        REG(0x40011004) = (uint8_t)*s;
    }
    return 0;
}
"""


# Firmware that waits the way HAL-based firmware does: the PLL started by polling its
# ready flags, a 1 kHz SysTick, HAL_Delay-style waits on the tick counter in RAM, TIM6's
# update flag polled, a console line through TXE polling every 100 ms.
POLLING = """
#include <stdint.h>
#include "flash_layout.h"
#define REG(a) (*(volatile uint32_t *)(a))
volatile uint32_t result[2];
static volatile uint32_t ticks;
void SysTick_Handler(void) { ticks++; }
static void delay_ms(uint32_t ms) { uint32_t t0 = ticks; while (ticks - t0 < ms) ; }
static void putc_(char c) { while (!(REG(0x40011000) & (1u << 7))) ; REG(0x40011004) = (uint8_t)c; }
int main(void) {
    REG(0x40023800) |= 1u << 16;
    while (!(REG(0x40023800) & (1u << 17))) ;
    REG(0x40023804) = 25u | (336u << 6) | (1u << 22) | (7u << 24);
    REG(0x40023800) |= 1u << 24;
    while (!(REG(0x40023800) & (1u << 25))) ;
    REG(0x40023C00) = 5;
    REG(0x40023808) = (5u << 10) | (4u << 13) | 2u;
    while ((REG(0x40023808) & 0xCu) != 0x8u) ;
    REG(0x40023844) |= 1u << 4;
    REG(0x4001100C) = (1u << 13) | (1u << 3);
    REG(0x40023840) |= 1u << 4;
    REG(0x40001028) = 83u;
    REG(0x4000102C) = 999u;
    REG(0x40001014) = 1u;
    REG(0x40001010) = 0;
    REG(0x40001000) = 1u;
    REG(0xE000E014) = 168000u - 1u;
    REG(0xE000E018) = 0;
    REG(0xE000E010) = 7u;
    for (uint32_t i = 0; i < ITERATIONS; i++) {
        delay_ms(1);
        while (!(REG(0x40001010) & 1u)) ;
        REG(0x40001010) = 0;
        if (i % 100 == 0) { putc_('t'); putc_('\\r'); putc_('\\n'); }
    }
    result[1] = 1;
    return 0;
}
"""

POLLING_STARTUP = """
#include <stdint.h>
#include "flash_layout.h"
int main(void);
void SysTick_Handler(void);
static void reset(void) { main(); for (;;) __asm volatile("wfi"); }
static void idle(void) { for (;;) ; }
__attribute__((section(".vectors"), used))
const uintptr_t vectors[16] = {
    SRAM_BASE_ADDR + SRAM_TOTAL_SIZE, (uintptr_t)reset, (uintptr_t)idle, (uintptr_t)idle,
    (uintptr_t)idle, (uintptr_t)idle, (uintptr_t)idle, 0, 0, 0, 0, (uintptr_t)idle,
    (uintptr_t)idle, 0, (uintptr_t)idle, (uintptr_t)SysTick_Handler };
"""


def build_polling(workdir: Path, iterations: int) -> Path:
    """The polling firmware (POLLING) with its own vector table, built into workdir."""
    (workdir / "startup.c").write_text(POLLING_STARTUP)
    (workdir / "polling.c").write_text(POLLING)
    (workdir / "bench.ld.S").write_text(LINKER)
    return build_elf([workdir / "polling.c", workdir / "startup.c"], workdir / "polling.elf",
                     workdir / "bench.ld.S", (f"ITERATIONS={iterations}u",))


def _build(workdir: Path, name: str, source: str, defines: tuple[str, ...] = ()) -> Path:
    (workdir / "startup.c").write_text(STARTUP)
    (workdir / f"{name}.c").write_text(source)
    (workdir / "bench.ld.S").write_text(LINKER)
    return build_elf([workdir / f"{name}.c", workdir / "startup.c"], workdir / f"{name}.elf",
                     workdir / "bench.ld.S", defines)


def _board(elf: Path) -> BuiltinEngine:
    eng = BuiltinEngine()
    eng.load_platform(platform_file())
    eng.load_elf(elf)
    eng.power_on()
    return eng


def _flag(eng: BuiltinEngine, elf: Path) -> Callable[[], bool]:
    from elftools.elf.elffile import ELFFile

    with elf.open("rb") as f:
        sym = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name("result")
    addr = int(sym[0]["st_value"]) + 4
    return lambda: eng.machine.read_mem(addr, 4) == b"\x01\x00\x00\x00"


def _bare_unicorn_mips(elf: Path, instructions: int, slice_len: int) -> float:
    """The same program on a bare unicorn in counted slices: the ceiling on this host."""
    import ctypes

    from unicorn import UC_ARCH_ARM, UC_MODE_THUMB, UC_PROT_ALL, Uc
    from unicorn import arm_const as a

    from pybench.engine.builtin.loader import elf_segments
    from pybench.layout import load as load_layout

    lay = load_layout()
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
    uc.ctl_set_cpu_model(a.UC_CPU_ARM_CORTEX_M4)
    flash = (ctypes.c_ubyte * lay.FLASH_TOTAL_SIZE)()
    ram = (ctypes.c_ubyte * lay.SRAM_TOTAL_SIZE)()
    uc.mem_map_ptr(lay.FLASH_BASE_ADDR, lay.FLASH_TOTAL_SIZE, UC_PROT_ALL, ctypes.addressof(flash))
    uc.mem_map_ptr(lay.SRAM_BASE_ADDR, lay.SRAM_TOTAL_SIZE, UC_PROT_ALL, ctypes.addressof(ram))
    for seg in elf_segments(elf):
        uc.mem_write(seg.addr, seg.data)
    uc.reg_write(a.UC_ARM_REG_SP, lay.SRAM_BASE_ADDR + lay.SRAM_TOTAL_SIZE)
    uc.reg_write(a.UC_ARM_REG_PC, int.from_bytes(bytes(flash[4:8]), "little"))
    t0 = time.perf_counter()
    for _ in range(instructions // slice_len):
        uc.emu_start(uc.reg_read(a.UC_ARM_REG_PC) | 1, 0xFFFFFFFF, count=slice_len)
    return instructions / (time.perf_counter() - t0) / 1e6


def _run_to_flag(workdir: Path, name: str, source: str, define: str
                 ) -> tuple[Path, BuiltinEngine, bool, float]:
    """Build `source`, run it until it sets its flag: (ELF, engine, flag set, wall s)."""
    elf = _build(workdir, name, source, (define,))
    eng = _board(elf)
    done = _flag(eng, elf)
    t0 = time.perf_counter()
    result = eng.run(60_000_000_000, done)
    return elf, eng, result.reason == StopReason.CONDITION, time.perf_counter() - t0


def compute_mips(iterations: int = 20_000_000) -> dict[str, Any]:
    """The engine on a compute loop, and bare unicorn on the same loop for scale (the
    engine cannot beat unicorn's counted mode, which it needs for exact time)."""
    with tempfile.TemporaryDirectory() as tmp:
        elf, eng, finished, wall = _run_to_flag(Path(tmp), "compute", COMPUTE,
                                                f"ITERATIONS={iterations}u")
        cycles = eng.machine.cycles
        bare = _bare_unicorn_mips(elf, min(cycles, 40_000_000), 16_800)
    return {"name": "compute loop", "instructions": cycles, "wall_s": round(wall, 3),
            "mips": round(cycles / wall / 1e6, 1), "goal_mips": 150,
            "bare_unicorn_counted_mips": round(bare, 1),
            "ok": finished and cycles / wall / 1e6 >= 150}


def store_mips(iterations: int = 4_000_000) -> dict[str, Any]:
    """The engine on a loop that stores to RAM (STORES): M instructions/s."""
    with tempfile.TemporaryDirectory() as tmp:
        _, eng, finished, wall = _run_to_flag(Path(tmp), "stores", STORES,
                                              f"ITERATIONS={iterations}u")
        cycles = eng.machine.cycles
    mips = cycles / wall / 1e6
    return {"name": "store loop (RAM)", "instructions": cycles, "wall_s": round(wall, 3),
            "mips": round(mips, 1), "goal_mips": 100, "ok": finished and mips >= 100}


def polling_speed(iterations: int = 1000) -> dict[str, Any]:
    """Firmware that waits by polling (POLLING), against real time: virtual seconds per
    wall second (goal >= 1.0: at least as fast as the real board) and the instructions
    per second that stands for (168 M is real time). Measured twice: a plain run (the
    board on its own), and a run with a stop condition, which the machine must check
    every 100 us of virtual time (how `pybench boot --until` and the tests run)."""
    duration = (iterations + 2) * 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        elf = build_polling(Path(tmp), iterations)
        eng = _board(elf)
        done = _flag(eng, elf)
        t0 = time.perf_counter()
        eng.run(duration)
        wall = time.perf_counter() - t0
        finished = done()
        cycles, skipped = eng.machine.cycles, eng.machine.poll.skipped_cycles
        eng.power_on()
        t0 = time.perf_counter()
        cond = eng.run(duration, done)
        wall_cond = time.perf_counter() - t0
        cond_ns = cond.time_ns - eng.machine.events[-1].time_ns
    ratio = duration / 1e9 / wall
    return {"name": "polling firmware vs real time", "virtual_s": round(duration / 1e9, 3),
            "wall_s": round(wall, 3), "x_real_time": round(ratio, 2),
            "equivalent_mips": round(cycles / wall / 1e6, 1), "goal_x_real_time": 1.0,
            "skipped_share": round(skipped / max(cycles, 1), 3),
            "x_real_time_with_condition": round(cond_ns / 1e9 / wall_cond, 2),
            "ok": finished and cond.reason == StopReason.CONDITION and ratio >= 1.0}


def flash_words_per_second(words: int = 32_768) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        _, eng, finished, wall = _run_to_flag(Path(tmp), "flashprog", FLASH_PROGRAM,
                                              f"WORDS={words}u")
    programs = sum(1 for op in eng.flash_trace() if op.kind.value == "program")
    return {"name": "flash programming", "words": programs, "wall_s": round(wall, 3),
            "words_per_s": round(programs / wall), "goal_words_per_s": 100_000,
            "virtual_ms": round(eng.now_ns / 1e6, 1),
            "ok": finished and programs == words and programs / wall >= 100_000}


def snapshot_restore_ms(rounds: int = 200) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        elf = _build(Path(tmp), "hello", HELLO)
        eng = _board(elf)
        eng.run(1_000_000)
        t0 = time.perf_counter()
        for _ in range(rounds):
            eng.restore(eng.snapshot())
        wall = time.perf_counter() - t0
    per = wall / rounds * 1e3
    return {"name": "snapshot + restore", "rounds": rounds, "ms": round(per, 3),
            "goal_ms": 0.5, "ok": per < 0.5}


def boot_time(elf: Path | None = None, pattern: str = r"bench: up",
              timeout_ns: int = 5_000_000_000, image: Path | None = None,
              image_addr: int | None = None) -> dict[str, Any]:
    """Reset to the first console line matching `pattern`: virtual and wall time.

    Without `elf`, a small firmware that prints "bench: up" stands in; `pybench bench`
    points it at a device's bootloader, its image (at `image_addr`) and its ready line.
    """
    with tempfile.TemporaryDirectory() as tmp:
        if elf is None:
            elf = _build(Path(tmp), "hello", HELLO)
        eng = BuiltinEngine()
        eng.load_platform(platform_file())
        eng.load_elf(elf)
        if image is not None:
            assert image_addr is not None, "an image needs its address"
            eng.load_image(image, image_addr)
        eng.power_on()
        t0 = time.perf_counter()
        result = eng.run_until_uart(re.compile(pattern), timeout_ns)
        wall = time.perf_counter() - t0
    return {"name": "boot to console line", "pattern": pattern,
            "virtual_ms": round(result.time_ns / 1e6, 3), "wall_s": round(wall, 3),
            "ok": result.reason == StopReason.CONDITION}


def polled_application(boot: Path, image: Path, image_addr: int, ready: str,
                       idle_ns: int = 50_000_000) -> dict[str, Any]:
    """A real bootloader and application (ours: make firmware): reset to the ready line,
    then the application idling on its polled Ethernet driver (an MMIO read every ~150
    instructions), in instructions per second."""
    if not boot.is_file() or not image.is_file():
        return {"name": "polled application", "ok": False,
                "detail": f"{boot} or {image} missing: build the firmware first"}
    eng = BuiltinEngine()
    eng.load_platform(platform_file())
    eng.load_elf(boot)
    eng.load_image(image, image_addr)
    eng.power_on()
    t0 = time.perf_counter()
    result = eng.run_until_uart(re.compile(ready), 5_000_000_000)
    boot_wall = time.perf_counter() - t0
    start = eng.machine.cycles
    t0 = time.perf_counter()
    eng.run(idle_ns)
    idle_wall = time.perf_counter() - t0
    return {"name": "polled application", "boot_virtual_ms": round(result.time_ns / 1e6, 3),
            "boot_wall_s": round(boot_wall, 3),
            "idle_mips": round((eng.machine.cycles - start) / idle_wall / 1e6, 1),
            "ok": result.reason == StopReason.CONDITION}


def run_all() -> list[dict[str, Any]]:
    return [compute_mips(), store_mips(), flash_words_per_second(), polling_speed(),
            snapshot_restore_ms(), boot_time()]


if __name__ == "__main__":
    for figure in run_all():
        print(figure)
