"""Symbols of the test programs' ELF files (a module of its own: test folders share
sys.path, so helpers are not imported from conftest)."""

from __future__ import annotations

from pathlib import Path

from elftools.elf.elffile import ELFFile


def symbol(elf: Path, name: str) -> int:
    with elf.open("rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        sym = symtab.get_symbol_by_name(name) if symtab else None
    assert sym, f"{elf}: no symbol {name}"
    return int(sym[0]["st_value"])
