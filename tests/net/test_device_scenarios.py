"""The same scenarios on every in-tree device, from its description alone: boot, ping,
an update over each transport it offers (upload, restart as described, the new version
runs), an upload cut off half-way that leaves the old image running, and a power-cut
campaign (boundaries + torn + depth 2). A device whose firmware is not built is skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sample_device import ROOT

from pybench.cli import main
from pybench.device import Device, load_device
from pybench.engine.base import Engine
from pybench.net import scenarios as sc

DEVICES = ("sample", "sample-flag")


def _device(name: str) -> Device:
    device = load_device(ROOT / "devices" / f"{name}.toml")
    needed = [device.firmware.bootloader, *(i.path for i in device.firmware.images.values())]
    missing = [p for p in needed if not p.is_file()]
    if missing:
        pytest.skip(f"{name}: {missing[0]} not built (make firmware)")
    return device


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> Device:
    return _device(request.param)


@pytest.fixture
def board(device: Device, tmp_path: Path) -> Iterator[Engine]:
    engine = sc.create_board("builtin", device)
    sc.attach(engine, device, seed=3, pcap=tmp_path / "wire.pcap")
    engine.power_on()
    sc.boot_and_wait(engine)
    yield engine
    (tmp_path / "wire.uart.log").write_text(engine.uart().text)
    sc.detach(engine)
    engine.close()


def _version(device: Device, role: str) -> int:
    from pybench.net.cli import image_version

    found = device.firmware.images[role]
    version = found.version if found.version is not None else \
        image_version(device, found.path.read_bytes())
    assert version is not None
    return version


def test_boot_and_ping(board: Engine, device: Device) -> None:
    assert len(sc.ping(board, count=2)) == 2
    assert any(device.console.version_of(line) == _version(device, "old")
               for line in board.uart().lines)
    assert board.cpu_state().pc in device.running_region


@pytest.mark.parametrize(("via", "role"), [("http", "new"), ("tftp", "newer")])
def test_update_runs_the_new_image(board: Engine, device: Device, via: str,
                                   role: str) -> None:
    image = device.firmware.images[role].path.read_bytes()
    result = sc.upload(board, image, via=via)
    assert result.accepted, result
    staging = device.layout.staging
    assert staging is not None and board.read_flash(staging.addr, len(image)) == image
    sc.restart(board, via)
    sc.wait_version(board, _version(device, role))
    assert board.read_flash(device.layout.app_slot.addr, len(image)) == image


@pytest.mark.parametrize("via", ["http", "tftp"])
def test_upload_cut_off_keeps_the_old_image(board: Engine, device: Device, via: str) -> None:
    old = device.firmware.images["old"].path.read_bytes()
    image = device.firmware.images["new"].path.read_bytes()
    up = sc.start_upload(board, image, via=via)
    b = sc.bench(board)
    assert b.wire.run_until(lambda: b.host.apps["upload"].sent > len(image) // 2,
                            sc.UPLOAD_TIMEOUT_NS)
    if up.http is not None:
        up.http.conn.abort()
    b.host.forget_transfers()
    b.wire.run_for(10 * sc.SECOND)
    assert board.read_flash(device.layout.app_slot.addr, len(old)) == old
    board.power_on()
    sc.wait_version(board, _version(device, "old"))


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    # our sample's depth-2 HTTP campaign takes about 25 s: marked long
    pytest.param("sample", marks=pytest.mark.long), "sample-flag"])
def test_campaign_boundaries_torn_depth_2(name: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    device = _device(name)
    code = main(["powercut", "--device", str(device.source), "--via", "http", "--plan",
                 "boundaries", "--torn", "--depth", "2", "--depth-samples", "2", "-j", "2",
                 "-q", "--reports", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "golden run: recovered-new" in out and " 0 failures" not in out
    assert (tmp_path / "powercut.json").is_file()


@pytest.mark.parametrize("name", DEVICES)
def test_backdoor_campaign(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Staged straight into flash; a device that takes its address by DHCP gets the
    bench's host on the wire during every recovery, or it would never say it is ready."""
    device = _device(name)
    code = main(["powercut", "--device", str(device.source), "--via", "backdoor", "--plan",
                 "boundaries", "--torn", "-q"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "golden run: recovered-new" in out and "cuts (recovered-new" in out
