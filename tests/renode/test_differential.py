"""The same campaign on both engines, cut for cut (pybench.engine.renode.differential).

The comparison itself is tested without Renode; the campaigns run where Renode is
installed (marked `renode`): same plan, same seed, on the built-in engine and on Renode,
and every cut must get the same verdict (docs/renode.md, "Both engines, cut for cut")."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_device import SAMPLE

from pybench.engine.base import FlashOp, FlashOpKind
from pybench.engine.builtin.engine import BuiltinEngine
from pybench.engine.renode import RenodeEngine
from pybench.engine.renode.differential import Side, compare, run_both, side
from pybench.paths import platform_file
from pybench.powercut.campaign import CampaignConfig
from pybench.powercut.plan import PlanKind, PlanOptions
from pybench.powercut.scenario import make_scenario

OPS = [FlashOp(0, FlashOpKind.ERASE, 0x08010000, 0x10000, 4, None, 0, 0),
       FlashOp(1, FlashOpKind.PROGRAM, 0x08010000, 4, 4, 0x12345678, 9, 0)]


def test_equal_campaigns_have_no_difference() -> None:
    a = Side("builtin", "recovered-new", OPS, {"1:before": ("recovered-new", "ok")})
    b = Side("renode", "recovered-new", [OPS[0], OPS[1]], {"1:before": ("recovered-new", "x")})
    assert compare(a, b) == []


def test_differences_name_the_cut_and_the_operation() -> None:
    other = FlashOp(1, FlashOpKind.PROGRAM, 0x08010004, 4, 4, 0x12345678, 9, 0)
    a = Side("builtin", "recovered-new", OPS,
             {"1:before": ("recovered-new", "ok"), "0:torn:0.5": ("recovered-old", "ok")})
    b = Side("renode", "recovered-new", [OPS[0], other],
             {"1:before": ("bricked", "no valid app")})
    assert compare(a, b) == [
        "golden flash operation 1: builtin ('program', 134283264, 4, 305419896), "
        "renode ('program', 134283268, 4, 305419896)",
        "cut 0:torn:0.5: only builtin ran it",
        "cut 1:before: builtin recovered-new (ok), renode bricked (no valid app)",
    ]


@pytest.mark.renode
def test_the_same_campaign_gets_the_same_verdicts_on_both_engines(built: Path) -> None:
    config = CampaignConfig(
        make_engine=BuiltinEngine,
        make_scenario=lambda: make_scenario("backdoor", SAMPLE, built / "boot.elf",
                                            built / "mini-v1.img", built / "mini-v2.img",
                                            platform_file()),
        options=PlanOptions(kind=PlanKind.RANDOM, seed=3, random_count=5, torn=True,
                            device=SAMPLE),
        quiet=True)
    builtin, renode = run_both(config, BuiltinEngine, RenodeEngine)
    assert len(renode.results) == len(builtin.results) >= 5
    assert compare(side("builtin", builtin), side("renode", renode)) == []
