"""Fixtures every test folder may use."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pybench import layout
from pybench.paths import build_dir

ARM_GCC = "arm-none-eabi-gcc"
ARM_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-Os", "-nostdlib", "-nostartfiles",
             "-ffreestanding", "-Wall", "-Werror"]


@pytest.fixture(scope="session")
def arm_compile() -> Callable[..., Path]:
    """Compile a C source for the Cortex-M4 into an ELF (text at `text_addr`)."""
    if shutil.which(ARM_GCC) is None:
        pytest.skip(f"{ARM_GCC} not installed (make setup installs it)")

    def compile_(src: Path | str, out: Path, text_addr: int | None,
                 extra: list[str] | None = None) -> Path:
        """text_addr None: the caller's linker script (in extra) places everything."""
        lay = layout.load()
        place = [] if text_addr is None else [f"-Wl,-Ttext=0x{text_addr:08x}"]
        cmd = [ARM_GCC, *ARM_FLAGS, str(src), "-o", str(out), *place,
               f"-Wl,--defsym=__stack_top=0x{lay.SRAM_BASE_ADDR + lay.SRAM_TOTAL_SIZE:08x}",
               "-Wl,--build-id=none", "-Wl,--nmagic", *(extra or [])]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode:
            raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stderr}")
        return out

    return compile_


@pytest.fixture(scope="session")
def built() -> Path:
    """The firmware build directory, skipping when `make firmware` has not been run."""
    path = build_dir()
    if not (path / "boot.elf").exists():
        pytest.skip(f"{path}/boot.elf missing: run `make firmware` first")
    return path
