"""The host campaign (firmware/host/campaign.c) resets the bootloader's C statics before
every simulated boot, as a reset does on the chip.

campaign-static-probe is the real bootloader with a static that makes any boot after the
first in the same process give up: harmless on the chip. With the statics reset the
campaign is clean; with --keep-statics (the harness as it was) it is not.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pybench.paths import repo_root


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or shutil.which("objcopy") is None:
        pytest.skip("no host C compiler or objcopy on PATH")
    build = tmp_path_factory.mktemp("host-statics")
    target = build / "host" / "campaign-static-probe"
    result = subprocess.run(["make", "-s", "-C", str(repo_root() / "firmware"), str(target),
                             f"BUILD={build}", f"HOSTCC={cc}"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def _run(probe: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(probe), "--stride", "512", "--depth2", "2", *args],
                          capture_output=True, text=True, check=False, timeout=300)


def test_statics_are_reset_before_every_boot(probe: Path) -> None:
    run = _run(probe)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    assert " 0 failures; " in run.stdout and "statics reset" in run.stdout
    assert "a static survived" not in run.stdout


def test_without_the_reset_the_probe_fails(probe: Path) -> None:
    run = _run(probe, "--keep-statics")
    assert run.returncode == 1, run.stdout[-2000:]
    assert "FAIL" in run.stdout
