"""The image format: build, parse, every check the bootloader makes, ELF bodies."""

from __future__ import annotations

import contextlib
import hashlib
import struct
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pybench import layout
from pybench.errors import BenchError
from pybench.image import signing
from pybench.image.cli import FAULTS, corrupt
from pybench.image.elf import body_from_elf, body_from_file
from pybench.image.format import (
    HEADER_FIELDS_SIZE,
    IMAGE_MAGIC,
    ImageError,
    ImageHeader,
    build_image,
    check_image,
    parse_image,
)

LAY = layout.load()
KEY = signing.generate()          # a key of this test run; the device's is the build's
SIGNED_END = HEADER_FIELDS_SIZE + 8 + signing.SIG_SIZE   # sig_type, key_id, r || s


def vector_body(size: int = 1024) -> bytes:
    """A plausible body: SP at the top of SRAM, reset vector inside, then filler."""
    sp = LAY.SRAM_BASE_ADDR + LAY.SRAM_TOTAL_SIZE
    reset = LAY.APP_LOAD_ADDR + 0x189
    head = struct.pack("<II", sp, reset)
    return head + bytes((i * 7) & 0xFF for i in range(size - len(head)))


def test_header_layout_matches_image_h() -> None:
    image = build_image(vector_body(), 3, "3.1.4")
    raw = image.to_bytes()
    assert len(raw) == LAY.IMAGE_HEADER_SIZE + 1024
    magic, hver, hsize, target, version, body_size, load = struct.unpack_from("<IHHIIII", raw)
    assert (magic, hver, hsize, target) == (IMAGE_MAGIC, 1, LAY.IMAGE_HEADER_SIZE, 0x413)
    assert (version, body_size, load) == (3, 1024, LAY.APP_LOAD_ADDR)
    assert raw[0x18:0x38] == hashlib.sha256(image.body).digest()
    assert raw[0x38:0x58].rstrip(b"\0") == b"3.1.4"
    assert struct.unpack_from("<I", raw, 0x58)[0] == zlib.crc32(raw[:0x58])
    assert HEADER_FIELDS_SIZE == 0x5C
    assert raw[0x5C:LAY.IMAGE_HEADER_SIZE] == b"\xff" * (LAY.IMAGE_HEADER_SIZE - 0x5C)


def test_round_trip_and_padding_to_words() -> None:
    image = build_image(vector_body(1022), 2)
    assert image.header.body_size == 1024 and image.body.endswith(b"\xff\xff")
    again = parse_image(image.to_bytes())
    assert again.header.image_version == 2 and again.header.version_str == "2.0.0"
    assert again.body == image.body


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"magic": 0x12345678}, "magic"),
        ({"header_version": 2}, "header-version"),
        ({"target_id": 0x419}, "target"),
        ({"load_addr": LAY.APP_SLOT_ADDR}, "load-addr"),
        ({"body_size": 0}, "size"),
        ({"body_size": 1023}, "size"),
        ({"body_size": LAY.IMAGE_MAX_SIZE}, "size"),
    ],
)
def test_each_header_check(change: dict[str, int], code: str) -> None:
    good = build_image(vector_body(), 1)
    header = replace(good.header, **change)
    bad = replace(good, header=replace(header, header_crc=header.computed_crc()))
    with pytest.raises(ImageError) as err:
        check_image(bad)
    assert err.value.code == code


def test_crc_digest_and_vectors_are_checked() -> None:
    good = build_image(vector_body(), 1)
    with pytest.raises(ImageError, match="CRC"):
        check_image(replace(good, header=replace(good.header, header_crc=1)))
    flipped = bytearray(good.body)
    flipped[100] ^= 0x80
    with pytest.raises(ImageError, match="SHA-256"):
        check_image(replace(good, body=bytes(flipped)))
    no_sp = struct.pack("<II", 0x08000000, LAY.APP_LOAD_ADDR + 9) + vector_body()[8:]
    with pytest.raises(ImageError, match="stack pointer"):
        build_image(no_sp, 1)
    arm_reset = struct.pack("<II", LAY.SRAM_BASE_ADDR + 0x1000, LAY.APP_LOAD_ADDR + 8)
    with pytest.raises(ImageError, match="Thumb"):
        build_image(arm_reset + vector_body()[8:], 1)


@pytest.mark.parametrize("fault", FAULTS)
def test_every_corrupt_fault_is_rejected(fault: str) -> None:
    good = build_image(vector_body(), 2, key=KEY).to_bytes()
    check_image(parse_image(good), KEY.public_key())
    bad = corrupt(good, fault)
    with pytest.raises(ImageError) as e:
        check_image(parse_image(bad, check=False), KEY.public_key())
    if fault in ("unsigned", "signature", "key"):   # each fault stands alone
        assert e.value.code == fault


def test_signature_covers_every_field_and_the_crc() -> None:
    good = parse_image(build_image(vector_body(), 2, key=KEY).to_bytes())
    assert good.header.signed and good.header.key_id == signing.key_id(KEY.public_key())
    assert signing.verify(good.to_bytes()[:HEADER_FIELDS_SIZE], good.header.signature,
                          KEY.public_key())
    newer = replace(good.header, image_version=3, raw_fields=None, header_crc=None)
    newer = replace(newer, header_crc=newer.computed_crc())   # a consistent header, re-CRCed
    with pytest.raises(ImageError, match="signature"):
        check_image(replace(good, header=newer), KEY.public_key())
    with pytest.raises(ImageError, match="not the device's"):
        check_image(good, signing.generate().public_key())


@given(st.binary(min_size=0, max_size=700))
def test_parse_never_raises_anything_but_image_error(data: bytes) -> None:
    with contextlib.suppress(ImageError):
        parse_image(data)


@given(st.integers(0, LAY.IMAGE_HEADER_SIZE + 1023), st.integers(0, 7))
def test_any_single_bit_flip_is_caught(offset: int, bit: int) -> None:
    raw = bytearray(build_image(vector_body(), 5, key=KEY).to_bytes())
    if SIGNED_END <= offset < LAY.IMAGE_HEADER_SIZE:
        return  # header padding is outside every check, by design
    raw[offset] ^= 1 << bit
    with pytest.raises(ImageError):
        check_image(parse_image(bytes(raw), check=False), KEY.public_key())


APP_C = r"""
extern unsigned __stack_top;
void reset(void);
__attribute__((section(".vectors"), used)) const void *vectors[2] = {&__stack_top, reset};
int counter = 5;                       /* .data: initial value stored in flash */
void reset(void) { for (;;) { counter++; } }
"""


LINKER_SCRIPT = """
MEMORY {{ FLASH (rx) : ORIGIN = {load:#x}, LENGTH = 64K
         RAM (rwx) : ORIGIN = {ram:#x}, LENGTH = 16K }}
SECTIONS {{
  .vectors : {{ KEEP(*(.vectors)) }} > FLASH
  .text : {{ *(.text*) *(.rodata*) }} > FLASH
  .data : {{ *(.data*) }} > RAM AT > FLASH
  .bss : {{ *(.bss*) }} > RAM
}}
"""


def test_body_from_elf_places_data_after_text(arm_compile, tmp_path: Path) -> None:
    src = tmp_path / "app.c"
    src.write_text(APP_C)
    ld = tmp_path / "app.ld"
    ld.write_text(LINKER_SCRIPT.format(load=LAY.APP_LOAD_ADDR, ram=LAY.SRAM_BASE_ADDR))
    elf = arm_compile(src, tmp_path / "app.elf", None, [f"-Wl,-T,{ld}"])
    body = body_from_elf(elf, LAY.APP_LOAD_ADDR)
    # .data's initial value (5) is stored in flash right after .text.
    assert body[-4:] == struct.pack("<I", 5)
    sp, reset = struct.unpack_from("<II", body)
    assert sp == LAY.SRAM_BASE_ADDR + LAY.SRAM_TOTAL_SIZE
    assert reset & 1 and LAY.APP_LOAD_ADDR <= reset < LAY.APP_LOAD_ADDR + len(body)
    check_image(build_image(body, 1))
    # Linked for the bootloader's address: rejected with the reason.
    low = arm_compile(src, tmp_path / "low.elf", LAY.BOOT_ADDR)
    with pytest.raises(BenchError, match="below the load address"):
        body_from_elf(low, LAY.APP_LOAD_ADDR)


def test_not_elf_not_bin(tmp_path: Path) -> None:
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    with pytest.raises(BenchError, match=r"notes\.txt: neither an ELF file nor a \.bin"):
        body_from_file(txt, LAY.APP_LOAD_ADDR)
    fake = tmp_path / "broken.elf"
    fake.write_bytes(b"\x7fELF" + b"\0" * 10)
    with pytest.raises(BenchError, match=r"broken\.elf: not a valid ELF"):
        body_from_file(fake, LAY.APP_LOAD_ADDR)


def test_x86_elf_is_refused(tmp_path: Path) -> None:
    import sys
    with pytest.raises(BenchError, match="not a 32-bit little-endian ARM ELF"):
        body_from_elf(Path(sys.executable).resolve(), LAY.APP_LOAD_ADDR)


def test_unpack_of_short_data() -> None:
    with pytest.raises(ImageError, match="shorter than an image header"):
        ImageHeader.unpack(b"FIMG")


def test_padded_image_keeps_the_code_and_verifies() -> None:
    from pybench.image.format import padded

    small = build_image(vector_body(1024), 4, "4.0.0", key=KEY)
    big = padded(small, 16 * 1024, seed=3, key=KEY)
    assert big.total_size == 16 * 1024 and big.body[:1024] == small.body
    check_image(big, KEY.public_key())
    # ECDSA signatures differ from one signing to the next: compare what is signed.
    assert padded(small, 16 * 1024, seed=3).body == big.body
    assert padded(small, 16 * 1024, seed=4).body != big.body
    with pytest.raises(ImageError):
        padded(small, 100)
