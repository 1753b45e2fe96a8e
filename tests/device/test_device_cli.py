"""`pybench device check` and `pybench device init` on our sample device."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_device import SAMPLE, SAMPLE_PATH

from pybench.cli import main
from pybench.device import load_device


def test_check_passes_on_the_sample(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["device", "check", str(SAMPLE_PATH)]) == 0
    out = capsys.readouterr().out
    for name in ("files", "console", "ready", "version", "cpu", "address", "http", "tftp",
                 "probe"):
        assert f"ok   {name}: " in out, (name, out)
    assert "0 failed" in out


def test_check_says_what_does_not_work(built: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A description whose ready line never comes and whose TFTP port is wrong."""
    text = SAMPLE_PATH.read_text().replace("ready = '^net: up", "ready = '^never printed",
                                           1).replace("port = 69", "port = 6969")
    path = SAMPLE_PATH.parent / f".test-{tmp_path.name}.toml"
    path.write_text(text.replace("boot_timeout_s = 20", "boot_timeout_s = 2"))
    try:
        assert main(["device", "check", str(path)]) == 1
    finally:
        path.unlink()
    out = capsys.readouterr().out
    assert "FAIL ready: no console line matching '^never printed" in out
    assert "skip address: the application never said it is ready" in out


def test_check_of_a_tftp_port_that_does_not_answer(built: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    text = SAMPLE_PATH.read_text().replace("port = 69", "port = 6969", 1).replace(
        "server_timeout_s = 10", "server_timeout_s = 1")
    path = SAMPLE_PATH.parent / f".test-{tmp_path.name}.toml"
    path.write_text(text)
    try:
        assert main(["device", "check", str(path)]) == 1
    finally:
        path.unlink()
    out = capsys.readouterr().out
    assert "FAIL tftp: no answer to a write request within 1 s" in out
    assert "ok   http: " in out


def test_init_drafts_what_one_boot_shows(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "draft.toml"
    assert main(["device", "init", "--boot", str(built / "boot.elf"), "--image",
                 str(built / "app-v1.img"), "--image-addr", "0x08010000", "--format",
                 "pybench", "-o", str(out)]) == 0
    text = out.read_text()
    assert f'mac = "{SAMPLE.network.mac}"' in text
    assert f'address = "{SAMPLE.network.address}"' in text
    assert "ready = '^net: up" in text
    assert "TODO" in text        # what one boot cannot tell is marked, not invented
    # The draft is refused until the TODOs are settled, with a line naming the key.
    with pytest.raises(Exception, match=r"draft.toml: [a-z_.\[\]0-9]+: "):
        load_device(out)
