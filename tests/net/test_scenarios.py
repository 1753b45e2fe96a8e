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
from sample_device import SAMPLE

from pybench.engine.base import Engine
from pybench.net import scenarios
from pybench.paths import build_dir

STAGING = SAMPLE.layout.staging.addr if SAMPLE.layout.staging else 0
APP_SLOT = SAMPLE.layout.app_slot.addr
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
    engine = scenarios.create_board("builtin", SAMPLE)
    scenarios.attach(engine, SAMPLE, seed=1, pcap=tmp_path / "wire.pcap")
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
    info = scenarios.http_json(board, "/status")
    assert info["version_number"] == 1


@pytest.mark.parametrize("mode", ["multipart", "raw"])
def test_http_upload_of_v2_then_reboot_runs_v2(board: Engine, firmware: Firmware,
                                               mode: str) -> None:
    image = firmware.image(2)
    result = scenarios.upload(board, image, via="http", mode=mode, filename="app-v2.img")
    assert result.accepted, result
    assert result.staging == f"staging: staged v2 ({len(image)} bytes)"
    assert board.read_flash(STAGING, len(image)) == image
    scenarios.restart(board, "http")
    scenarios.wait_version(board, 2)
    assert scenarios.http_json(board, "/status")["version_number"] == 2
    assert board.read_flash(APP_SLOT, len(image)) == image


def test_tftp_upload_of_v3(board: Engine, firmware: Firmware) -> None:
    image = firmware.image(3)
    result = scenarios.upload(board, image, via="tftp", filename="app-v3.img")
    assert result.accepted, result
    scenarios.restart(board, "http")
    scenarios.wait_version(board, 3)


@pytest.mark.parametrize("fault", ["magic", "target", "digest", "header-crc", "truncate"])
def test_bad_image_is_rejected_and_v1_keeps_running(board: Engine, firmware: Firmware,
                                                     fault: str, tmp_path: Path) -> None:
    result = scenarios.upload(board, _corrupt(firmware, fault, tmp_path), via="http")
    assert not result.accepted
    assert result.status in (400, 413, 422) and result.reason
    assert scenarios.http_json(board, "/status")["version_number"] == 1


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


def _app_slot(board: Engine, size: int) -> bytes:
    return board.read_flash(APP_SLOT, size)


def test_status_page_and_json_reflect_staging(board: Engine, firmware: Firmware) -> None:
    before = scenarios.http_json(board, "/status")
    # The first boot checked v1's signature and recorded it as installed.
    assert before["staging"]["state"] == "idle" and before["journal"]["state"] == "DONE"
    assert before["staged_version"] is None and before["min_version"] == 1
    page = scenarios.http_request(board, "GET", "/")
    assert page.status == 200 and "Firmware 1.0.0" in page.text and 'type="file"' in page.text
    image = firmware.image(2)
    assert scenarios.upload(board, image, via="http").accepted
    after = scenarios.http_json(board, "/status")
    assert after["staging"]["state"] == "staged" and after["staging"]["bytes"] == len(image)
    assert (after["journal"]["state"], after["journal"]["image_version"]) == ("STAGED", 2)
    assert after["staged_version"] == 2
    page = scenarios.http_request(board, "GET", "/")
    assert "staged" in page.text and "STAGED" in page.text
    assert "v2, installed at the next reboot" in page.text


@pytest.mark.parametrize(("via", "how"), [("http", "reset"), ("tftp", "vanish")])
def test_upload_cut_off_midway_keeps_v1_and_a_retry_succeeds(
        board: Engine, firmware: Firmware, via: str, how: str) -> None:
    """The client goes away half-way (a TCP reset, or a TFTP client that just stops):
    nothing is staged, v1 keeps running untouched, and the next upload goes through."""
    old = _app_slot(board, len(firmware.image(1)))
    image = firmware.image(2)
    up = scenarios.start_upload(board, image, via=via, filename="app-v2.img")
    b = scenarios.bench(board)
    assert b.wire.run_until(lambda: b.host.apps["upload"].sent > len(image) // 2,
                            scenarios.UPLOAD_TIMEOUT_NS)
    if how == "reset":
        assert up.http is not None
        up.http.conn.abort()
    b.host.forget_transfers()
    # Long enough for the device's TFTP retransmissions to give up (RFC 1350 timeouts).
    b.wire.run_until(lambda: False, 10 * scenarios.SECOND)
    info = scenarios.http_json(board, "/status")
    assert info["version_number"] == 1 and info["staging"]["state"] != "staged"
    assert info["journal"]["state"] == "DONE" and info["journal"]["image_version"] == 1
    assert _app_slot(board, len(old)) == old
    retry = scenarios.upload(board, image, via=via, filename="app-v2.img")
    assert retry.accepted, retry
    scenarios.restart(board, "http")
    scenarios.wait_version(board, 2)


def test_ping_after_the_board_ran_alone_measures_only_the_round_trip(board: Engine) -> None:
    first = scenarios.ping(board)[0]
    board.run(50_000_000)   # 50 ms with nobody on the wire
    assert scenarios.ping(board)[0] < 50_000_000 and first < 50_000_000
