"""A campaign's reports: JSON, JUnit XML and one self-contained HTML page with an SVG
picture of the cuts along the update. Pure formatting over a CampaignResult."""

from __future__ import annotations

import collections
import html
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from pybench.engine.base import CutMode
from pybench.powercut import sarif, wear
from pybench.powercut import templates as T
from pybench.powercut.bands import phase_runs
from pybench.powercut.campaign import CampaignResult
from pybench.powercut.cutspec import format_path
from pybench.powercut.oracle import Verdict
from pybench.powercut.phases import Phase, phase_of_addr
from pybench.powercut.runner import CutResult

PHASE_COLOURS = {Phase.STAGING: "#f4b400", Phase.METADATA: "#9c27b0",
                 Phase.COPY_DOWN: "#2196f3", Phase.BOOT: "#000000", Phase.OTHER: "#9e9e9e"}
VERDICT_COLOURS = {"recovered-old": "#64b5f6", "recovered-new": "#2e7d32", "reported": "#f9a825",
                   "failed": "#d32f2f"}


def _colour_class(verdict: Verdict) -> str:
    return verdict.value if verdict.ok else "failed"


def cut_record(result: CampaignResult, n: int, r: CutResult) -> dict[str, Any]:
    first = r.path[0]
    rec: dict[str, Any] = {
        "index": n, "cut": format_path(r.path), "depth": len(r.path),
        "op": first.op_index, "mode": first.mode.value, "phase": r.phase,
        "operation": r.op, "verdict": r.verdict.value, "reason": r.reason,
        "recovery_ns": r.recovery_ns, "wall_s": round(r.wall_s, 4),
        "state": r.state, "joined": r.joined, "repro": result.repro(r.path), "ran": r.ran,
    }
    if first.mode is CutMode.TORN:
        rec |= {"progress": first.progress, "seed": first.seed}
    if r.repaired:
        rec["repaired"] = r.repaired
    if not r.verdict.ok:
        rec |= {"uart": r.uart, "flash": r.flash_file, "source": _sources(result, r)}
    return rec


def _sources(result: CampaignResult, r: CutResult) -> list[dict[str, Any]]:
    """Source lines of a failing cut, for SARIF (sarif.py)."""
    trace, op = result.golden.trace, r.path[0].op_index
    settings = result.config.settings
    boot = Path(str(settings.get("boot", "")))
    apps = [Path(str(settings[k])).with_suffix(".elf") for k in ("from", "to") if k in settings]
    return sarif.cut_sources(r.reason, trace[op].pc if op < len(trace) else None, boot, apps,
                             Path.cwd())


def summary(result: CampaignResult) -> dict[str, Any]:
    counts = collections.Counter(r.verdict.value for r in result.results)
    golden_failed = not result.golden_ok
    return {
        # A golden run that did not end as expected is a failure of its own: the campaign
        # made no cuts, and a CI reading these counts must not show it green.
        "cuts": len(result.results), "failures": len(result.failures) + golden_failed,
        "golden_failed": golden_failed,
        "joined": sum(r.joined for r in result.results),
        "recoveries_run": sum(r.ran for r in result.results),
        "repaired": sum(bool(r.repaired) for r in result.results),
        "wear": wear.wear(result.golden.trace, updates=max(1, len(result.golden.links))),
        "verdicts": dict(sorted(counts.items())), "wall_s": round(result.wall_s, 3),
        "cuts_per_s": round(len(result.results) / max(result.wall_s, 1e-9), 2),
    }


def to_json(result: CampaignResult) -> dict[str, Any]:
    g = result.golden
    return {
        "seed": result.config.options.seed,
        "options": result.config.options.describe(),
        "settings": result.config.settings,
        "golden": {"verdict": g.judgement.verdict.value, "reason": g.judgement.reason,
                   "operations": len(g.trace), "uart": g.uart,
                   "phase_runs": phase_runs(g.trace, g.facts.device.layout)},
        "summary": summary(result),
        "cuts": [cut_record(result, n, r) for n, r in enumerate(result.results)],
    }


def to_junit(result: CampaignResult) -> str:
    golden_failed = not result.golden_ok
    suite = ET.Element("testsuite", name="powercut",
                       tests=str(len(result.results) + golden_failed),
                       failures=str(len(result.failures) + golden_failed), errors="0",
                       time=f"{result.wall_s:.3f}")
    props = ET.SubElement(suite, "properties")
    for name, value in [("seed", result.config.options.seed),
                        *result.config.options.describe().items(),
                        *result.config.settings.items()]:
        ET.SubElement(props, "property", name=str(name), value=str(value))
    if not result.golden_ok:
        case = ET.SubElement(suite, "testcase", classname="powercut.golden", name="golden run")
        fail = ET.SubElement(case, "failure", message=result.golden.judgement.reason,
                             type=result.golden.judgement.verdict.value)
        fail.text = result.golden.uart
    for r in result.results:
        case = ET.SubElement(suite, "testcase", classname=f"powercut.{r.phase}",
                             name=f"cut {format_path(r.path)}", time=f"{r.wall_s:.3f}")
        if not r.verdict.ok:
            fail = ET.SubElement(case, "failure", message=f"{r.verdict.value}: {r.reason}",
                                 type=r.verdict.value)
            fail.text = f"{result.repro(r.path)}\n\n{r.uart}"
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


# --- HTML -----------------------------------------------------------------------------
WIDTH, LEFT, RIGHT, BAND_Y, BAND_H, ROW_H = 960, 70, 20, 20, 16, 18
POWER_ROWS = (CutMode.BEFORE, CutMode.TORN, CutMode.AFTER)


def _svg(result: CampaignResult) -> str:
    # A row per cut mode; a flash-failure campaign has a row per failure kind instead.
    faults = [m for m in CutMode if m.is_fault and any(r.path[0].mode is m
                                                        for r in result.results)]
    rows = tuple(faults) or POWER_ROWS
    trace = result.golden.trace
    lay = result.golden.facts.device.layout
    n = max(1, len(trace))
    span = WIDTH - LEFT - RIGHT

    def x_of(i: float) -> float:
        return LEFT + span * (i + 0.5) / n

    bands: list[str] = []
    runs = phase_runs(trace, lay)
    for k, (start, addr) in enumerate(runs):
        end = runs[k + 1][0] if k + 1 < len(runs) else len(trace)
        ph = phase_of_addr(addr, lay)
        bands.append(T.BAND.format(x=LEFT + span * start / n, y=BAND_Y,
                                   w=max(1.0, span * (end - start) / n), h=BAND_H,
                                   colour=PHASE_COLOURS[ph],
                                   title=html.escape(f"{ph.value}: ops {start}..{end - 1}")))
    top = BAND_Y + BAND_H + 14
    levels = max((len(r.path) for r in result.results), default=1)
    axis = [T.TEXT.format(x=LEFT - 6, y=BAND_Y + 12, anchor="end", text="phase")]
    for d in range(levels):
        for k, mode in enumerate(rows):
            y = top + (d * len(rows) + k) * ROW_H
            label = mode.value if d == 0 else f"{mode.value} (then depth {d + 1})"
            axis.append(T.TEXT.format(x=LEFT - 6, y=y + 4, anchor="end",
                                      text=html.escape(label if d == 0 else f"d{d + 1}")))
    bottom = top + levels * len(rows) * ROW_H
    axis.append(T.LINE.format(x1=LEFT, y1=bottom, x2=WIDTH - RIGHT, y2=bottom))
    for i in range(0, n, max(1, n // 10)):
        axis.append(T.TEXT.format(x=x_of(i), y=bottom + 14, anchor="middle", text=str(i)))
    axis.append(T.TEXT.format(x=WIDTH - RIGHT, y=bottom + 28, anchor="end",
                              text="flash operation of the golden update"))
    marks = []
    for r in result.results:
        first = r.path[0]
        row = (len(r.path) - 1) * len(rows) + rows.index(first.mode)
        title = f"{format_path(r.path)} [{r.phase}]: {r.verdict.value}"
        marks.append(T.MARK.format(x=x_of(first.op_index), y=top + row * ROW_H,
                                   r=4 if r.verdict.ok else 5,
                                   colour=VERDICT_COLOURS[_colour_class(r.verdict)],
                                   title=html.escape(title)))
    return T.SVG.format(width=WIDTH, height=bottom + 36, bands="\n".join(bands),
                        axis="\n".join(axis), marks="\n".join(marks))


def to_html(result: CampaignResult, folder: Path | None = None) -> str:
    """The report page; `folder`: where it is written, for links to the flash.bin files
    (kept under the campaign's flash_dir)."""
    data = to_json(result)
    settings = {"seed": data["seed"], **data["options"], **data["settings"]}
    rows = "\n".join(T.SETTING_ROW.format(name=html.escape(str(k)), value=html.escape(str(v)))
                     for k, v in settings.items())
    s = data["summary"]
    summ = [("golden run", f"{data['golden']['verdict']}: {data['golden']['reason']}"),
            ("cuts", s["cuts"]), ("failures", s["failures"]),
            ("joined a judged state", s["joined"]),
            ("recoveries run", s["recoveries_run"]),
            ("recovered through a repair path", s["repaired"]),
            ("wear", wear.describe(s["wear"]).removeprefix("wear: ")),
            *s["verdicts"].items(), ("wall time", f"{s['wall_s']} s ({s['cuts_per_s']} cuts/s)")]
    summary_rows = "\n".join(T.SUMMARY_ROW.format(name=html.escape(str(k)),
                                                  value=html.escape(str(v))) for k, v in summ)
    legend = "".join(T.LEGEND_ITEM.format(colour=c, name=html.escape(p.value))
                     for p, c in PHASE_COLOURS.items())
    legend += "".join(T.LEGEND_ITEM.format(colour=c, name=html.escape(v))
                      for v, c in VERDICT_COLOURS.items())
    failures = result.failures
    flash_dir = result.config.flash_dir
    cuts = ""
    if flash_dir is not None and folder is not None:
        cuts = Path(os.path.relpath(flash_dir.resolve(), folder.resolve())).as_posix() + "/"
    if failures:
        frows = "\n".join(T.FAILURE_ROW.format(
            cut=html.escape(format_path(r.path)), phase=html.escape(r.phase),
            verdict=html.escape(r.verdict.value), reason=html.escape(r.reason),
            repro=html.escape(result.repro(r.path)), uart=html.escape(r.uart),
            flash=(f'<a href="{html.escape(cuts + r.flash_file)}">flash.bin</a>'
                   if r.flash_file else "-")) for r in failures)
        failure_html = T.FAILURE_TABLE.format(rows=frows)
    else:
        failure_html = T.NO_FAILURES
    if not result.golden_ok:
        status, cls = "golden run failed: no cuts were made", "bad"
    elif failures:
        status, cls = f"{len(failures)} of {len(result.results)} cuts failed", "bad"
    else:
        status, cls = f"all {len(result.results)} cuts recovered", "ok"
    title = str(result.config.settings.get("via", "campaign"))
    return T.PAGE.format(title=html.escape(title), status=html.escape(status),
                         status_class=cls, settings=rows, summary=summary_rows, legend=legend,
                         svg=_svg(result), failures=failure_html)


def write_reports(result: CampaignResult, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = [folder / "powercut.json", folder / "powercut-junit.xml", folder / "powercut.html",
           folder / "powercut.sarif"]
    data = to_json(result)
    out[0].write_text(json.dumps(data, indent=1) + "\n")
    out[1].write_text(to_junit(result))
    out[2].write_text(to_html(result, folder))
    out[3].write_text(json.dumps(sarif.to_sarif(data), indent=1) + "\n")
    return out
