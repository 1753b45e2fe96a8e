"""Source file and line of an instruction address, from an ELF's DWARF line table.

pyelftools decodes the line programs; this keeps one sorted table of rows per ELF
(address, file, line) with the ends of sequences, so a lookup is a bisection. Used by the
SARIF report to point a failing cut at the bootloader's source.
"""

from __future__ import annotations

import bisect
import functools
import os
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile


@dataclass(frozen=True)
class SourceLine:
    file: str      # absolute path as the compiler saw it
    line: int


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


class LineTable:
    """Address -> SourceLine for one ELF (empty when it has no DWARF line table)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        rows: list[tuple[int, str, int]] = []    # (address, file, line); line 0: a gap
        with path.open("rb") as f:
            elf = ELFFile(f)
            if elf.has_dwarf_info():
                dwarf = elf.get_dwarf_info()
                for cu in dwarf.iter_CUs():
                    rows += self._cu_rows(dwarf, cu)
        rows.sort(key=lambda r: (r[0], r[2] != 0))  # a sequence ends before the next starts
        self._addrs = [r[0] for r in rows]
        self._rows = rows

    @staticmethod
    def _cu_rows(dwarf: object, cu: object) -> list[tuple[int, str, int]]:
        prog = dwarf.line_program_for_CU(cu)  # type: ignore[attr-defined]
        if prog is None:
            return []
        top = cu.get_top_DIE()  # type: ignore[attr-defined]
        comp_dir = _text(top.attributes["DW_AT_comp_dir"].value) \
            if "DW_AT_comp_dir" in top.attributes else ""
        version = prog.header.version
        files, dirs = prog.header.file_entry, prog.header.include_directory

        def name(index: int) -> str:
            entry = files[index if version >= 5 else index - 1]
            d = entry.dir_index
            folder = _text(dirs[d]) if version >= 5 else (
                _text(dirs[d - 1]) if d > 0 else comp_dir)
            return os.path.normpath(os.path.join(comp_dir, folder, _text(entry.name)))

        rows: list[tuple[int, str, int]] = []
        for entry in prog.get_entries():
            state = entry.state
            if state is None:
                continue
            if state.end_sequence:
                rows.append((state.address, "", 0))
            else:
                rows.append((state.address, name(state.file), state.line))
        return rows

    def lookup(self, addr: int) -> SourceLine | None:
        i = bisect.bisect_right(self._addrs, addr) - 1
        if i < 0:
            return None
        _, file, line = self._rows[i]
        if not file or line == 0:
            return None
        return SourceLine(file, line)


@functools.lru_cache(maxsize=16)
def _table(path: str, mtime_ns: int) -> LineTable:
    return LineTable(Path(path))


def line_table(path: Path) -> LineTable | None:
    """The table of an ELF file, cached per process; None if it is not a readable ELF."""
    try:
        return _table(str(path.resolve()), path.stat().st_mtime_ns)
    except (OSError, ELFError):
        return None


def locate(addr: int, elves: list[Path]) -> tuple[Path, SourceLine] | None:
    """The first ELF of `elves` whose line table covers `addr`, and the line there."""
    for elf in elves:
        table = line_table(elf)
        found = table.lookup(addr) if table else None
        if found is not None:
            return elf, found
    return None
