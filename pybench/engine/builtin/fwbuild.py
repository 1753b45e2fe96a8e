"""Small firmware built at run time with arm-none-eabi-gcc (engine tests, benchmarks).

Linker scripts are preprocessed with firmware/include on the path, so they take their
addresses from flash_layout.h like the real firmware's.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pybench.errors import BenchError
from pybench.paths import repo_root

GCC = "arm-none-eabi-gcc"
CFLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2",
          "-g", "-ffreestanding", "-nostdlib", "-Wall", "-Wextra", "-Werror")


def _gcc() -> str:
    gcc = shutil.which(GCC)
    if gcc is None:
        raise BenchError(f"{GCC} not found on PATH (make setup installs it)")
    return gcc


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["(no output)"])[0]
        raise BenchError(f"{cmd[-1]}: build failed: {first}")


def build_elf(sources: Sequence[Path], out: Path, linker_script: Path,
              defines: Sequence[str] = ()) -> Path:
    """Compile and link `sources` into the ELF `out`; returns `out`."""
    gcc = _gcc()
    out.parent.mkdir(parents=True, exist_ok=True)
    include = repo_root() / "firmware" / "include"
    ld = out.with_suffix(".ld")
    _run([gcc, "-E", "-P", "-x", "c", f"-I{include}", "-o", str(ld), str(linker_script)])
    cmd = [gcc, *CFLAGS, *(f"-D{d}" for d in defines), f"-I{include}",
           *(f"-I{Path(s).parent}" for s in sources[:1]), "-T", str(ld), "-o", str(out),
           *map(str, sources), "-lgcc"]
    _run(cmd)
    return out
