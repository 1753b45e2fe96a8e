"""Power cuts while the bootloader refuses a staged image that is older than the installed
one, or not signed by the device's key: every cut of the campaign machinery's exhaustive
plan (atomic and torn) must end with the old image running and the slot unchanged.

The oracle knows two outcomes, old and new, and takes a STAGED record for the new image
as a commitment to install it ("lost-update" when the old one runs). It has no verdict
for "must be refused" yet, so this test runs the cuts with CutRunner and checks what the
refusal needs itself: the golden run never writes the slot, and after every cut the old
image runs from a slot that holds it byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybench import layout
from pybench.image.cli import corrupt
from pybench.journal import JournalRecord, State
from pybench.paths import platform_file
from pybench.powercut.oracle import Verdict
from pybench.powercut.plan import PlanKind, PlanOptions, plan_cuts
from pybench.powercut.runner import CutRunner
from pybench.powercut.scenario import BackdoorScenario, staged_record


class InstalledThenStaged(BackdoorScenario):
    """The old image installed as the bootloader records it (DONE, floor = its version),
    then the new one written into staging with its STAGED record (floor kept)."""

    def prepare(self, engine: object) -> None:
        super().prepare(engine)  # type: ignore[arg-type]
        lay = layout.load()
        old = staged_record(self.old)
        installed = JournalRecord(1, State.DONE, 0, old.image_size, old.image_version,
                                  old.digest, floor=old.image_version)
        staged = staged_record(self.new, seq=2)
        staged = JournalRecord(2, State.STAGED, 0, staged.image_size, staged.image_version,
                               staged.digest, floor=old.image_version)
        engine.write_flash(lay.JOURNAL_A_ADDR, installed.encode() + staged.encode())  # type: ignore[attr-defined]


@pytest.mark.parametrize("what", ["older", "unsigned"])
def test_every_cut_of_a_refused_update_keeps_the_old_image(built: Path, tmp_path: Path,
                                                            what: str) -> None:
    from pybench.engine.builtin.engine import BuiltinEngine

    old = built / "mini-v2.img"
    new = tmp_path / "new.img"
    new.write_bytes((built / "mini-v1.img").read_bytes() if what == "older"
                    else corrupt((built / "mini-v3.img").read_bytes(), "unsigned"))
    scenario = InstalledThenStaged(built / "boot.elf", old, new, platform_file())
    scenario.ready = r"^app: mini v\d running"
    runner = CutRunner(BuiltinEngine, scenario, PlanOptions(kind=PlanKind.EXHAUSTIVE, torn=True),
                       flash_dir=tmp_path / "cuts")
    golden = runner.golden
    word = "rollback" if what == "older" else "unsigned"
    assert f"boot: staged image rejected: {word}" in golden.uart, golden.uart
    assert "app: mini v2 running" in golden.uart
    lay = layout.load()
    assert golden.trace and all(op.addr not in lay.app_slot for op in golden.trace)

    old_bytes = old.read_bytes()
    cuts = plan_cuts(golden.trace, runner.plan_options())
    assert len(cuts) >= len(golden.trace)
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
