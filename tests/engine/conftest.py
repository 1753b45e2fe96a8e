"""Fixtures of the engine tests: a fresh built-in board, and the test programs of fw/
compiled once per session."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from elfsym import symbol

from pybench.paths import platform_file

FW_DIR = Path(__file__).parent / "fw"


@pytest.fixture
def board() -> Iterator[Any]:
    """A built-in engine with platforms/stm32f407-eth.repl loaded, nothing in flash."""
    from pybench.engine.builtin.engine import BuiltinEngine

    eng = BuiltinEngine()
    eng.load_platform(platform_file())
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def fw_elf(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Build fw/<name>.c with fw/startup.c (and -D defines) once; returns the ELF path."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed (make setup installs it)")
    from pybench.engine.builtin.fwbuild import build_elf

    out_dir = tmp_path_factory.mktemp("engine_fw")
    built: dict[tuple[str, tuple[str, ...]], Path] = {}

    def build(name: str, *defines: str) -> Path:
        key = (name, defines)
        if key not in built:
            stem = "-".join([name, *defines]).lower()
            built[key] = build_elf([FW_DIR / f"{name}.c", FW_DIR / "startup.c"],
                                   out_dir / f"{stem}.elf", FW_DIR / "test.ld.S", defines)
        return built[key]

    return build


def results(eng: Any, elf: Path, count: int) -> list[int]:
    raw = eng.machine.read_mem(symbol(elf, "result"), 4 * count)
    return [int.from_bytes(raw[i : i + 4], "little") for i in range(0, len(raw), 4)]


@pytest.fixture(scope="session")
def read_results() -> Callable[[Any, Path, int], list[int]]:
    """results(engine, elf, count): the first `count` words of the program's result[]."""
    return results
