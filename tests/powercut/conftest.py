"""Fixtures of the power-cut tests: small images and a campaign on the test double."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from pc_fakeboard import FakeBoard
from pc_types import CampaignFn
from sample_device import SAMPLE

from pybench import layout
from pybench.image.format import build_image
from pybench.powercut.campaign import CampaignConfig, CampaignResult, run_campaign
from pybench.powercut.plan import PlanKind, PlanOptions
from pybench.powercut.scenario import BackdoorScenario


def image_bytes(version: int, body_words: int = 40) -> bytes:
    """A valid image whose body differs per version (vector table first)."""
    lay = layout.load()
    vectors = struct.pack("<II", lay.SRAM_BASE_ADDR + 0x1000, lay.APP_LOAD_ADDR + 0x21)
    filler = b"".join(struct.pack("<I", (version << 24) ^ (i * 2654435761 & 0xFFFFFF))
                      for i in range(body_words))
    return build_image(vectors + filler, version).to_bytes()


@pytest.fixture
def images(tmp_path: Path) -> tuple[Path, Path, Path]:
    boot = tmp_path / "boot.elf"
    boot.write_bytes(b"\x7fELF fake")
    old, new = tmp_path / "v1.img", tmp_path / "v2.img"
    old.write_bytes(image_bytes(1))
    new.write_bytes(image_bytes(2))
    return boot, old, new




@pytest.fixture
def fake_campaign(images: tuple[Path, Path, Path], tmp_path: Path) -> CampaignFn:
    """Run a backdoor campaign on the FakeBoard test double."""
    boot, old, new = images

    def run(bug: str | None = None, jobs: int = 1, content_fault: str | None = None,
            **plan: object) -> CampaignResult:
        opts = PlanOptions(**{"kind": PlanKind.EXHAUSTIVE, **plan})  # type: ignore[arg-type]
        config = CampaignConfig(
            make_engine=lambda: FakeBoard(bug),
            make_scenario=lambda: BackdoorScenario(SAMPLE, boot, old, new, tmp_path / "fake.repl",
                                                   content_fault=content_fault),
            options=opts, jobs=jobs, flash_dir=tmp_path / "cuts", quiet=True,
            repro="pybench powercut --via backdoor")
        return run_campaign(config)

    return run
