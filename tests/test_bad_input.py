"""Bad input the bench must refuse with one line and exit status 2 (issue 16), and a
board that stops under `pybench update`, told in one line."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from pybench import layout
from pybench.cli import main
from pybench.engine.builtin.loader import elf_segments
from pybench.errors import BenchError
from pybench.image import signing
from pybench.image.elf import body_from_elf


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def truncated_elf(built: Path, tmp_path: Path) -> Path:
    """The application ELF cut in the middle of its code segment."""
    out = tmp_path / "truncated.elf"
    out.write_bytes((built / "app-v2.elf").read_bytes()[:12000])
    return out


def test_truncated_elf_is_refused_by_the_image_tool(truncated_elf: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(BenchError, match="truncated"):
        body_from_elf(truncated_elf, layout.load().APP_LOAD_ADDR)
    out = tmp_path / "t.img"
    code, _, err = _run(capsys, "image", "create", str(truncated_elf), "-o", str(out),
                        "--version", "2")
    assert code == 2 and err.count("\n") == 1 and "truncated" in err
    assert not out.exists()


def test_truncated_elf_is_refused_by_the_loader(truncated_elf: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(BenchError, match="truncated"):
        elf_segments(truncated_elf)
    code, _, err = _run(capsys, "boot", "--boot", str(truncated_elf), "--time", "1ms")
    assert code == 2 and err.count("\n") == 1 and "truncated" in err


@pytest.mark.parametrize("version", ["-1", "4294967296", "0x100000000"])
def test_version_outside_32_bits_is_one_line(built: Path, tmp_path: Path, version: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "image", "create", str(built / "app-v2.elf"),
                        "-o", str(tmp_path / "x.img"), "--version", version)
    assert code == 2 and err.count("\n") == 1 and "32-bit" in err


def test_boot_of_a_device_file_says_what_is_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "boot", "--boot", "/dev/null", "--time", "1ms")
    assert code == 2 and err.count("\n") == 1
    assert "not a regular file" in err and "no such file" not in err


def test_update_of_an_empty_file_is_refused_before_booting(
        built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.img"
    empty.write_bytes(b"")
    code, out, err = _run(capsys, "update", str(empty))
    assert code == 2 and err.count("\n") == 1 and "empty" in err
    assert "board up" not in out


def _faulting_body() -> bytes:
    """A body the checks accept whose reset handler is an undefined instruction."""
    lay = layout.load()
    code_off = 0x200
    vectors = struct.pack("<II", lay.SRAM_BASE_ADDR + lay.SRAM_TOTAL_SIZE,
                          lay.APP_LOAD_ADDR + code_off + 1)
    body = bytearray(vectors + bytes(code_off - len(vectors)))
    body += struct.pack("<H", 0xDE00) * 16          # udf #0
    return bytes(body)


def test_update_to_an_image_that_faults_is_one_line(built: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "fault.bin"
    raw.write_bytes(_faulting_body())
    img = tmp_path / "fault.img"
    assert main(["image", "create", str(raw), "-o", str(img), "--version", "7",
                 "--key", str(signing.test_key_path())]) == 0
    capsys.readouterr()
    code, out, err = _run(capsys, "update", str(img))
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert "board stopped" in out and "fault" in out
