"""The Renode engine: pybench's Engine interface over a Renode process.

`pybench boot --engine renode` (and every other user) calls create_engine(platform).
Renode is not a Python package: it must be installed separately (docs/renode.md); when
the `renode` executable is not on PATH, create_engine raises BenchError saying so.
"""

from __future__ import annotations

from pathlib import Path

from pybench.engine.base import Engine
from pybench.engine.renode.engine import RenodeEngine
from pybench.engine.renode.process import NOT_INSTALLED, find_renode

__all__ = ["NOT_INSTALLED", "RenodeEngine", "create_engine", "find_renode"]


def create_engine(platform: Path) -> Engine:
    """A Renode board built from `platform` (a .repl file), ready for load_elf()."""
    engine = RenodeEngine()
    try:
        engine.load_platform(platform)
    except BaseException:
        engine.close()
        raise
    return engine
