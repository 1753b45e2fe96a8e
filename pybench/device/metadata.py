"""What a device's update metadata says, by its kind (a device description's [metadata]):
whether flash holds the commit of an update, and what "staged" looks like when written
straight into flash. Pure: bytes in, answers out.

- journal: our record journal (docs/journal.md) in two regions; committed once a valid
  STAGED (or later COPIED, DONE) record names the new image's digest.
- flag: an "update received" flag word, with the image size and CRC-32 beside it;
  committed once the flag word holds its value (the writer programs it last).
"""

from __future__ import annotations

import hashlib
import struct
import zlib

from pybench import journal
from pybench.device.model import Device, MetadataKind

_COMMITTED_STATES = (journal.State.STAGED, journal.State.COPIED, journal.State.DONE)


def region_bytes(device: Device, flash: bytes | bytearray, name: str) -> bytes:
    r = device.layout.region(name)
    off = r.addr - device.layout.FLASH_BASE_ADDR
    return bytes(flash[off : off + r.size])


def holds_commit(journal_a: bytes, journal_b: bytes, new_digest: bytes) -> bool:
    """Does this journal hold a valid STAGED (or later) record for the new image?"""
    return any(r.state in _COMMITTED_STATES and r.digest == new_digest
               for _, _, r in journal.scan(journal_a, journal_b).records)


def image_digest(device: Device, image: bytes) -> bytes:
    """What the journal names an image by: the SHA-256 of what follows its header."""
    return hashlib.sha256(image[device.image.header_size :]).digest()


def committed(device: Device, flash: bytes | bytearray, new_image: bytes) -> bool:
    """Does the whole flash image `flash` hold the commit of an update to `new_image`?"""
    meta = device.metadata
    if meta.kind is MetadataKind.JOURNAL:
        a, b = (region_bytes(device, flash, n) for n in meta.regions)
        return holds_commit(a, b, image_digest(device, new_image))
    assert meta.flag_addr is not None
    off = meta.flag_addr - device.layout.FLASH_BASE_ADDR
    (word,) = struct.unpack_from("<I", flash, off)
    return bool(word == meta.flag_value)


def is_metadata(device: Device, addr: int) -> bool:
    return any(addr in device.layout.region(n) for n in device.metadata.regions)


def record_of(device: Device, addr: int) -> int:
    """Which record (journal slot, or metadata word) an address belongs to."""
    size = journal.RECORD_SIZE if device.metadata.kind is MetadataKind.JOURNAL else 4
    return (addr - device.layout.FLASH_BASE_ADDR) // size


def staged_writes(device: Device, image: bytes, seq: int = 1) -> list[tuple[int, bytes]]:
    """(address, bytes) that say "this image is staged", as the device's own upload
    leaves them once the image is in staging."""
    meta = device.metadata
    if meta.kind is MetadataKind.JOURNAL:
        from pybench.image.format import ImageHeader

        header = ImageHeader.unpack(image)
        record = journal.JournalRecord(seq=seq, state=journal.State.STAGED,
                                       image_size=len(image),
                                       image_version=header.image_version,
                                       digest=header.body_sha256)
        return [(device.layout.region(meta.regions[0]).addr, record.encode())]
    writes = []
    if meta.size_addr is not None:
        writes.append((meta.size_addr, struct.pack("<I", len(image))))
    if meta.crc_addr is not None:
        writes.append((meta.crc_addr, struct.pack("<I", zlib.crc32(image))))
    assert meta.flag_addr is not None and meta.flag_value is not None
    writes.append((meta.flag_addr, struct.pack("<I", meta.flag_value)))
    return writes
