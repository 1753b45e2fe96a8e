"""`pybench image` from the command line: exit codes and one-line errors."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from pybench import layout
from pybench.cli import main
from pybench.image.format import build_image

LAY = layout.load()


@pytest.fixture
def good_bin(tmp_path: Path) -> Path:
    path = tmp_path / "app.bin"
    sp, reset = LAY.SRAM_BASE_ADDR + 0x2000, LAY.APP_LOAD_ADDR + 0x41
    path.write_bytes(struct.pack("<II", sp, reset) + b"\x00" * 2040)
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as e:   # argparse exits on its own errors
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_create_inspect_verify(good_bin: Path, tmp_path: Path, capsys) -> None:
    img = tmp_path / "app.img"
    code, out, _ = run(["image", "create", str(good_bin), "-o", str(img), "--version", "7"],
                       capsys)
    assert code == 0 and "image v7 (7.0.0)" in out
    assert run(["image", "verify", str(img)], capsys)[0] == 0
    code, out, _ = run(["image", "inspect", str(img), "--json"], capsys)
    assert code == 0 and '"image_version": 7' in out and '"verdict": "valid"' in out


@pytest.mark.parametrize("fault", ["magic", "digest", "truncate", "empty"])
def test_corrupt_then_verify_fails_with_one_line(fault: str, good_bin: Path, tmp_path: Path,
                                                 capsys) -> None:
    img, bad = tmp_path / "a.img", tmp_path / "bad.img"
    run(["image", "create", str(good_bin), "-o", str(img), "--version", "2"], capsys)
    assert run(["image", "corrupt", str(img), "-o", str(bad), "--fault", fault], capsys)[0] == 0
    code, out, _ = run(["image", "verify", str(bad)], capsys)
    assert code == 1
    assert len(out.strip().splitlines()) == 1 and "valid" not in out.replace("invalid", "")


def test_too_large(tmp_path: Path, capsys) -> None:
    big = tmp_path / "big.bin"
    sp, reset = LAY.SRAM_BASE_ADDR + 0x2000, LAY.APP_LOAD_ADDR + 0x41
    big.write_bytes(struct.pack("<II", sp, reset) + b"\0" * LAY.IMAGE_MAX_SIZE)
    code, _, err = run(["image", "create", str(big), "-o", str(tmp_path / "x.img"),
                        "--version", "1"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "larger than the" in err and "big.bin" in err


@pytest.mark.parametrize(
    "args",
    [
        ["image", "create", "missing.elf", "-o", "x.img", "--version", "1"],
        ["image", "create", "x.bin", "-o", "x.img", "--version", "one"],
        ["image", "inspect"],
        ["image", "frobnicate"],
        ["no-such-command"],
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], capsys) -> None:
    code, _, err = run(args, capsys)
    assert code == 2
    assert err.count("\n") == 1 and "error:" in err


def test_build_image_matches_cli(good_bin: Path, tmp_path: Path, capsys) -> None:
    img = tmp_path / "c.img"
    run(["image", "create", str(good_bin), "-o", str(img), "--version", "4"], capsys)
    assert img.read_bytes() == build_image(good_bin.read_bytes(), 4).to_bytes()
