from __future__ import annotations

from pathlib import Path

import pytest

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
