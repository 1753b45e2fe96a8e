"""A cut path (one cut, then cuts during the recoveries that follow) and its text form.

The text form is what `pybench powercut --cut` takes and what every failure prints:
``INDEX[:MODE[:PROGRESS[:SEED]]]`` per level, levels separated by commas, e.g.
``812:torn:0.25:3,40:before``: torn cut at golden operation 812, then a cut before
operation 40 of the recovery run that follows (its trace counted from the power-on).
A flash failure instead of a cut is ``INDEX:KIND[:SEED]`` (KIND silent, dropped,
disturb, weak-erase or stuck), always alone: the board runs on after it.
"""

from __future__ import annotations

from pybench.engine.base import CutMode, PowerCut

CutPath = tuple[PowerCut, ...]

_MODE_ORDER = {mode: i for i, mode in enumerate(
    (CutMode.BEFORE, CutMode.TORN, CutMode.AFTER, CutMode.SILENT, CutMode.DROPPED,
     CutMode.DISTURB, CutMode.WEAK_ERASE, CutMode.STUCK))}


def cut_key(cut: PowerCut) -> tuple[int, int, float, int]:
    """Order cuts by where power fails along the trace."""
    return (cut.op_index, _MODE_ORDER[cut.mode], cut.progress, cut.seed)


def path_key(path: CutPath) -> tuple[tuple[int, int, float, int], ...]:
    return tuple(cut_key(c) for c in path)


def format_cut(cut: PowerCut) -> str:
    if cut.mode is CutMode.TORN:
        return f"{cut.op_index}:torn:{cut.progress:g}:{cut.seed}"
    if cut.mode.is_fault:
        return f"{cut.op_index}:{cut.mode.value}:{cut.seed}"
    return f"{cut.op_index}:{cut.mode.value}"


def format_path(path: CutPath) -> str:
    return ",".join(format_cut(c) for c in path)


def parse_cut(text: str) -> PowerCut:
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 4 or not parts[0]:
        raise ValueError(f"cut {text!r} is not INDEX[:MODE[:PROGRESS[:SEED]]]")
    try:
        index = int(parts[0], 0)
    except ValueError:
        raise ValueError(f"cut {text!r}: index {parts[0]!r} is not an integer") from None
    if index < 0:
        raise ValueError(f"cut {text!r}: index must be 0 or more")
    mode = CutMode.BEFORE
    if len(parts) > 1:
        try:
            mode = CutMode(parts[1])
        except ValueError:
            modes = ", ".join(m.value for m in CutMode)
            raise ValueError(f"cut {text!r}: mode {parts[1]!r} is not one of {modes}") from None
    progress, seed = 0.5, 0
    if mode.is_fault:
        if len(parts) > 3:
            raise ValueError(f"cut {text!r}: a flash failure is INDEX:KIND[:SEED]")
        try:
            seed = int(parts[2], 0) if len(parts) > 2 else 0
        except ValueError:
            raise ValueError(f"cut {text!r}: seed {parts[2]!r} is not an integer") from None
        return PowerCut(index, mode, seed=seed)
    try:
        if len(parts) > 2:
            progress = float(parts[2])
        if len(parts) > 3:
            seed = int(parts[3], 0)
    except ValueError:
        raise ValueError(f"cut {text!r}: progress must be a number and seed an integer") from None
    if not 0.0 <= progress <= 1.0:
        raise ValueError(f"cut {text!r}: progress {progress} is not between 0 and 1")
    if mode is not CutMode.TORN and len(parts) > 2:
        raise ValueError(f"cut {text!r}: progress and seed only apply to torn cuts")
    return PowerCut(index, mode, progress, seed) if mode is CutMode.TORN else PowerCut(index, mode)


def parse_path(text: str) -> CutPath:
    levels = [p for p in text.split(",")]
    if not levels or any(not p.strip() for p in levels):
        raise ValueError(f"cut {text!r}: empty level (levels are separated by commas)")
    path = tuple(parse_cut(p) for p in levels)
    if len(path) > 1 and any(c.mode.is_fault for c in path):
        raise ValueError(f"cut {text!r}: a flash failure is a path of its own (no power cut "
                         "follows it)")
    return path
