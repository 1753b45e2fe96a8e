"""SARIF 2.1.0 (the format GitHub code scanning reads) from a campaign's JSON report.

Each failing cut is one result: its verdict is the rule, its message says the cut, the
reason and the replay command, and its location is a line of the firmware's source: the
instruction that was running when the board was judged (when the oracle's reason names
the CPU's pc: a fault, a lock-up, no ready line), else the instruction that started the
cut flash operation. Both come from the ELF's DWARF line table (sourcelines.py) while
the campaign runs, and are kept in the JSON report (`source` of a failing cut), so that
`to_sarif` is pure and `pybench powercut merge` can write SARIF without the ELF files.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pybench import __version__
from pybench.powercut.sourcelines import locate

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL = "pybench powercut"

RULES = {
    "bricked": "The board did not run an application after the power cut: a fault, a "
               "lock-up, or stuck in the bootloader",
    "lost-update": "The update was committed before power failed, yet the old image runs",
    "unexpected-new": "The update was never committed, yet the new image runs",
    "mixed-slot": "The application slot matches neither the old nor the new image",
    "bootloader-damaged": "The bootloader sector changed",
    "timeout": "No ready line within the time bound",
    "cut-missed": "The cut's flash operation never happened (a bench problem)",
    "engine-error": "The emulator failed during the cut (a bench problem)",
}

# The oracle names the CPU's pc in its reason when that is what went wrong
# (oracle.judge): "CPU locked up at pc 0x...", "CPU at 0x...".
_CPU_PC = re.compile(
    r"CPU (?:locked up |in fault handler \(IPSR \d+\) )?at (?:pc )?0x([0-9a-fA-F]{8})")


def judged_pc(reason: str) -> int | None:
    m = _CPU_PC.search(reason)
    return int(m.group(1), 16) if m else None


def _uri(file: str, root: Path) -> str:
    path = Path(file)
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_uri() if path.is_absolute() else path.as_posix()


def cut_sources(reason: str, cut_pc: int | None, boot: Path, apps: Sequence[Path],
                root: Path) -> list[dict[str, Any]]:
    """Where a failing cut points in the source: the judged pc first (if the reason names
    one), then the cut operation's; each with the ELF, file (relative to `root` when
    under it) and line. An address no ELF has a line for is left out."""
    out: list[dict[str, Any]] = []
    judged = judged_pc(reason)
    for pc, what, elves in ((judged, "running when the board was judged", [boot, *apps]),
                            (cut_pc, "started the cut flash operation", [boot, *apps])):
        if pc is None:
            continue
        found = locate(pc, elves)
        if found is not None:
            elf, line = found
            out.append({"pc": f"0x{pc:08x}", "what": what, "elf": _uri(str(elf), root),
                        "file": _uri(line.file, root), "line": line.line})
    return out


def _location(src: Mapping[str, Any]) -> dict[str, Any]:
    uri = str(src["file"])
    artifact: dict[str, Any] = {"uri": uri}
    if "://" not in uri:
        artifact["uriBaseId"] = "%SRCROOT%"
    return {"physicalLocation": {"artifactLocation": artifact,
                                 "region": {"startLine": int(src["line"])}},
            "message": {"text": f"{src['what']} (pc {src['pc']}, {src['elf']})"}}


def _fallback_location(boot: str) -> dict[str, Any]:
    """No line known (an ELF without debug lines): the bootloader file itself."""
    return {"physicalLocation": {"artifactLocation": {"uri": boot, "uriBaseId": "%SRCROOT%"}},
            "message": {"text": "no source line known for this cut"}}


def _result(cut: Mapping[str, Any], boot: str) -> dict[str, Any]:
    sources = list(cut.get("source") or [])
    locations = [_location(s) for s in sources] or [_fallback_location(boot)]
    digest = hashlib.sha256(f"{cut['cut']}|{cut['verdict']}".encode()).hexdigest()[:32]
    return {
        "ruleId": cut["verdict"],
        "level": "error",
        "message": {"text": f"power cut {cut['cut']} [{cut['phase']}]: {cut['verdict']}: "
                            f"{cut['reason']}. Replay: {cut['repro']}"},
        "locations": locations[:1],
        "relatedLocations": [{"id": n, **loc} for n, loc in enumerate(locations[1:], 1)],
        "partialFingerprints": {"powercutCut/v1": digest},
        "properties": {"cut": cut["cut"], "verdict": cut["verdict"], "phase": cut["phase"],
                       "reason": cut["reason"], "replay": cut["repro"],
                       "flash": cut.get("flash")},
    }


def to_sarif(report: Mapping[str, Any]) -> dict[str, Any]:
    """The SARIF log of a campaign's JSON report (report.to_json or a merge of shards)."""
    failing = [c for c in report["cuts"] if c["verdict"] not in ("recovered-old",
                                                                 "recovered-new")]
    boot = _uri(str(report["settings"].get("boot", "boot.elf")), Path.cwd())
    used = sorted({c["verdict"] for c in failing})
    rules = [{"id": v, "name": v.title().replace("-", ""),
              "shortDescription": {"text": RULES.get(v, v)},
              "fullDescription": {"text": RULES.get(v, v) + ". Replay the cut with the "
                                  "command in the result; docs/powercut.md explains "
                                  "the verdicts."},
              "defaultConfiguration": {"level": "error"}} for v in used]
    results = [_result(c, boot) for c in failing]
    for r in results:
        r["ruleIndex"] = used.index(r["ruleId"])
        if not r["relatedLocations"]:
            del r["relatedLocations"]
    s = report["summary"]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL, "version": __version__, "rules": rules}},
            "automationDetails": {"id": f"powercut/{report['settings'].get('via', '')}/"},
            "results": results,
            "properties": {"seed": report["seed"], "options": report["options"],
                           "cuts": s["cuts"], "failures": s["failures"],
                           "golden": report["golden"]["verdict"]},
        }],
    }
