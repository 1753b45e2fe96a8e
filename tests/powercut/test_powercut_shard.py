"""Shards of a campaign (--shard K/N) and their merge: every cut in exactly one shard,
neighbours together, and the merged reports equal to the unsharded run's."""

from __future__ import annotations

import contextlib
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pybench.cli import main
from pybench.errors import BenchError
from pybench.powercut.merge import comparable, merge
from pybench.powercut.shard import Shard, parse_shard


@given(total=st.integers(0, 400), count=st.integers(1, 24))
def test_shards_split_the_plan_into_contiguous_parts_of_nearly_equal_size(
        total: int, count: int) -> None:
    items = list(range(total))
    parts = [Shard(k, count).select(items) for k in range(1, count + 1)]
    assert [x for part in parts for x in part] == items          # each once, in order
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1
    assert all(p == list(range(p[0], p[0] + len(p))) for p in parts if p)   # contiguous


@pytest.mark.parametrize("text, want", [("1/1", Shard(1, 1)), ("3/4", Shard(3, 4)),
                                        (" 2 / 7 ", Shard(2, 7))])
def test_shard_text_is_parsed(text: str, want: Shard) -> None:
    assert parse_shard(text) == want and str(want) == text.replace(" ", "")


@pytest.mark.parametrize("text, words", [("0/4", "K must be between 1 and N"),
                                         ("5/4", "K must be between 1 and N"),
                                         ("2", "is not K/N"), ("a/b", "is not K/N")])
def test_bad_shard_text_says_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_shard(text)


# --- shard + merge on the real firmware (a bootloader known to fail) --------------------
SHARDS = 3


def _powercut(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["powercut", *argv])
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def campaign_args(built: Path) -> list[str]:
    boot = built / "variants" / "boot-bug-done-early.elf"
    if not boot.exists():
        pytest.skip(f"{boot} missing: run `make firmware`")
    return ["--via", "backdoor", "--from", str(built / "mini-v1.img"),
            "--to", str(built / "mini-v2.img"), "--boot", str(boot),
            "--plan", "boundaries", "--torn", "--seed", "3", "-q"]


def _quiet_powercut(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["powercut", *argv])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shards")


@pytest.fixture(scope="module")
def unsharded_and_merged(campaign_args: list[str], folder: Path) -> tuple[Path, Path, str]:
    code, _ = _quiet_powercut(*campaign_args, "--reports", str(folder / "whole"))
    assert code == 1               # the variant fails some cuts
    for k in range(1, SHARDS + 1):
        code, _ = _quiet_powercut(*campaign_args, "--shard", f"{k}/{SHARDS}",
                                  "--reports", str(folder / f"shard{k}"))
        assert code in (0, 1)
    code, out = _quiet_powercut("merge", *[str(folder / f"shard{k}")
                                           for k in range(SHARDS, 0, -1)],
                                "--reports", str(folder / "merged"))
    assert code == 1               # a failing cut fails the merged campaign too
    return folder / "whole", folder / "merged", out


def test_each_shard_runs_its_part_of_the_plan(unsharded_and_merged: tuple[Path, Path, str],
                                               folder: Path) -> None:
    whole, _, _ = unsharded_and_merged
    cuts = [c["cut"] for c in json.loads((whole / "powercut.json").read_text())["cuts"]]
    parts = [[c["cut"] for c in json.loads((folder / f"shard{k}" / "powercut.json")
                                           .read_text())["cuts"]]
             for k in range(1, SHARDS + 1)]
    assert [c for p in parts for c in p] == cuts
    assert all(parts)


def test_merged_json_equals_the_unsharded_run(
        unsharded_and_merged: tuple[Path, Path, str]) -> None:
    whole, merged, out = unsharded_and_merged
    a = json.loads((whole / "powercut.json").read_text())
    b = json.loads((merged / "powercut.json").read_text())
    assert a["summary"]["failures"] > 0
    assert comparable(a) == comparable(b)
    assert [c["repro"] for c in a["cuts"]] == [c["repro"] for c in b["cuts"]]
    for c in b["cuts"]:
        if c["verdict"].startswith("recovered"):
            continue
        assert c["uart"] and c["repro"] in out          # printed with its replay command
        assert (merged / "cuts" / c["flash"]).is_file()  # the shard's flash.bin came along


def _junit_cases(path: Path) -> list[tuple[str, str, str | None, str | None]]:
    suite = ET.parse(path).getroot()
    out = []
    for case in suite.iter("testcase"):
        fail = case.find("failure")
        out.append((case.get("classname", ""), case.get("name", ""),
                    None if fail is None else fail.get("message"),
                    None if fail is None else fail.text))
    return out


def test_merged_junit_sarif_and_html_equal_the_unsharded_run(
        unsharded_and_merged: tuple[Path, Path, str]) -> None:
    whole, merged, _ = unsharded_and_merged
    assert _junit_cases(whole / "powercut-junit.xml") == _junit_cases(
        merged / "powercut-junit.xml")
    sarif_a = json.loads((whole / "powercut.sarif").read_text())
    assert sarif_a["runs"][0]["results"]
    assert sarif_a == json.loads((merged / "powercut.sarif").read_text())

    def picture_and_failures(page: str) -> str:
        return page[page.index("<svg") :]

    def timeless(page: str) -> str:   # wall time and recoveries run depend on the split
        return re.sub(r"<tr><th>(wall time|recoveries run|jobs)</th>.*?</tr>", "", page,
                      flags=re.S)

    page_a = (whole / "powercut.html").read_text()
    page_b = (merged / "powercut.html").read_text()
    assert picture_and_failures(page_a) == picture_and_failures(page_b)
    assert timeless(page_a).count("<tr>") == timeless(page_b).count("<tr>")


def test_merge_needs_every_shard_once(unsharded_and_merged: tuple[Path, Path, str],
                                      folder: Path, tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"need shards 1..3 once each: missing \[2\]"):
        merge([folder / "shard1", folder / "shard3"], tmp_path / "out")
    with pytest.raises(BenchError, match=r"twice \[1\]"):
        merge([folder / "shard1", folder / "shard1", folder / "shard3"],
              tmp_path / "out")
    with pytest.raises(BenchError, match="ran without --shard"):
        merge([folder / "whole"], tmp_path / "out")
    with pytest.raises(BenchError, match="cannot read"):
        merge([folder / "nowhere"], tmp_path / "out")


def test_merge_refuses_shards_of_another_campaign(
        unsharded_and_merged: tuple[Path, Path, str], folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "shard2-other"
    data = json.loads((folder / "shard2" / "powercut.json").read_text())
    data["seed"] = 99
    other.mkdir()
    (other / "powercut.json").write_text(json.dumps(data))
    with pytest.raises(BenchError, match=r"another campaign.*seed differ"):
        merge([folder / "shard1", other, folder / "shard3"], tmp_path / "out")


def test_shard_option_errors_are_one_line(capsys: pytest.CaptureFixture[str],
                                          campaign_args: list[str]) -> None:
    code, _, err = _powercut(capsys, *campaign_args, "--shard", "4/3")
    assert code == 2 and err.count("\n") == 1 and "--shard '4/3'" in err
