"""Power cuts while the bootloader refuses a staged image that is older than the installed
one, or not signed by the device's key: every cut of the campaign machinery's boundaries
plan (atomic and torn: the first and last word of each journal record the refusal
writes, and torn ones) must end with the old image running and the slot unchanged.
Each recovery checks a signature (millions of instructions), hence not every word.

The oracle knows two outcomes, old and new, and takes a STAGED record for the new image
as a commitment to install it ("lost-update" when the old one runs). It has no verdict
for "must be refused" yet, so this test runs the cuts with CutRunner and checks what the
refusal needs itself: the golden run never writes the slot, and after every cut the old
image runs from a slot that holds it byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_device import SAMPLE

from pybench import layout
from pybench.engine.base import Engine
from pybench.image.cli import corrupt
from pybench.image.format import ImageHeader
from pybench.journal import JournalRecord, State
from pybench.powercut.oracle import Verdict
from pybench.powercut.plan import PlanKind, PlanOptions, plan_cuts
from pybench.powercut.runner import CutRunner
from pybench.powercut.scenario import BackdoorScenario


class InstalledThenStaged(BackdoorScenario):
    """The old image installed as the bootloader records it (DONE, floor = its version),
    then the new one written into staging with its STAGED record (floor kept)."""

    def prepare(self, engine: Engine) -> None:
        super().prepare(engine)
        lay = layout.load()
        old, new = ImageHeader.unpack(self.old), ImageHeader.unpack(self.new)
        floor = old.image_version
        installed = JournalRecord(1, State.DONE, 0, len(self.old), old.image_version,
                                  old.body_sha256, floor=floor)
        staged = JournalRecord(2, State.STAGED, 0, len(self.new), new.image_version,
                               new.body_sha256, floor=floor)
        engine.write_flash(lay.JOURNAL_A_ADDR, installed.encode() + staged.encode())


@pytest.mark.parametrize("what", ["older", "unsigned"])
def test_every_cut_of_a_refused_update_keeps_the_old_image(built: Path, tmp_path: Path,
                                                            what: str) -> None:
    from pybench.engine.builtin.engine import BuiltinEngine

    old = built / "mini-v2.img"
    new = tmp_path / "new.img"
    new.write_bytes((built / "mini-v1.img").read_bytes() if what == "older"
                    else corrupt((built / "mini-v3.img").read_bytes(), "unsigned"))
    scenario = InstalledThenStaged(SAMPLE, built / "boot.elf", old, new)
    scenario.ready = r"^app: mini v\d running"
    runner = CutRunner(BuiltinEngine, scenario, PlanOptions(kind=PlanKind.BOUNDARIES, torn=True),
                       flash_dir=tmp_path / "cuts")
    golden = runner.golden
    word = "rollback" if what == "older" else "unsigned"
    assert f"boot: staged image rejected: {word}" in golden.uart, golden.uart
    assert "app: mini v2 running" in golden.uart
    lay = layout.load()
    assert golden.trace and all(op.addr not in lay.app_slot for op in golden.trace)

    old_bytes = old.read_bytes()
    cuts = plan_cuts(golden.trace, runner.plan_options())
    assert len(cuts) >= 4
    for cut in cuts:
        r = runner.run((cut,))
        # Old running, from a slot that holds it: recovered-old, or lost-update by the
        # oracle's reading of the STAGED record (then its flash is saved: check the slot).
        assert r.verdict in (Verdict.RECOVERED_OLD, Verdict.LOST_UPDATE), (cut, r.reason, r.uart)
        if r.verdict is Verdict.LOST_UPDATE:
            assert r.flash_file is not None
            flash = (tmp_path / "cuts" / r.flash_file).read_bytes()
            off = lay.APP_SLOT_ADDR - lay.FLASH_BASE_ADDR
            assert flash[off : off + len(old_bytes)] == old_bytes, cut
            assert "mini v1" not in r.uart and "mini v3" not in r.uart
