"""What `make firmware` produced agrees with the flash layout (firmware/include/flash_layout.h).

Skipped, with the reason, when build/ has not been made. The checks read the ELF files'
program headers and the images' headers, and compare them with pybench.layout: the
build is the one place that turns the layout into addresses, so a mistake there shows
up here before any emulator runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pybench import layout
from pybench.image import signing
from pybench.image.format import check_image, parse_image
from pybench.paths import repo_root

VERSIONS = (1, 2, 3)
VARIANTS = ("boot-bug-done-early", "boot-bug-progress-early", "boot-bug-no-crc", "boot-ramcopy")


def _segments(elf: Path) -> list[tuple[int, int]]:
    """(load address, bytes stored in flash) of each loadable segment with contents."""
    with elf.open("rb") as f:
        return [(seg["p_paddr"], seg["p_filesz"]) for seg in ELFFile(f).iter_segments()
                if seg["p_type"] == "PT_LOAD" and seg["p_filesz"]]


def _programs(built: Path, stem: str) -> list[Path]:
    paths = [built / f"{stem}-v{v}.elf" for v in VERSIONS]
    missing = [p.name for p in paths if not p.exists()]
    if stem == "app" and missing and not (repo_root() / "firmware/app/app.mk").exists():
        pytest.skip("firmware/app/app.mk does not exist yet: the application is not built")
    assert not missing, f"make firmware did not build {missing} in {built}"
    return paths


def _check_in_region(elf: Path, base: int, size: int) -> int:
    segs = _segments(elf)
    assert segs, f"{elf.name}: no loadable segment"
    for addr, length in segs:
        assert base <= addr and addr + length <= base + size, (
            f"{elf.name}: segment 0x{addr:08x}+0x{length:x} outside 0x{base:08x}+0x{size:x}")
    return sum(length for _, length in segs)


def test_bootloader_fits_sector_0(built: Path) -> None:
    lay = layout.load()
    elf = built / "boot.elf"
    used = _check_in_region(elf, lay.BOOT_ADDR, lay.BOOT_SIZE)
    assert min(addr for addr, _ in _segments(elf)) == lay.BOOT_ADDR  # vector table first
    assert used <= lay.BOOT_SIZE


@pytest.mark.parametrize("stem", ["mini", "app"])
def test_applications_linked_at_load_address(built: Path, stem: str) -> None:
    lay = layout.load()
    for elf in _programs(built, stem):
        _check_in_region(elf, lay.APP_LOAD_ADDR,
                         lay.APP_SLOT_ADDR + lay.APP_SLOT_SIZE - lay.APP_LOAD_ADDR)
        assert min(addr for addr, _ in _segments(elf)) == lay.APP_LOAD_ADDR, elf.name


@pytest.mark.parametrize("stem", ["mini", "app"])
def test_images_agree_with_layout(built: Path, stem: str) -> None:
    lay = layout.load()
    for elf in _programs(built, stem):
        path = elf.with_suffix(".img")
        assert path.exists(), f"{path.name} missing: is pybench/image installed?"
        data = path.read_bytes()
        image = parse_image(data)  # raises on any check the bootloader makes
        h = image.header
        version = int(elf.stem.rsplit("-v", 1)[1])
        assert (h.image_version, h.version_str) == (version, f"{version}.0.0"), path.name
        assert h.load_addr == lay.APP_LOAD_ADDR and h.header_size == lay.IMAGE_HEADER_SIZE
        assert len(data) == lay.IMAGE_HEADER_SIZE + h.body_size <= lay.IMAGE_MAX_SIZE
        # Signed with the build's test key; the rest of the header is padding.
        check_image(image, signing.test_key().public_key())
        assert data[0xA4 : lay.IMAGE_HEADER_SIZE] == b"\xff" * (lay.IMAGE_HEADER_SIZE - 0xA4)
        # The body is the ELF's flash contents: its first segment starts the body.
        first_addr, first_len = min(_segments(elf))
        with elf.open("rb") as f:
            seg = next(s for s in ELFFile(f).iter_segments()
                       if s["p_type"] == "PT_LOAD" and s["p_paddr"] == first_addr)
            assert image.body[:first_len] == seg.data()[:first_len], path.name


def test_versions_differ(built: Path) -> None:
    """Each version is its own build: the power-cut oracle tells them apart by digest."""
    digests = {parse_image((built / f"mini-v{v}.img").read_bytes()).header.body_sha256
               for v in VERSIONS}
    assert len(digests) == len(VERSIONS)


def test_variants_fit_sector_0(built: Path) -> None:
    lay = layout.load()
    folder = built / "variants"
    if not folder.is_dir():
        pytest.skip(f"{folder} missing: run `make -C firmware variants`")
    for name in VARIANTS:
        elf = folder / f"{name}.elf"
        assert elf.exists(), f"{elf} missing"
        assert _check_in_region(elf, lay.BOOT_ADDR, lay.BOOT_SIZE) <= lay.BOOT_SIZE
        assert not (built / f"{name}.elf").exists(), "a variant must never replace boot.elf"


def test_update_boots_in_builtin_engine(built: Path) -> None:
    """The real bootloader copies a staged mini image down in the built-in engine."""
    engine_mod = pytest.importorskip("pybench.engine.builtin.engine",
                                     reason="the built-in engine is not importable")
    from pybench import journal
    from pybench.paths import platform_file

    lay = layout.load()
    v1, v2 = ((built / f"mini-v{v}.img").read_bytes() for v in (1, 2))
    h2 = parse_image(v2).header
    eng = engine_mod.BuiltinEngine()
    try:
        eng.load_platform(platform_file())
        eng.load_elf(built / "boot.elf")
        eng.write_flash(lay.APP_SLOT_ADDR, v1)
        eng.write_flash(lay.STAGING_ADDR, v2)
        staged = journal.JournalRecord(1, journal.State.STAGED, 0, len(v2), 2, h2.body_sha256)
        eng.write_flash(lay.JOURNAL_A_ADDR, staged.encode())
        eng.power_on()
        eng.run_until_uart(r"^app: tick", 5_000_000_000)
        lines = [x for x in eng.uart().lines if x.startswith(("boot: ", "app: mini"))]
        assert lines[1:] == [f"boot: journal STAGED v2 size {len(v2)}",
                             "boot: copied sector 4", "boot: update to v2 done",
                             "boot: jump to v2 at 0x08010200", "app: mini v2 running"], lines
        assert eng.read_flash(lay.APP_SLOT_ADDR, len(v2)) == v2
        assert journal.read_view(eng.read_flash).state == journal.State.DONE
    finally:
        eng.close()
