"""Turn an application ELF or a raw .bin into an image body (I/O and pyelftools live here)."""

from __future__ import annotations

from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from pybench import layout
from pybench.errors import BenchError

ELF_MAGIC = b"\x7fELF"


def read_input(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BenchError(f"{path}: no such file") from None
    except OSError as e:
        raise BenchError(f"{path}: cannot read: {e.strerror}") from None


def body_from_elf(path: Path, load_addr: int) -> bytes:
    """The flash contents of an ELF's loadable segments, from load_addr, gaps as 0xFF.

    Segments are placed at their physical (load) addresses: .data's initial values are
    stored in flash after .text and copied to RAM by the startup code. Segments whose
    load address is in RAM (.bss, or a RAM-only section) carry nothing to flash.
    """
    lay = layout.load()
    flash_end = lay.FLASH_BASE_ADDR + lay.FLASH_TOTAL_SIZE
    try:
        with path.open("rb") as f:
            elf = ELFFile(f)
            if elf.elfclass != 32 or not elf.little_endian or elf["e_machine"] != "EM_ARM":
                raise BenchError(f"{path}: not a 32-bit little-endian ARM ELF "
                                 f"({elf['e_machine']}, {elf.elfclass}-bit)")
            chunks: list[tuple[int, bytes]] = []
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_filesz"] == 0:
                    continue
                addr, data = seg["p_paddr"], seg.data()
                if len(data) < seg["p_filesz"]:
                    raise BenchError(f"{path}: truncated: the segment at 0x{addr:08x} has "
                                     f"{len(data)} of its {seg['p_filesz']} bytes")
                if addr < lay.FLASH_BASE_ADDR or addr + len(data) > flash_end:
                    raise BenchError(f"{path}: segment at 0x{addr:08x} (+{len(data)} bytes) "
                                     f"is outside flash")
                if addr < load_addr:
                    raise BenchError(f"{path}: segment at 0x{addr:08x} is below the load "
                                     f"address 0x{load_addr:08x} (linked for another slot?)")
                chunks.append((addr, data))
    except ELFError as e:
        raise BenchError(f"{path}: not a valid ELF file ({e})") from None
    if not chunks:
        raise BenchError(f"{path}: no loadable segment with contents")
    chunks.sort()
    if chunks[0][0] != load_addr:
        raise BenchError(f"{path}: first segment at 0x{chunks[0][0]:08x}, expected the load "
                         f"address 0x{load_addr:08x}")
    end = max(addr + len(data) for addr, data in chunks)
    body = bytearray(b"\xff" * (end - load_addr))
    for addr, data in chunks:
        body[addr - load_addr : addr - load_addr + len(data)] = data
    return bytes(body)


def body_from_file(path: Path, load_addr: int) -> bytes:
    """An ELF by its magic; anything else is taken as a raw .bin, as it is."""
    data = read_input(path)
    if data[:4] == ELF_MAGIC:
        return body_from_elf(path, load_addr)
    if path.suffix.lower() != ".bin":
        raise BenchError(f"{path}: neither an ELF file nor a .bin")
    if not data:
        raise BenchError(f"{path}: empty file")
    return data
