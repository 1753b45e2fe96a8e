"""End to end against the real firmware in the built-in engine: boot, ping, status, HTTP
and TFTP uploads, rejection of bad images, reboot into the new version, and an upload
saved in its middle then finished from the snapshot.

Skipped until `make firmware` produced build/boot.elf and build/app-v1..3.img and the
built-in engine is importable.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pybench import layout
from pybench.engine.base import Engine
from pybench.net import scenarios
from pybench.paths import build_dir, platform_file

SKIP_REASON = "needs build/app-v1.img and the built-in engine"


def _available() -> bool:
    build = build_dir()
    files = ("boot.elf", "app-v1.img", "app-v2.img", "app-v3.img")
    return (all((build / f).is_file() for f in files)
            and importlib.util.find_spec("pybench.engine.builtin.engine") is not None)


pytestmark = pytest.mark.skipif(not _available(), reason=SKIP_REASON)


@dataclass
class Firmware:
    build: Path

    def image(self, version: int) -> bytes:
        return (self.build / f"app-v{version}.img").read_bytes()


@pytest.fixture
def firmware() -> Firmware:
    return Firmware(build_dir())


@pytest.fixture
def board(firmware: Firmware, tmp_path: Path) -> Iterator[Engine]:
    engine = scenarios.create_board("builtin", firmware.build / "boot.elf",
                                    firmware.build / "app-v1.img", platform_file())
    scenarios.attach(engine, seed=1, pcap=tmp_path / "wire.pcap")
    engine.power_on()
    scenarios.boot_and_wait(engine)
    yield engine
    (tmp_path / "wire.uart.log").write_text(engine.uart().text)
    scenarios.detach(engine)
    engine.close()


def _corrupt(firmware: Firmware, fault: str, tmp_path: Path) -> bytes:
    from pybench.cli import main
    out = tmp_path / f"bad-{fault}.img"
    assert main(["image", "corrupt", str(firmware.build / "app-v2.img"), "-o", str(out),
                 "--fault", fault]) == 0
    return out.read_bytes()


def test_ping_and_status(board: Engine) -> None:
    rtts = scenarios.ping(board, count=3)
    assert len(rtts) == 3 and all(rtt > 0 for rtt in rtts)
    info = scenarios.status(board)
    assert info["version_number"] == 1


@pytest.mark.parametrize("mode", ["multipart", "raw"])
def test_http_upload_of_v2_then_reboot_runs_v2(board: Engine, firmware: Firmware,
                                               mode: str) -> None:
    image = firmware.image(2)
    result = scenarios.upload(board, image, via="http", mode=mode, filename="app-v2.img")
    assert result.accepted, result
    assert result.staging == f"staging: staged v2 ({len(image)} bytes)"
    assert board.read_flash(layout.load().STAGING_ADDR, len(image)) == image
    assert scenarios.reboot(board) == 202
    scenarios.wait_version(board, 2)
    assert scenarios.status(board)["version_number"] == 2
    assert board.read_flash(layout.load().APP_SLOT_ADDR, len(image)) == image


def test_tftp_upload_of_v3(board: Engine, firmware: Firmware) -> None:
    image = firmware.image(3)
    result = scenarios.upload(board, image, via="tftp", filename="app-v3.img")
    assert result.accepted, result
    assert scenarios.reboot(board) == 202
    scenarios.wait_version(board, 3)


@pytest.mark.parametrize("fault", ["magic", "target", "digest", "header-crc", "truncate"])
def test_bad_image_is_rejected_and_v1_keeps_running(board: Engine, firmware: Firmware,
                                                     fault: str, tmp_path: Path) -> None:
    result = scenarios.upload(board, _corrupt(firmware, fault, tmp_path), via="http")
    assert not result.accepted
    assert result.status in (400, 413, 422) and result.reason
    assert scenarios.status(board)["version_number"] == 1


def test_upload_saved_midway_finishes_the_same_after_load(board: Engine,
                                                           firmware: Firmware) -> None:
    image = firmware.image(2)
    scenarios.start_upload(board, image, via="http", filename="app-v2.img")
    b = scenarios.bench(board)
    assert b.wire.run_until(lambda: b.host.apps["upload"].sent > len(image) // 2,
                            scenarios.UPLOAD_TIMEOUT_NS)
    snap = scenarios.save(board)
    first = scenarios.finish_upload(board)
    scenarios.load(board, snap)
    second = scenarios.finish_upload(board)
    assert first == second and first.accepted
