"""The image header and whole images: pack, unpack, check. Pure: no files, no ELF.

The layout mirrors firmware/common/image.h field for field; the sizes and addresses come
from the flash layout (pybench.layout), never from numbers copied here.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass, field, replace

from pybench import layout
from pybench.image import signing

IMAGE_MAGIC = 0x474D4946          # "FIMG" little-endian
HEADER_VERSION = 1
TARGET_F407 = 0x00000413          # DBGMCU_IDCODE.DEV_ID of the STM32F405/407
VERSION_STR_LEN = 32

# magic, header_version, header_size, target_id, image_version, body_size, load_addr,
# body_sha256, version_str; then the CRC of all of that.
_FIELDS = struct.Struct("<IHHIIII32s32s")
_CRC = struct.Struct("<I")
HEADER_FIELDS_SIZE = _FIELDS.size + _CRC.size   # 0x5C: also what the signature covers
# sig_type, key_id, signature (r || s) right after the CRC.
_SIG = struct.Struct("<II64s")
UNSIGNED = b"\xff" * signing.SIG_SIZE
SIGNATURE_OFFSET = HEADER_FIELDS_SIZE + 8        # 0x64: r || s, after sig_type and key_id


class ImageError(ValueError):
    """An image that fails a check; the message says which, in a few words."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code      # matches image_strerror's wording class in the firmware


@dataclass(frozen=True)
class ImageHeader:
    image_version: int
    body_size: int
    body_sha256: bytes
    version_str: str
    load_addr: int
    target_id: int = TARGET_F407
    magic: int = IMAGE_MAGIC
    header_version: int = HEADER_VERSION
    header_size: int = 0           # 0: the layout's IMAGE_HEADER_SIZE
    header_crc: int | None = None  # None: computed when packed
    sig_type: int = signing.SIG_NONE
    key_id: int = 0xFFFFFFFF
    signature: bytes = UNSIGNED
    # The bytes the CRC covers, as read from an image (unpack); None for a new header.
    raw_fields: bytes | None = field(default=None, compare=False, repr=False)

    def pack(self) -> bytes:
        """The full IMAGE_HEADER_SIZE bytes: fields, CRC, 0xFF padding."""
        size = self.header_size or layout.load().IMAGE_HEADER_SIZE
        vstr = self.version_str.encode("utf-8")
        if len(vstr) >= VERSION_STR_LEN:
            raise ImageError("version", f"version string longer than {VERSION_STR_LEN - 1} bytes")
        fields = _FIELDS.pack(
            self.magic, self.header_version, size, self.target_id, self.image_version,
            self.body_size, self.load_addr, self.body_sha256, vstr.ljust(VERSION_STR_LEN, b"\0"),
        )
        crc = zlib.crc32(fields) if self.header_crc is None else self.header_crc
        head = fields + _CRC.pack(crc) + _SIG.pack(self.sig_type, self.key_id, self.signature)
        return head + b"\xff" * (layout.load().IMAGE_HEADER_SIZE - len(head))

    def signed_bytes(self) -> bytes:
        """The bytes the signature covers: the fields and the CRC, as packed."""
        return self.pack()[:HEADER_FIELDS_SIZE]

    @property
    def signed(self) -> bool:
        return self.sig_type != signing.SIG_NONE

    def signed_with(self, key: signing.PrivateKey) -> ImageHeader:
        """This header (its CRC computed if unset) with a signature by `key`."""
        h = self if self.header_crc is not None else replace(self, header_crc=self.computed_crc())
        h = replace(h, sig_type=signing.SIG_NONE, key_id=0xFFFFFFFF, signature=UNSIGNED)
        return replace(h, sig_type=signing.SIG_ECDSA_P256, key_id=signing.key_id(key.public_key()),
                       signature=signing.sign(h.signed_bytes(), key))

    @classmethod
    def unpack(cls, data: bytes) -> ImageHeader:
        if len(data) < HEADER_FIELDS_SIZE:
            raise ImageError("size", f"{len(data)} bytes is shorter than an image header")
        (magic, hver, hsize, target, version, body_size, load_addr, digest,
         vstr) = _FIELDS.unpack_from(data)
        (crc,) = _CRC.unpack_from(data, _FIELDS.size)
        sig_type, kid, sig = (_SIG.unpack_from(data, HEADER_FIELDS_SIZE)
                              if len(data) >= HEADER_FIELDS_SIZE + _SIG.size
                              else (signing.SIG_NONE, 0xFFFFFFFF, UNSIGNED))
        return cls(
            image_version=version, body_size=body_size, body_sha256=digest,
            version_str=vstr.split(b"\0", 1)[0].decode("utf-8", "replace"),
            load_addr=load_addr, target_id=target, magic=magic, header_version=hver,
            header_size=hsize, header_crc=crc, raw_fields=bytes(data[: _FIELDS.size]),
            sig_type=sig_type, key_id=kid, signature=sig,
        )

    def computed_crc(self) -> int:
        """CRC-32 of the header fields: of the bytes read when unpacked, else as packed."""
        if self.raw_fields is not None:
            return zlib.crc32(self.raw_fields)
        return zlib.crc32(replace(self, header_crc=0).pack()[: _FIELDS.size])


@dataclass(frozen=True)
class Image:
    header: ImageHeader
    body: bytes

    def to_bytes(self) -> bytes:
        return self.header.pack() + self.body

    @property
    def total_size(self) -> int:
        return layout.load().IMAGE_HEADER_SIZE + len(self.body)


def build_image(body: bytes, version: int, version_str: str | None = None,
                load_addr: int | None = None, target_id: int = TARGET_F407,
                key: signing.PrivateKey | None = None) -> Image:
    """An image for `body`, padded with 0xFF to whole words (flash is programmed by words),
    signed with `key` when given (an unsigned image is refused by the device)."""
    lay = layout.load()
    if not body:
        raise ImageError("size", "the body is empty")
    if len(body) % 4:
        body = body + b"\xff" * (4 - len(body) % 4)
    header = ImageHeader(
        image_version=version, body_size=len(body), body_sha256=hashlib.sha256(body).digest(),
        version_str=version_str if version_str is not None else f"{version}.0.0",
        load_addr=lay.APP_LOAD_ADDR if load_addr is None else load_addr, target_id=target_id,
        header_size=lay.IMAGE_HEADER_SIZE,
    )
    header = replace(header, header_crc=header.computed_crc())
    if key is not None:
        header = header.signed_with(key)
    image = Image(header, body)
    check_image(image, key.public_key() if key is not None else None)
    return image


def check_header(h: ImageHeader) -> None:
    """What the bootloader's image_check_header() checks, in the same order."""
    lay = layout.load()
    if h.magic != IMAGE_MAGIC:
        raise ImageError("magic", f"bad magic 0x{h.magic:08x} (expected 0x{IMAGE_MAGIC:08x})")
    if h.header_version != HEADER_VERSION or h.header_size != lay.IMAGE_HEADER_SIZE:
        raise ImageError("header-version",
                         f"header version {h.header_version} size {h.header_size} not supported")
    if h.header_crc != h.computed_crc():
        raise ImageError("header-crc", f"header CRC 0x{h.header_crc or 0:08x} is wrong "
                                       f"(computed 0x{h.computed_crc():08x})")
    if h.target_id != TARGET_F407:
        raise ImageError("target", f"target 0x{h.target_id:x} is not the STM32F407 "
                                   f"(0x{TARGET_F407:x})")
    if h.load_addr != lay.APP_LOAD_ADDR:
        raise ImageError("load-addr", f"load address 0x{h.load_addr:08x} is not the "
                                      f"application's 0x{lay.APP_LOAD_ADDR:08x}")
    max_body = lay.IMAGE_MAX_SIZE - lay.IMAGE_HEADER_SIZE
    if h.body_size == 0 or h.body_size % 4 or h.body_size > max_body:
        raise ImageError("size", f"body size {h.body_size} is not a non-zero multiple of 4 "
                                 f"up to {max_body}")


def check_vectors(body: bytes) -> None:
    """Initial SP in SRAM or CCM, reset vector a Thumb address inside the body."""
    lay = layout.load()
    if len(body) < 8:
        raise ImageError("vectors", "body too short for a vector table")
    sp, reset = struct.unpack_from("<II", body)
    in_sram = lay.SRAM_BASE_ADDR < sp <= lay.SRAM_BASE_ADDR + lay.SRAM_TOTAL_SIZE
    in_ccm = lay.CCM_BASE_ADDR < sp <= lay.CCM_BASE_ADDR + lay.CCM_TOTAL_SIZE
    if not (in_sram or in_ccm):
        raise ImageError("vectors", f"initial stack pointer 0x{sp:08x} is not in SRAM or CCM")
    start = lay.APP_LOAD_ADDR
    if not (reset & 1) or not (start <= (reset & ~1) < start + len(body)):
        raise ImageError("vectors", f"reset vector 0x{reset:08x} is not Thumb code in the body")


def check_signature(h: ImageHeader, key: signing.PublicKey) -> None:
    """What the bootloader's image_check_signature() checks, with the device's key."""
    if not h.signed:
        raise ImageError("unsigned", "the image is not signed")
    if h.sig_type != signing.SIG_ECDSA_P256 or h.key_id != signing.key_id(key):
        raise ImageError("key", f"signed with key 0x{h.key_id:08x} (type {h.sig_type}), not "
                                f"the device's 0x{signing.key_id(key):08x}")
    if not signing.verify(h.signed_bytes(), h.signature, key):
        raise ImageError("signature", "the signature does not verify")


def check_image(image: Image, key: signing.PublicKey | None = None) -> None:
    """Header, body size and digest, vector table: everything the bootloader verifies;
    and the signature when the device's public `key` is given."""
    check_header(image.header)
    if len(image.body) != image.header.body_size:
        raise ImageError("size", f"body is {len(image.body)} bytes, header says "
                                 f"{image.header.body_size}")
    if hashlib.sha256(image.body).digest() != image.header.body_sha256:
        raise ImageError("digest", "SHA-256 of the body differs from the header's")
    check_vectors(image.body)
    if key is not None:
        check_signature(image.header, key)


def parse_image(data: bytes, check: bool = True) -> Image:
    """Split image bytes into header and body (the body as long as the header says)."""
    hsize = layout.load().IMAGE_HEADER_SIZE
    header = ImageHeader.unpack(data)
    body = data[hsize : hsize + header.body_size] if header.body_size else data[hsize:]
    image = Image(header, body)
    if check:
        check_image(image)
    return image


def padded(image: Image, total_size: int, seed: int = 0,
           key: signing.PrivateKey | None = None) -> Image:
    """The same application grown to `total_size` bytes with seeded filler after its end.

    For benchmarks and campaigns that need an image of a given size: the filler is
    pseudo-random (not 0xFF, which flash would program for nothing), the vector table
    and code are unchanged, so the image still boots. The new header needs a new
    signature: pass the key (`signing.test_key()` for the build's images).
    """
    import random

    extra = total_size - image.total_size
    if extra < 0 or extra % 4:
        raise ImageError("size", f"cannot pad a {image.total_size}-byte image to {total_size}")
    filler = random.Random(seed).randbytes(extra)
    h = image.header
    return build_image(image.body + filler, h.image_version, h.version_str, h.load_addr,
                       h.target_id, key)
