"""The `pybench` command as a whole: every part's subcommand is there, errors are one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pybench.cli import COMMAND_MODULES, main

SUBCOMMANDS = ("image", "boot", "update", "ping", "bridge", "powercut", "demo", "bench")


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"\n    {name} " in out, name
    assert len(COMMAND_MODULES) == len(set(COMMAND_MODULES))


@pytest.mark.parametrize("argv", [["boot", "--time", "soon"], ["powercut", "--plan", "all"],
                                  ["update", "--via", "carrier-pigeon", "x.img"]])
def test_wrong_option_is_one_line_exit_2(argv: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)            # checked after parsing: BenchError, one line
    except SystemExit as e:          # refused by the parser itself
        code = int(e.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err


def test_missing_bootloader_is_one_line(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["boot", "--boot", str(tmp_path / "nope.elf"), "--time", "1ms"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "nope.elf" in err


def test_demo_without_sweep_updates_twice(built: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--no-sweep", "--reports", str(tmp_path)])
    report = json.loads((tmp_path / "demo.json").read_text())
    assert code == 0 and report["ok"], report
    names = [s["name"] for s in report["steps"]]
    assert names == ["boot the old image", "ping", "update to the new image over HTTP",
                     "update to the newer image over TFTP"]
    assert report["steps"][-1]["detail"].endswith("v3 on the network")
    assert "app: firmware v3 (3.0.0) starting" in (tmp_path / "updates.uart.log").read_text()
    assert (tmp_path / "updates.pcap").stat().st_size > 1000
