"""What a programmer would put into the board's memories: ELF PT_LOAD segments at their
physical addresses, and image files (header + body) at a slot address. Pure: reads files,
returns (address, bytes) pieces; the machine checks where they land."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from pybench.errors import BenchError


@dataclass(frozen=True)
class Segment:
    addr: int
    data: bytes
    what: str         # how error messages name it ("segment 1 (0x08000000+0x1234)")


def elf_segments(path: Path) -> list[Segment]:
    """The loadable segments of an ARM ELF file, at their physical addresses (LMA).

    A segment's bytes beyond its file size (.bss) are not loaded: they are RAM the
    startup code clears, and a programmer writes only file contents.
    """
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            if elf["e_machine"] != "EM_ARM":
                raise BenchError(f"{path}: not an ARM ELF file (machine {elf['e_machine']})")
            out = []
            for i, seg in enumerate(elf.iter_segments()):
                if seg["p_type"] != "PT_LOAD" or seg["p_filesz"] == 0:
                    continue
                data = seg.data()
                if len(data) < seg["p_filesz"]:
                    raise BenchError(f"{path}: truncated: segment {i} at 0x{seg['p_paddr']:08x} "
                                     f"has {len(data)} of its {seg['p_filesz']} bytes")
                what = f"segment {i} (0x{seg['p_paddr']:08x}+0x{len(data):x})"
                out.append(Segment(seg["p_paddr"], data, what))
    except OSError as e:
        raise BenchError(f"{path}: cannot read: {e.strerror}") from None
    except ELFError as e:
        raise BenchError(f"{path}: not a valid ELF file: {e}") from None
    if not out:
        raise BenchError(f"{path}: no loadable segment")
    return out


def image_segment(path: Path, addr: int) -> Segment:
    """An image file (header + body) as one piece at `addr`."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise BenchError(f"{path}: cannot read: {e.strerror}") from None
    if not data:
        raise BenchError(f"{path}: empty image file")
    return Segment(addr, data, f"image (0x{addr:08x}+0x{len(data):x})")
