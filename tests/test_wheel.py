"""The bench installed from its wheel into a fresh virtual environment, outside this
repository, works from a device description alone: no checkout, no PYBENCH_ROOT.

The wheel is built from this checkout; the new environment gets only the wheel (its
dependencies are taken from the test environment through a .pth file, so the test does
not download them again). The description is our second sample device's (sample-flag:
DHCP, a login step, raw binaries, a flag word), copied out of the tree with absolute
paths to the firmware this checkout built."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from sample_device import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                            str(work / "dist"), str(ROOT)], capture_output=True, text=True,
                           check=False)
    if build.returncode:
        pytest.fail(f"pip wheel failed:\n{build.stderr[-2000:]}")
    (wheel,) = (work / "dist").glob("stm32_update_bench-*.whl")
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], capture_output=True, text=True,
                             check=True).stdout.strip()
    Path(purelib, "test-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    return env_dir


def _run(env_dir: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYBENCH_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(env_dir / "bin" / "pybench"), *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def _description(built: Path, where: Path) -> Path:
    source = ROOT / "devices" / "sample-flag.toml"
    if not (built / "sample-flag" / "boot.elf").is_file():
        pytest.skip("build/sample-flag not built (make firmware)")
    text = source.read_text().replace("${PYBENCH_BUILD:-../build}", str(built))
    path = where / "my-device.toml"
    path.write_text(text)
    return path


def test_version_and_help_without_a_checkout(installed: Path, tmp_path: Path) -> None:
    done = _run(installed, tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.startswith("pybench "), done.stderr
    done = _run(installed, tmp_path, "device", "check")
    assert done.returncode == 2
    assert done.stderr.strip() == ("pybench: error: no device description: pass --device "
                                   "FILE (or set $PYBENCH_DEVICE)")


def test_check_and_a_campaign_from_a_description(installed: Path, built: Path,
                                                 tmp_path: Path) -> None:
    desc = _description(built, tmp_path)
    check = _run(installed, tmp_path, "device", "check", str(desc))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ok   tftp:" in check.stdout and "(by DHCP)" in check.stdout
    campaign = _run(installed, tmp_path, "powercut", "--device", str(desc), "--via",
                    "http", "--plan", "random", "--random", "6", "-q", "--reports",
                    str(tmp_path / "reports"))
    assert campaign.returncode == 0, campaign.stdout + campaign.stderr
    assert "6 cuts" in campaign.stdout and (tmp_path / "reports" / "powercut.json").is_file()
    # The installed package is the wheel's, not this checkout's.
    where = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import pybench, sys; print(pybench.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True)
    assert str(installed) in where.stdout
