"""The flash layout: parsed from the one header, consistent with the chip's geometry."""

from __future__ import annotations

import itertools

import pytest

from pybench import layout
from pybench.errors import BenchError


def test_geometry_is_the_f407s() -> None:
    lay = layout.load()
    assert lay.sector_sizes == tuple(k * 1024 for k in (16, 16, 16, 16, 64) + (128,) * 7)
    assert sum(lay.sector_sizes) == lay.FLASH_TOTAL_SIZE
    assert len(lay.sector_sizes) == lay.FLASH_SECTOR_COUNT


def test_regions_start_on_their_sectors_and_do_not_overlap() -> None:
    lay = layout.load()
    regions = [
        (lay.boot, lay.BOOT_SECTOR, lay.BOOT_LAST_SECTOR),
        (lay.journal[0], lay.JOURNAL_A_SECTOR, lay.JOURNAL_A_SECTOR),
        (lay.journal[1], lay.JOURNAL_B_SECTOR, lay.JOURNAL_B_SECTOR),
        (lay.app_slot, lay.APP_SLOT_FIRST_SECTOR, lay.APP_SLOT_LAST_SECTOR),
        (lay.staging, lay.STAGING_FIRST_SECTOR, lay.STAGING_LAST_SECTOR),
    ]
    for region, first, last in regions:
        assert lay.sectors(first, last) == layout.Region(f"sectors {first}-{last}",
                                                         region.addr, region.size), region.name
    ends = sorted((r.addr, r.end) for r, _, _ in regions)
    for (_, end), (start, _) in itertools.pairwise(ends):
        assert end <= start


def test_image_fits_both_slots_and_vectors_are_aligned() -> None:
    lay = layout.load()
    assert lay.IMAGE_MAX_SIZE <= lay.APP_SLOT_SIZE <= lay.STAGING_SIZE
    assert lay.APP_LOAD_ADDR == lay.APP_SLOT_ADDR + lay.IMAGE_HEADER_SIZE
    assert lay.APP_LOAD_ADDR % 512 == 0   # VTOR: 98 vectors round up to 512 bytes
    assert lay.JOURNAL_SECTOR_SIZE % lay.JOURNAL_RECORD_SIZE == 0


def test_sector_of() -> None:
    lay = layout.load()
    assert lay.sector_of(lay.APP_SLOT_ADDR) == lay.APP_SLOT_FIRST_SECTOR
    assert lay.sector_of(lay.FLASH_BASE_ADDR + lay.FLASH_TOTAL_SIZE - 1) == 11
    with pytest.raises(ValueError):
        lay.sector_of(lay.FLASH_BASE_ADDR + lay.FLASH_TOTAL_SIZE)


@pytest.mark.parametrize("line", ["#define APP_SLOT_ADDR 0x08zz0000",
                                  "#define X (APP_SLOT_ADDR + 4)"])
def test_bad_header_line_names_file_and_line(line: str) -> None:
    with pytest.raises(BenchError, match=r"^h\.h:2: "):
        layout.parse_header("/* */\n" + line + "\n", "h.h")
