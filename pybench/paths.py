"""Where the bench finds its files: the platform files it ships, and, in a checkout of
this repository, our own firmware, its build and the sample devices' descriptions."""

from __future__ import annotations

import os
from pathlib import Path

from pybench.errors import BenchError

_PACKAGE = Path(__file__).resolve().parent


def checkout_root() -> Path | None:
    """The repository checkout this package runs from (PYBENCH_ROOT overrides), or None
    when the bench is installed on its own (a wheel in a user's project)."""
    env = os.environ.get("PYBENCH_ROOT")
    root = Path(env) if env else _PACKAGE.parent
    return root if (root / "firmware").is_dir() and (root / "platforms").is_dir() else None


def repo_root() -> Path:
    """The checkout that holds firmware/ and platforms/: only our own firmware, demo and
    tests need it."""
    root = checkout_root()
    if root is None:
        raise BenchError("this needs a checkout of the bench's repository (our sample "
                         "firmware); set PYBENCH_ROOT to one")
    return root


def build_dir() -> Path:
    """Where `make firmware` puts ELF files and images."""
    return Path(os.environ.get("PYBENCH_BUILD", repo_root() / "build"))


def platform_dir() -> Path:
    """The board descriptions and flash rules: shipped in the package (a wheel), or the
    checkout's platforms/."""
    shipped = _PACKAGE / "platforms"
    if shipped.is_dir():
        return shipped
    root = checkout_root()
    if root is None:
        raise BenchError(f"{shipped}: the bench's platform files are missing (a broken "
                         "install? reinstall the package)")
    return root / "platforms"


def platform_file(name: str = "stm32f407-eth.repl") -> Path:
    return platform_dir() / name
