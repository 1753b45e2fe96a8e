"""Content faults: the new image damaged on its way, as a campaign sends or stages it.

Pure: good image bytes and a seed in, damaged bytes out. Every one of these must be
refused by the device (the staging writer, or the bootloader when staging was written
behind the writer's back): the old image keeps running and the application slot is never
erased for it (docs/powercut.md, "Content faults").
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import replace

from pybench import layout
from pybench.image.format import Image, ImageHeader, parse_image

# The STM32F42x/43x's DEV_ID: a real part, not ours.
OTHER_TARGET = 0x00000419


def _header(image: bytes) -> ImageHeader:
    return ImageHeader.unpack(image)


def _truncated(fraction: float) -> Callable[[bytes, int], bytes]:
    def cut(image: bytes, seed: int) -> bytes:
        return image[: max(4, int(len(image) * fraction) // 4 * 4)]
    return cut


def _short4(image: bytes, seed: int) -> bytes:
    return image[:-4]


def _flip(image: bytes, lo: int, hi: int, seed: int) -> bytes:
    """One bit flipped at a seeded position in image[lo:hi]."""
    rng = random.Random(seed)
    at = rng.randrange(lo, hi)
    out = bytearray(image)
    out[at] ^= 1 << rng.randrange(8)
    return bytes(out)


def _flip_header(image: bytes, seed: int) -> bytes:
    # Among the fields the header CRC covers, the CRC left as it was.
    return _flip(image, 0, 0x58, seed)


def _flip_body(image: bytes, seed: int) -> bytes:
    return _flip(image, layout.load().IMAGE_HEADER_SIZE, len(image), seed)


def _flip_digest(image: bytes, seed: int) -> bytes:
    """A bit of the recorded SHA-256 flipped and the header CRC made right again: only
    the digest check can tell."""
    img = parse_image(image, check=False)
    digest = bytearray(img.header.body_sha256)
    rng = random.Random(seed)
    digest[rng.randrange(len(digest))] ^= 1 << rng.randrange(8)
    h = replace(img.header, body_sha256=bytes(digest), header_crc=None, raw_fields=None)
    return Image(replace(h, header_crc=h.computed_crc()), img.body).to_bytes()


def _erased(image: bytes, seed: int) -> bytes:
    return b"\xff" * len(image)


def _other_target(image: bytes, seed: int) -> bytes:
    img = parse_image(image, check=False)
    h = replace(img.header, target_id=OTHER_TARGET, header_crc=None, raw_fields=None)
    return Image(replace(h, header_crc=h.computed_crc()), img.body).to_bytes()


def _too_large(image: bytes, seed: int) -> bytes:
    """A well-formed image (digest and CRC right) one sector of filler larger than the
    slot takes; it still fits the staging slot, so only the size check can refuse it."""
    lay = layout.load()
    img = parse_image(image, check=False)
    total = lay.IMAGE_MAX_SIZE + 4096
    body = img.body + random.Random(seed).randbytes(total - lay.IMAGE_HEADER_SIZE
                                                    - len(img.body))
    h = replace(img.header, body_size=len(body), body_sha256=hashlib.sha256(body).digest(),
                header_crc=None, raw_fields=None)
    return Image(replace(h, header_crc=h.computed_crc()), body).to_bytes()


FAULTS: dict[str, Callable[[bytes, int], bytes]] = {
    "truncated-1/4": _truncated(0.25),
    "truncated-1/2": _truncated(0.5),
    "truncated-3/4": _truncated(0.75),
    "short-4": _short4,
    "flip-header": _flip_header,
    "flip-body": _flip_body,
    "flip-digest": _flip_digest,
    "erased": _erased,
    "other-target": _other_target,
    "too-large": _too_large,
}


def damaged(image: bytes, fault: str, seed: int) -> bytes:
    """`image` with the content fault `fault` (a key of FAULTS), seeded."""
    try:
        make = FAULTS[fault]
    except KeyError:
        raise ValueError(f"no content fault {fault!r}: choose from {', '.join(FAULTS)}") \
            from None
    return make(image, seed)


def claimed_record_fields(damaged_image: bytes, good_image: bytes) -> tuple[int, bytes]:
    """(version, digest) a staging writer whose own check had a bug would record: the
    damaged image's header when it still parses, the good one's otherwise."""
    try:
        h = _header(damaged_image)
    except ValueError:
        h = _header(good_image)
    if h.magic != _header(good_image).magic:
        h = _header(good_image)
    return h.image_version, h.body_sha256
