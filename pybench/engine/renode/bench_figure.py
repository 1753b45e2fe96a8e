"""`make bench` with Renode on PATH: one campaign's cuts per second on both engines, side
by side in one row (same plan, same seed, same images)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CUTS = 20


def both_engines_figure(campaign: list[str], workdir: Path) -> dict[str, Any] | None:
    """None without Renode; else the campaign `campaign` (pybench arguments, no
    --engine) run on each engine with CUTS random cuts, and both rates."""
    if shutil.which("renode") is None:
        return None
    from pybench.bench import campaign_figure

    argv = [*campaign, "--random", str(CUTS), "--seed", "1"]
    runs = {name: campaign_figure(f"both engines, {name}", [*argv, "--engine", name],
                                  lambda s: True, "measured", workdir)
            for name in ("builtin", "renode")}
    b, r = runs["builtin"], runs["renode"]
    return {"group": "powercut",
            "name": f"16 KiB update, {CUTS} random cuts, 1 core: built-in vs Renode",
            "cuts": f"{b['cuts']} / {r['cuts']}",
            "builtin_cuts_per_s": b["cuts_per_s"], "renode_cuts_per_s": r["cuts_per_s"],
            "renode_wall_s": r["wall_s"],
            "goal": "measured, same verdicts",
            "ok": b["ok"] and r["ok"] and b["failures"] == r["failures"]}
