from __future__ import annotations

from pathlib import Path

import pytest

from pybench import layout
from pybench.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["powercut", *argv])
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, words", [
    (["--cut", "3:sideways"], "--cut: cut '3:sideways': mode"),
    (["--torn-progress", "2"], "--torn-progress '2': values must be in 0..1"),
    (["--phase", "kitchen"], "--phase: unknown phase kitchen"),
    (["--depth", "0"], "--depth and --jobs must be 1 or more"),
    (["--export", "x"], "--export needs --cut"),
    (["--journal-fill", "999"], "--journal-fill 999: choose 1..255"),
    (["--soak", "-1"], "--soak must be 0 or more seconds"),
    (["--repair", "("], "--repair '(': not a regular expression"),
    (["--content-fault", "melted"], "--content-fault: invalid choice"),
    (["--chain", "new,,newer"], "--chain 'new,,newer': an empty link"),
    (["--chain", "new+melted"], "'melted' is not a content fault"),
    (["--chain", "no-such-role"], "--chain: no-such-role: neither an image role"),
    (["--chain", "new", "--content-fault", "flip-body"], "--chain: give each link its fault"),
    (["--flash-fault", "melted"], "--flash-fault 'melted': choose from"),
    (["--flash-fault", "silent", "--torn"], "--flash-fault: no --torn or --depth"),
])
def test_bad_options_are_one_line_errors(capsys: pytest.CaptureFixture[str],
                                         images: tuple[Path, Path, Path],
                                         argv: list[str], words: str) -> None:
    boot, old, new = images
    code, _, err = _run(capsys, "--boot", str(boot), "--from", str(old), "--to", str(new),
                        "--via", "backdoor", *argv)
    assert code == 2
    assert err.count("\n") == 1 and words in err


def test_missing_image_names_the_file(capsys: pytest.CaptureFixture[str],
                                      images: tuple[Path, Path, Path], tmp_path: Path) -> None:
    boot, old, _ = images
    code, _, err = _run(capsys, "--boot", str(boot), "--from", str(old),
                        "--to", str(tmp_path / "nope.img"), "--via", "backdoor")
    assert code == 2 and "nope.img: cannot read the image" in err


def test_replay_exports_the_flash_the_cut_left(capsys: pytest.CaptureFixture[str],
                                               built: Path, tmp_path: Path) -> None:
    code, out, _ = _run(capsys, "--boot", str(built / "boot.elf"),
                        "--from", str(built / "mini-v1.img"), "--to", str(built / "mini-v2.img"),
                        "--via", "backdoor", "--cut", "5:after", "--export",
                        str(tmp_path / "cut5"))
    assert code == 0, out
    flash = (tmp_path / "cut5.bin").read_bytes()
    # operation 0 erased the first slot sector, 1..5 programmed its first five words
    slot = layout.load().APP_SLOT_ADDR - layout.load().FLASH_BASE_ADDR
    new = (built / "mini-v2.img").read_bytes()
    assert flash[slot : slot + 20] == new[:20] and flash[slot + 20 : slot + 24] == b"\xff" * 4
    assert (tmp_path / "cut5.hex").read_text().startswith(":02000004")
    assert "st-flash --reset write" in out and "openocd" in out
