"""Where the bench finds the files of its repository (firmware, platforms, build)."""

from __future__ import annotations

import os
from pathlib import Path

from pybench.errors import BenchError


def repo_root() -> Path:
    """The checkout that holds firmware/ and platforms/ (PYBENCH_ROOT overrides)."""
    env = os.environ.get("PYBENCH_ROOT")
    root = Path(env) if env else Path(__file__).resolve().parent.parent
    if not (root / "firmware").is_dir():
        raise BenchError(
            f"{root}: not a pybench checkout (no firmware/); set PYBENCH_ROOT to the repository"
        )
    return root


def build_dir() -> Path:
    """Where `make firmware` puts ELF files and images."""
    return Path(os.environ.get("PYBENCH_BUILD", repo_root() / "build"))


def platform_file(name: str = "stm32f407-eth.repl") -> Path:
    return repo_root() / "platforms" / name
