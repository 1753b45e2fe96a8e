"""`pybench powercut merge DIR...`: shard reports joined into the campaign's reports.

Each DIR holds the reports of one `--shard K/N` run of the same campaign (same options,
seed and golden run). The cut records are put back in cut order, `joined` is marked
again over the whole campaign (an earlier cut of another shard may have judged the same
state), and JSON, JUnit, HTML and SARIF are written by the same code as an unsharded
run's, from a CampaignResult rebuilt from the records. What may differ from the
unsharded run is what depends on where the cuts ran: wall times, and which cuts ran
their recovery rather than finding its state judged (`ran`, `recoveries_run`): see
comparable().
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pybench.device import load_device
from pybench.device.model import Device
from pybench.engine.base import Engine
from pybench.errors import BenchError
from pybench.powercut import report, sarif
from pybench.powercut.bands import RunsTrace
from pybench.powercut.campaign import CampaignConfig, CampaignResult
from pybench.powercut.cutspec import parse_path, path_key
from pybench.powercut.oracle import Judgement, UpdateFacts, Verdict
from pybench.powercut.phases import Phase
from pybench.powercut.plan import PlanKind, PlanOptions
from pybench.powercut.runner import CutResult, Golden, mark_joined
from pybench.powercut.scenario import Scenario
from pybench.powercut.shard import parse_shard

REPORT = "powercut.json"
# Settings that say how a part of the campaign ran, not what the campaign is.
RUN_SETTINGS = ("shard", "jobs", "cluster", "scheduler")


def load_shard(folder: Path) -> dict[str, Any]:
    path = folder / REPORT
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except OSError as e:
        raise BenchError(f"{path}: cannot read ({e.strerror})") from None
    except json.JSONDecodeError as e:
        raise BenchError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
    for key in ("seed", "options", "settings", "golden", "summary", "cuts"):
        if key not in data:
            raise BenchError(f"{path}: not a powercut report (no {key!r})")
    if "shard" not in data["settings"]:
        raise BenchError(f"{path}: not a shard's report (it ran without --shard)")
    if "phase_runs" not in data["golden"]:
        raise BenchError(f"{path}: written by an older pybench (no golden phase_runs)")
    return data


def _campaign(data: Mapping[str, Any]) -> dict[str, Any]:
    """What every shard of one campaign must agree on."""
    return {"seed": data["seed"], "options": data["options"],
            "settings": {k: v for k, v in data["settings"].items() if k not in RUN_SETTINGS},
            "golden": data["golden"]}


def check_shards(folders: Sequence[Path], shards: Sequence[Mapping[str, Any]]) -> None:
    try:
        parts = [parse_shard(str(s["settings"]["shard"])) for s in shards]
    except ValueError as e:
        raise BenchError(f"merge: shard setting {e}") from None
    counts = {p.count for p in parts}
    if len(counts) != 1:
        raise BenchError(f"merge: the shards come from different splits ({sorted(counts)})")
    n = counts.pop()
    have = sorted(p.index for p in parts)
    if have != list(range(1, n + 1)):
        missing = sorted(set(range(1, n + 1)) - set(have))
        twice = sorted({k for k in have if have.count(k) > 1})
        raise BenchError(f"merge: need shards 1..{n} once each: missing {missing or 'none'}, "
                         f"twice {twice or 'none'}")
    first = _campaign(shards[0])
    for folder, s in zip(folders[1:], shards[1:], strict=True):
        other = _campaign(s)
        for key in first:
            if other[key] != first[key]:
                raise BenchError(f"merge: {folder} is another campaign than {folders[0]} "
                                 f"(its {key} differ)")


def plan_options(described: Mapping[str, Any]) -> PlanOptions:
    """The inverse of PlanOptions.describe()."""
    phases = described["phases"]
    return PlanOptions(
        kind=PlanKind(described["plan"]), seed=int(described["seed"]),
        random_count=int(described["random"]), torn=bool(described["torn"]),
        torn_progress=tuple(float(p) for p in described["torn_progress"]),
        torn_seeds=int(described["torn_seeds"]),
        phases=None if phases == "all" else frozenset(Phase(p) for p in phases),
        depth=int(described["depth"]), depth_samples=int(described["depth_samples"]))


def _result(rec: Mapping[str, Any]) -> CutResult:
    return CutResult(
        path=parse_path(str(rec["cut"])), verdict=Verdict(rec["verdict"]),
        reason=str(rec["reason"]), phase=str(rec["phase"]), op=dict(rec["operation"]),
        recovery_ns=int(rec["recovery_ns"]), wall_s=float(rec["wall_s"]),
        state=str(rec["state"]), uart=str(rec.get("uart", "")),
        flash_file=rec.get("flash"), ran=bool(rec.get("ran", False)),
        repaired=str(rec.get("repaired", "")))


def _no_engine() -> Engine:
    raise BenchError("a merged campaign has no engine: replay a cut with its command")


def _no_scenario() -> Scenario:
    raise BenchError("a merged campaign has no scenario: replay a cut with its command")


def _repro_base(records: Sequence[Mapping[str, Any]], fallback: str) -> str:
    for rec in records:
        tail = f" --cut {rec['cut']}"
        if str(rec["repro"]).endswith(tail):
            return str(rec["repro"])[: -len(tail)]
    return fallback


def _device(settings: Mapping[str, Any]) -> Device:
    """The campaign's device description (its layout names the phases of the picture)."""
    if "device" not in settings:
        raise BenchError("merge: the shards' reports name no device description")
    try:
        return load_device(Path(str(settings["device"])))
    except BenchError as e:
        raise BenchError(f"merge: {e}") from None


def rebuild(shards: Sequence[Mapping[str, Any]]) -> CampaignResult:
    """One CampaignResult of all the shards' cuts, as the unsharded run would have it."""
    first = shards[0]
    records = [rec for s in shards for rec in s["cuts"]]
    results = sorted((_result(rec) for rec in records), key=lambda r: path_key(r.path))
    mark_joined(results)
    g = first["golden"]
    device = _device(first["settings"])
    golden = Golden(trace=list(RunsTrace(g["phase_runs"], int(g["operations"]))), snaps=[],
                    initial_flash=b"", facts=UpdateFacts(b"", b"", b"", device),
                    judgement=Judgement(Verdict(g["verdict"]), str(g["reason"])),
                    uart=str(g["uart"]), commit=None)
    settings = {k: v for k, v in first["settings"].items() if k != "shard"}
    config = CampaignConfig(make_engine=_no_engine, make_scenario=_no_scenario,
                            options=plan_options(first["options"]), quiet=True,
                            repro=_repro_base(records, "pybench powercut"), settings=settings)
    wall = max(float(s["summary"]["wall_s"]) for s in shards)  # shards run side by side
    return CampaignResult(config, golden, results, wall)


def merged_json(result: CampaignResult, shards: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """report.to_json of the rebuilt result, with each failing cut's source lines as its
    shard found them (the merge may run where the ELF files are not)."""
    data = report.to_json(result)
    if "wear" in shards[0]["summary"]:   # the golden run's, which the merge has no trace of
        data["summary"]["wear"] = shards[0]["summary"]["wear"]
    sources = {rec["cut"]: rec.get("source", []) for s in shards for rec in s["cuts"]
               if "source" in rec}
    for rec in data["cuts"]:
        if "source" in rec:
            rec["source"] = sources.get(rec["cut"], [])
    return data


def merge(folders: Sequence[Path], out: Path) -> tuple[CampaignResult, list[Path]]:
    if not folders:
        raise BenchError("merge: give the shards' report folders")
    shards = [load_shard(f) for f in folders]
    check_shards(folders, shards)
    result = rebuild(shards)
    data = merged_json(result, shards)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "powercut.json", out / "powercut-junit.xml", out / "powercut.html",
             out / "powercut.sarif"]
    files[0].write_text(json.dumps(data, indent=1) + "\n")
    files[1].write_text(report.to_junit(result))
    # The shards' flash.bin files are copied to out/cuts/ below: the page links there.
    result.config.flash_dir = out / "cuts"
    files[2].write_text(report.to_html(result, out))
    files[3].write_text(json.dumps(sarif.to_sarif(data), indent=1) + "\n")
    for folder in folders:   # failing cuts' flash.bin and uart.txt
        if (folder / "cuts").is_dir():
            shutil.copytree(folder / "cuts", out / "cuts", dirs_exist_ok=True)
    return result, files


def comparable(data: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON report without what depends on where and how fast its cuts ran: wall
    times, rates, which cuts ran their recovery, and the run settings (shard, jobs,
    cluster). Two runs of one campaign must agree on the rest."""
    out = json.loads(json.dumps(data))
    for key in ("wall_s", "cuts_per_s", "recoveries_run"):
        out["summary"].pop(key, None)
    for key in RUN_SETTINGS:
        out["settings"].pop(key, None)
    for rec in out["cuts"]:
        rec.pop("wall_s", None)
        rec.pop("ran", None)
    return dict(out)
