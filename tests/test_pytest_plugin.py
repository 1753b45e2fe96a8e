"""The pytest plugin's fixtures (pybench/pytest_plugin.py), used as a user's tests would
use them: a board of our firmware, its network host, an update, a power-cut campaign."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pybench import layout
from pybench.engine.base import Engine
from pybench.net import scenarios
from pybench.net.host import Host
from pybench.powercut.oracle import Verdict
from pybench.pytest_plugin import Firmware


def test_the_engine_option_is_registered(pytestconfig: pytest.Config,
                                         pybench_engine: str) -> None:
    assert pytestconfig.getoption("--engine") in (None, "builtin", "renode")
    assert pybench_engine in ("builtin", "renode")


def test_the_board_is_booted_and_answers_its_host(pybench_board: Engine,
                                                   pybench_host: Host) -> None:
    assert "net: up" in pybench_board.uart().text
    rtts = scenarios.ping(pybench_board, count=2)
    assert len(rtts) == 2 and all(rtt > 0 for rtt in rtts)
    assert pybench_host.now_ns > 0 and pybench_host.arp_cache   # it learnt the board's MAC


def test_an_update_over_http_runs_the_new_version(pybench_board: Engine,
                                                  pybench_update: Callable[..., Any],
                                                  pybench_firmware: Firmware) -> None:
    image = pybench_firmware.image("app-v2.img")
    result = pybench_update(image)
    assert result.accepted, result
    assert scenarios.status(pybench_board)["version_number"] == 2
    data = image.read_bytes()
    assert pybench_board.read_flash(layout.load().APP_SLOT_ADDR, len(data)) == data


def test_a_rejected_update_leaves_the_old_version(pybench_board: Engine,
                                                  pybench_update: Callable[..., Any],
                                                  pybench_firmware: Firmware) -> None:
    data = bytearray(pybench_firmware.image("app-v2.img").read_bytes())
    data[-1] ^= 0xFF                                   # the body's digest no longer holds
    result = pybench_update(bytes(data))
    assert not result.accepted
    assert scenarios.status(pybench_board)["version_number"] == 1


def test_a_campaign_of_a_bad_bootloader_fails_with_reports(
        pybench_campaign: Callable[..., Any], pybench_firmware: Firmware,
        tmp_path: Path) -> None:
    bad = pybench_firmware.image("variants/boot-bug-done-early.elf")
    result = pybench_campaign(pybench_firmware.image("app-v2.img"), via="backdoor",
                              boot=bad, plan="boundaries", phases=None, reports=True)
    assert result.golden_ok
    assert {r.verdict for r in result.failures} & {Verdict.LOST_UPDATE, Verdict.BRICKED}
    assert (tmp_path / "powercut" / "powercut.sarif").is_file()
