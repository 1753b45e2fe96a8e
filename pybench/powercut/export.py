"""Export the flash a cut left, so that a failure seen in the bench can be replayed on a
real board: a raw .bin of the whole flash, the same as Intel HEX, and the commands that
program it (st-flash, openocd)."""

from __future__ import annotations

import shlex
from pathlib import Path

from intelhex import IntelHex

from pybench.errors import BenchError


def write(flash: bytes, base: int, target: Path) -> tuple[Path, Path, list[str]]:
    """target.bin and target.hex (target's own suffix replaced); the commands that write
    them onto a board, erasing the whole chip first (every sector is part of the state)."""
    stem = target.with_suffix("") if target.suffix in (".bin", ".hex") else target
    bin_path, hex_path = stem.with_suffix(".bin"), stem.with_suffix(".hex")
    try:
        stem.parent.mkdir(parents=True, exist_ok=True)
        bin_path.write_bytes(flash)
        ih = IntelHex()
        ih.frombytes(flash, offset=base)
        ih.write_hex_file(str(hex_path))
    except OSError as e:
        raise BenchError(f"--export {target}: {e.strerror}") from None
    commands = [
        f"st-flash --reset write {shlex.quote(str(bin_path))} 0x{base:08x}",
        "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg -c "
        + shlex.quote(f"program {hex_path} verify reset exit"),
    ]
    return bin_path, hex_path, commands
