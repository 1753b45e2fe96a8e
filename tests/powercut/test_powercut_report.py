from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pc_types import CampaignFn

from pybench.powercut import report
from pybench.powercut.campaign import CampaignResult
from pybench.powercut.plan import PlanKind


@pytest.fixture
def bad(fake_campaign: CampaignFn) -> CampaignResult:
    result = fake_campaign(bug="done-early", kind=PlanKind.BOUNDARIES, torn=True, seed=11)
    assert result.failures
    return result


def test_json_lists_every_cut_with_its_replay(bad: CampaignResult) -> None:
    data = json.loads(json.dumps(report.to_json(bad)))
    assert data["seed"] == 11 and data["options"]["torn"] is True
    assert len(data["cuts"]) == len(bad.results)
    assert data["summary"]["failures"] == len(bad.failures)
    for cut, r in zip(data["cuts"], bad.results, strict=True):
        assert cut["verdict"] == r.verdict.value and cut["op"] == r.path[0].op_index
        assert cut["repro"].endswith("--cut " + cut["cut"])
        assert ("uart" in cut) == (not r.verdict.ok)
    torn = [c for c in data["cuts"] if c["mode"] == "torn"]
    assert torn and all("progress" in c and "seed" in c for c in torn)


def test_junit_has_one_testcase_per_cut_and_failures_as_failures(bad: CampaignResult) -> None:
    suite = ET.fromstring(report.to_junit(bad))
    cases = suite.findall("testcase")
    assert len(cases) == len(bad.results)
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == len(bad.failures) == int(suite.get("failures", "-1"))
    assert "--cut" in (failed[0].find("failure").text or "")  # type: ignore[union-attr]
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["seed"] == "11"


def test_html_is_self_contained_with_picture_and_failures(bad: CampaignResult,
                                                           tmp_path: Path) -> None:
    files = report.write_reports(bad, tmp_path / "rep")
    page = files[2].read_text()
    assert "<svg" in page and "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert page.count("<circle") == len(bad.results)
    first = bad.failures[0]
    assert bad.repro(first.path).replace("'", "&#x27;") in page
    assert first.flash_file
    href = page.split('<a href="', 1)[1].split('"', 1)[0]
    assert href.endswith(first.flash_file) and (files[2].parent / href).is_file()
    assert "seed" in page and "11" in page
    # the SVG part parses as XML
    svg = page[page.index("<svg") : page.index("</svg>") + 6]
    assert ET.fromstring(svg).tag.endswith("svg")


def test_html_escapes_console_text(bad: CampaignResult) -> None:
    bad.failures[0].uart = "<b>boot</b> & \"x\""
    page = report.to_html(bad)
    assert "<b>boot</b>" not in page and "&lt;b&gt;boot&lt;/b&gt;" in page


def test_a_failing_golden_run_counts_as_a_failure(fake_campaign: CampaignFn) -> None:
    result = fake_campaign(bug="never-copies", kind=PlanKind.BOUNDARIES)
    assert not result.golden_ok and result.results == []
    s = report.summary(result)
    assert s["failures"] == 1 and s["golden_failed"] is True
    assert report.to_json(result)["summary"]["failures"] == 1
    suite = ET.fromstring(report.to_junit(result))
    assert suite.get("tests") == "1" and suite.get("failures") == "1"
    assert len(suite.findall("testcase/failure")) == 1
