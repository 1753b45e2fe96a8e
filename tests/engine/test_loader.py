"""Loading ELF files and images: segments where they belong, errors that name the file
and the segment."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pybench.errors import BenchError
from pybench.layout import load as load_layout


def test_elf_segments_land_in_flash(board: Any, fw_elf: Callable[..., Path]) -> None:
    from pybench.engine.builtin.loader import elf_segments

    elf = fw_elf("systick")
    board.load_elf(elf)
    for seg in elf_segments(elf):
        assert board.read_flash(seg.addr, len(seg.data)) == seg.data


def test_image_at_the_application_slot(board: Any, tmp_path: Path) -> None:
    lay = load_layout()
    image = tmp_path / "app.img"
    image.write_bytes(bytes(range(256)) * 4)
    board.load_image(image, lay.APP_SLOT_ADDR)
    assert board.read_flash(lay.APP_SLOT_ADDR, 1024) == image.read_bytes()
    assert board.read_flash(lay.APP_SLOT_ADDR + 1024, 4) == b"\xff" * 4  # still erased


def test_image_too_big_for_flash(board: Any, tmp_path: Path) -> None:
    lay = load_layout()
    image = tmp_path / "big.img"
    image.write_bytes(b"\xff" * (lay.STAGING_SIZE + 4))
    with pytest.raises(BenchError, match=r"big\.img: image .* is outside the board's memory"):
        board.load_image(image, lay.STAGING_ADDR)


def test_non_arm_elf(board: Any) -> None:
    host_elf = Path(sys.executable).resolve()
    with pytest.raises(BenchError, match=r"not an ARM ELF file"):
        board.load_elf(host_elf)


def test_not_an_elf(board: Any, tmp_path: Path) -> None:
    junk = tmp_path / "junk.elf"
    junk.write_bytes(b"hello, not an ELF")
    with pytest.raises(BenchError, match=r"junk\.elf: not a valid ELF file"):
        board.load_elf(junk)


def test_missing_elf(board: Any, tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"gone\.elf: cannot read"):
        board.load_elf(tmp_path / "gone.elf")


def test_segment_outside_memory(board: Any, tmp_path: Path) -> None:
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    src = tmp_path / "far.c"
    src.write_text("const int far_away[4] = {1, 2, 3, 4};\n")
    elf = tmp_path / "far.elf"
    subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-c", str(src),
                    "-o", str(tmp_path / "far.o")], check=True)
    subprocess.run([gcc, "-nostdlib", "-Wl,--section-start=.rodata=0x30000000",
                    "-Wl,-e,0", str(tmp_path / "far.o"), "-o", str(elf)], check=True)
    with pytest.raises(BenchError) as e:
        board.load_elf(elf)
    assert str(e.value).startswith(f"{elf}: segment ")
    assert "0x30000000" in str(e.value) and "outside the board's memory" in str(e.value)
