"""`pybench boot`: console lines, summary, exit status, errors as one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pybench.cli import main
from pybench.engine.cli import parse_duration
from pybench.errors import BenchError


@pytest.mark.parametrize(("text", "ns"), [
    ("2s", 2_000_000_000), ("150ms", 150_000_000), ("20us", 20_000), ("7ns", 7),
    ("0.5", 500_000_000), ("1.5ms", 1_500_000),
])
def test_durations(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["", "2x", "ms", "-1s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(BenchError, match="--time"):
        parse_duration(text)


def test_boot_until_matches(fw_elf: Callable[..., Path],
                            capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["boot", "--elf", str(fw_elf("systick")), "--time", "1s", "--until", "tick 20"])
    out = capsys.readouterr().out.splitlines()
    assert rc == 0
    assert out[:3] == ["hello from systick", "tick 10", "tick 20"]
    summary = [line for line in out if line.startswith("boot:")]
    assert summary[0].startswith("boot: condition at 20.0")
    assert "faults: 0" in summary[0]
    assert out[-1] == "unmodelled registers: none"


def test_boot_until_not_seen_fails(fw_elf: Callable[..., Path],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["boot", "--elf", str(fw_elf("fault")), "--time", "5ms", "--until", "never"])
    out = capsys.readouterr().out.splitlines()
    assert rc == 1
    assert out[0] == "about to fault"
    # The fault ends the run with a line naming it, its registers and the PC.
    summary = next(line for line in out if line.startswith("boot:"))
    assert summary.startswith("boot: fault at")
    assert "undefined instruction" in summary and "CFSR=0x00010000" in summary
    assert "HFSR=0x40000000" in summary and "PC=0x" in summary


def test_boot_time_runs_out(fw_elf: Callable[..., Path],
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["boot", "--elf", str(fw_elf("systick")), "--time", "12ms"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert next(line for line in out if line.startswith("boot:")).startswith(
        "boot: deadline at 12.000 ms")


def test_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["boot", "--elf", str(tmp_path / "none.elf")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "none.elf: no such file" in err


def test_boot_lists_the_registers_it_does_not_model(fw_elf: Callable[..., Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["boot", "--elf", str(fw_elf("fault", "UNMODELLED")), "--time", "5ms"]) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index("unmodelled registers (2, read as 0, writes dropped):")
    assert out[at + 1].startswith("  TIM8+0x000 (0x40010400): read at pc 0x")
    assert out[at + 2].startswith("  TIM8+0x004 (0x40010404): write at pc 0x")
    assert len(out) == at + 3


def test_boot_strict_ends_at_the_busfault(fw_elf: Callable[..., Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["boot", "--strict", "--elf", str(fw_elf("fault", "UNMODELLED")),
               "--time", "5ms"])
    out = capsys.readouterr().out.splitlines()
    assert rc == 1
    summary = next(line for line in out if line.startswith("boot:"))
    assert "BusFault: read at TIM8+0x000, not modelled (strict), 0x40010400" in summary
    assert "BFAR=0x40010400" in summary
