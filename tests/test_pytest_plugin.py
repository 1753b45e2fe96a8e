"""The pytest plugin's fixtures (pybench/pytest_plugin.py), used as a user's tests would
use them: a board of the device (our sample device by default), its network host, an
update, a power-cut campaign."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pybench.device.model import Device
from pybench.engine.base import Engine
from pybench.net import scenarios
from pybench.net.host import Host
from pybench.powercut.oracle import Verdict


def test_the_options_are_registered(pytestconfig: pytest.Config, pybench_engine: str,
                                    pybench_device: Device) -> None:
    assert pytestconfig.getoption("--engine") in (None, "builtin", "renode")
    assert pybench_engine in ("builtin", "renode")
    assert pybench_device.source.is_file() and pybench_device.source.suffix == ".toml"


def test_the_board_is_booted_and_answers_its_host(pybench_board: Engine,
                                                   pybench_host: Host,
                                                   pybench_device: Device) -> None:
    ready = re.compile(pybench_device.console.ready, re.M)
    assert ready.search(pybench_board.uart().text)
    rtts = scenarios.ping(pybench_board, count=2)
    assert len(rtts) == 2 and all(rtt > 0 for rtt in rtts)
    assert pybench_host.arp_cache.get(str(pybench_device.network.address)) == \
        pybench_device.network.mac


def test_an_update_over_http_runs_the_new_version(pybench_board: Engine,
                                                  pybench_update: Callable[..., Any],
                                                  pybench_images: dict[str, Path],
                                                  pybench_device: Device) -> None:
    result = pybench_update(pybench_images["new"])
    assert result.accepted, result
    data = pybench_images["new"].read_bytes()
    slot = pybench_device.layout.region("app")
    assert pybench_board.read_flash(slot.addr, len(data)) == data


def test_a_rejected_update_leaves_the_old_image(pybench_board: Engine,
                                                pybench_update: Callable[..., Any],
                                                pybench_images: dict[str, Path],
                                                pybench_device: Device) -> None:
    data = bytearray(pybench_images["new"].read_bytes())
    data[-1] ^= 0xFF                                   # the body's digest no longer holds
    result = pybench_update(bytes(data))
    assert not result.accepted
    old = pybench_images["old"].read_bytes()
    slot = pybench_device.layout.region("app")
    assert pybench_board.read_flash(slot.addr, len(old)) == old


def test_a_campaign_of_a_bad_bootloader_fails_with_reports(
        pybench_campaign: Callable[..., Any], pybench_device: Device,
        tmp_path: Path) -> None:
    bad = pybench_device.firmware.bootloader.parent / "variants" / "boot-bug-done-early.elf"
    if not bad.is_file():
        pytest.skip(f"{bad} missing: run `make firmware`")
    result = pybench_campaign(via="backdoor", boot=bad, plan="boundaries", reports=True)
    assert result.golden_ok
    assert {r.verdict for r in result.failures} & {Verdict.LOST_UPDATE, Verdict.BRICKED}
    assert (tmp_path / "powercut" / "powercut.sarif").is_file()
    assert "--device" in result.repro(result.failures[0].path)
