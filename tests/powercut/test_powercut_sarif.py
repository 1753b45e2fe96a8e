"""SARIF reports: valid against the SARIF 2.1.0 schema, one result per failing cut with
its verdict and replay command, pointing at lines of the firmware's source (from the
ELF's DWARF line table)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from elftools.elf.elffile import ELFFile
from sample_device import SAMPLE

from pybench.paths import build_dir
from pybench.powercut import report, sarif
from pybench.powercut.campaign import CampaignConfig, CampaignResult, run_campaign
from pybench.powercut.plan import PlanKind, PlanOptions
from pybench.powercut.scenario import BackdoorScenario
from pybench.powercut.sourcelines import line_table, locate

SCHEMA = Path(__file__).parents[1] / "data" / "sarif" / "sarif-2.1.0.json"
REPO = Path(__file__).parents[2]


def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def bad_campaign(built: Path) -> tuple[CampaignResult, dict[str, Any]]:
    """The bootloader that records DONE before copying: lost updates and lock-ups."""
    from pybench.engine.builtin.engine import BuiltinEngine

    boot = built / "variants" / "boot-bug-done-early.elf"
    old, new = built / "mini-v1.img", built / "mini-v2.img"
    config = CampaignConfig(
        make_engine=BuiltinEngine,
        make_scenario=lambda: BackdoorScenario(SAMPLE, boot, old, new),
        options=PlanOptions(kind=PlanKind.BOUNDARIES, torn=True, seed=1), quiet=True,
        repro=f"pybench powercut --boot {boot} --via backdoor",
        settings={"boot": str(boot), "from": str(old), "to": str(new), "via": "backdoor"})
    result = run_campaign(config)
    assert result.failures
    return result, sarif.to_sarif(report.to_json(result))


def test_sarif_validates_against_the_schema(
        bad_campaign: tuple[CampaignResult, dict[str, Any]]) -> None:
    _, log = bad_campaign
    errors = [e.message for e in _validator().iter_errors(log)]
    assert errors == []


def test_the_validator_rejects_a_broken_log(
        bad_campaign: tuple[CampaignResult, dict[str, Any]]) -> None:
    _, log = bad_campaign
    broken = copy.deepcopy(log)
    del broken["runs"][0]["results"][0]["message"]
    broken["runs"][0]["results"][1]["level"] = "catastrophic"
    assert len(list(_validator().iter_errors(broken))) == 2


def test_each_failing_cut_is_a_result_with_verdict_and_replay(
        bad_campaign: tuple[CampaignResult, dict[str, Any]]) -> None:
    result, log = bad_campaign
    run = log["runs"][0]
    results = run["results"]
    assert [r["properties"]["cut"] for r in results] == [
        report.format_path(f.path) for f in result.failures]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for r, f in zip(results, result.failures, strict=True):
        assert r["ruleId"] == f.verdict.value == rule_ids[r["ruleIndex"]]
        assert result.repro(f.path) in r["message"]["text"]
        assert r["properties"]["replay"] == result.repro(f.path)


def test_locations_are_lines_of_the_bootloader_source(
        bad_campaign: tuple[CampaignResult, dict[str, Any]]) -> None:
    _, log = bad_campaign
    for r in log["runs"][0]["results"]:
        for loc in [*r["locations"], *r.get("relatedLocations", [])]:
            phys = loc["physicalLocation"]
            uri = phys["artifactLocation"]["uri"]
            source = (REPO / uri) if "://" not in uri else Path(uri[len("file://"):])
            assert source.suffix in (".c", ".h", ".s", ".S"), uri
            lines = source.read_text().splitlines()
            assert 1 <= phys["region"]["startLine"] <= len(lines)


def test_a_lock_up_points_at_the_instruction_that_ran(
        bad_campaign: tuple[CampaignResult, dict[str, Any]]) -> None:
    result, log = bad_campaign
    locked = [(r, f) for r, f in zip(log["runs"][0]["results"], result.failures, strict=True)
              if "locked up" in f.reason]
    assert locked, "the done-early bootloader locks up after a cut in the copy"
    for r, f in locked:
        pc = sarif.judged_pc(f.reason)
        assert pc is not None
        assert f"pc 0x{pc:08x}" in r["locations"][0]["message"]["text"]
        assert "running when the board was judged" in r["locations"][0]["message"]["text"]
        assert r["relatedLocations"][0]["message"]["text"].startswith(
            "started the cut flash operation")


@pytest.mark.parametrize("reason, pc", [
    ("CPU locked up at pc 0x0800054a", 0x0800054A),
    ("CPU in fault handler (IPSR 3) at pc 0x08000abc", 0x08000ABC),
    ("no ready line after 30.000 s, CPU at 0x20000100, application slot holds neither "
     "image", 0x20000100),
    ("ready line printed but CPU at 0x08001234, outside the application slot", 0x08001234),
    ("no ready line after 30.000 s, CPU in the bootloader", None),
    ("application slot matches neither image (differs from the new one at 0x08010adc)", None),
    ("bootloader sector changed (first at 0x08000010)", None),
])
def test_the_judged_pc_is_read_from_the_oracles_reason(reason: str, pc: int | None) -> None:
    assert sarif.judged_pc(reason) == pc


def _symbol(elf: Path, name: str) -> int:
    with elf.open("rb") as f:
        sym = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name(name)  # type: ignore[union-attr]
        return int(sym[0]["st_value"]) & ~1


@pytest.mark.parametrize("function, file", [("main", "boot/main.c"),
                                            ("journal_append", "common/journal.c")])
def test_a_function_address_maps_to_its_definition(built: Path, function: str,
                                                   file: str) -> None:
    elf = built / "boot.elf"
    found = locate(_symbol(elf, function), [elf])
    assert found is not None
    _, line = found
    assert line.file.endswith(file)
    text = Path(line.file).read_text().splitlines()
    # the first line of a function's code is at or just after its opening line
    assert any(function in t for t in text[max(0, line.line - 4) : line.line])


def test_an_address_outside_the_code_has_no_line(built: Path) -> None:
    table = line_table(built / "boot.elf")
    assert table is not None
    assert table.lookup(0x2000_0000) is None
    assert line_table(build_dir() / "no-such.elf") is None
