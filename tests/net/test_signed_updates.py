"""Signed images and anti-rollback against the real firmware in the built-in engine: an
unsigned, wrongly signed or older image is refused over HTTP and TFTP (by the staging
writer, before staging is erased) and, written straight into staging with its STAGED
record (the backdoor), by the bootloader; the application slot never changes."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from sample_device import SAMPLE

from pybench import journal, layout
from pybench.engine.base import Engine
from pybench.image.cli import corrupt
from pybench.image.format import ImageHeader
from pybench.net import scenarios
from pybench.paths import build_dir, platform_file


def _available() -> bool:
    build = build_dir()
    files = ("boot.elf", "app-v1.img", "app-v2.img", "app-v3.img")
    return (all((build / f).is_file() for f in files)
            and importlib.util.find_spec("pybench.engine.builtin.engine") is not None)


SECOND = 1_000_000_000

pytestmark = pytest.mark.skipif(not _available(), reason="needs `make firmware` and the engine")


def _image(version: int) -> bytes:
    return (build_dir() / f"app-v{version}.img").read_bytes()


def _board(version: int, tmp_path: Path) -> Engine:
    engine = scenarios.create_board("builtin", SAMPLE, build_dir() / f"app-v{version}.img")
    scenarios.attach(engine, SAMPLE, seed=3, pcap=tmp_path / "wire.pcap")
    engine.power_on()
    scenarios.boot_and_wait(engine)
    return engine


@pytest.fixture
def board_v2(tmp_path: Path) -> Iterator[Engine]:
    engine = _board(2, tmp_path)
    yield engine
    (tmp_path / "wire.uart.log").write_text(engine.uart().text)
    scenarios.detach(engine)
    engine.close()


def _slot(engine: Engine) -> bytes:
    lay = layout.load()
    return engine.read_flash(lay.APP_SLOT_ADDR, lay.APP_SLOT_SIZE)


def _staging_head(engine: Engine) -> bytes:
    return engine.read_flash(layout.load().STAGING_ADDR, 4096)


@pytest.mark.parametrize("via", ["http", "tftp"])
@pytest.mark.parametrize(("what", "word"), [
    ("older", "rollback"), ("unsigned", "unsigned"), ("key", "key"), ("signature", "signature"),
])
def test_upload_refused_before_staging_is_touched(board_v2: Engine, via: str, what: str,
                                                  word: str) -> None:
    image = _image(1) if what == "older" else corrupt(_image(3), what)
    slot, staging = _slot(board_v2), _staging_head(board_v2)
    result = scenarios.upload(board_v2, image, via=via, filename="bad.img")
    assert not result.accepted, result
    assert word in result.staging, result
    info = scenarios.http_json(board_v2, "/status")
    assert info["version_number"] == 2 and info["staged_version"] is None
    assert info["min_version"] == 2
    assert _slot(board_v2) == slot and _staging_head(board_v2) == staging


def test_status_says_which_version_is_staged(board_v2: Engine) -> None:
    assert scenarios.upload(board_v2, _image(3), via="http").accepted
    info = scenarios.http_json(board_v2, "/status")
    assert info["staged_version"] == 3 and info["version_number"] == 2
    page = scenarios.http_request(board_v2, "GET", "/").text
    assert "v3, installed at the next reboot" in page
    scenarios.restart(board_v2, "http")
    scenarios.wait_version(board_v2, 3)
    after = scenarios.http_json(board_v2, "/status")
    assert after["staged_version"] is None and after["min_version"] == 3


@pytest.mark.parametrize("what", ["older", "unsigned", "key", "signature"])
def test_bootloader_refuses_a_backdoor_staged_image(what: str) -> None:
    """Staging and its STAGED record written behind the application's back: the
    bootloader checks the signature and the floor before it installs anything."""
    from pybench.engine.builtin.engine import BuiltinEngine

    lay = layout.load()
    b = build_dir()
    new = _image(1) if what == "older" else corrupt(_image(3), what)
    engine = BuiltinEngine()
    try:
        engine.load_platform(platform_file())
        engine.write_flash(lay.FLASH_BASE_ADDR, b"\xff" * lay.FLASH_TOTAL_SIZE)
        engine.load_elf(b / "boot.elf")
        engine.write_flash(lay.APP_SLOT_ADDR, _image(2))
        engine.power_on()
        engine.run_until_uart(r"^app: firmware v2\b", SECOND)    # v2 recorded: floor 2
        slot = _slot(engine)
        engine.write_flash(lay.STAGING_ADDR, new)
        # A STAGED record appended where the application's writer would put it, keeping
        # the floor as journal_append() does; only the writer's own checks are skipped.
        a, b = lay.journal
        view = journal.scan(engine.read_flash(a.addr, a.size), engine.read_flash(b.addr, b.size))
        assert view.current is not None and view.current.floor == 2 and view.next_slot is not None
        header = ImageHeader.unpack(new)
        record = journal.JournalRecord(view.current.seq + 1, journal.State.STAGED, 0, len(new),
                                       header.image_version, header.body_sha256,
                                       floor=view.current.floor)
        at = (a, b)[view.next_sector].addr + view.next_slot * lay.JOURNAL_RECORD_SIZE
        engine.write_flash(at, record.encode())
        engine.power_on()
        engine.run_until_uart(r"^app: firmware v\d+\b", SECOND)
        text = engine.uart().text
        word = "rollback" if what == "older" else what
        assert f"boot: staged image rejected: {word}" in text, text
        assert "app: firmware v3" not in text and "app: firmware v1" not in text
        assert _slot(engine) == slot
    finally:
        engine.close()
