"""Campaigns a user runs with `pybench powercut`: an unsigned, wrongly signed (a flipped
signature bit, another key) or older image is refused over HTTP, TFTP and the backdoor,
under every cut, and never installed; and the anti-rollback floor never goes down
under any cut of an update whose records compact into the other journal sector.

Kept small: the HTTP and TFTP uploads are refused at the header, before staging is
erased, so their campaigns cut the few journal words the first boot writes; the
backdoor's are refused by the bootloader, torn cuts included.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_device import SAMPLE

from pybench import journal, layout
from pybench.cli import main
from pybench.engine.base import Engine, FlashOpKind
from pybench.image.format import ImageHeader
from pybench.powercut.oracle import Verdict
from pybench.powercut.plan import PlanKind, PlanOptions, plan_cuts
from pybench.powercut.runner import CutRunner
from pybench.powercut.scenario import BackdoorScenario

KINDS = {
    "unsigned": ["--content-fault", "unsigned"],
    "flip-signature": ["--content-fault", "flip-signature"],
    "other-key": ["--content-fault", "other-key"],
    # v2 installed (adopted at its first boot, or recorded nowhere for the backdoor:
    # then the bootloader compares with the signed image in the slot), v1 sent
    "older": ["--from", "app-v2.img", "--to", "app-v1.img", "--expect", "old"],
}


# Unmarked: each kind over one transport and the older image over all three; the rest of
# the matrix is marked `long` (`pytest -m "not long"` for a quicker pass).
QUICK = {("unsigned", "http"), ("flip-signature", "tftp"), ("other-key", "backdoor"),
         ("older", "http"), ("older", "tftp"), ("older", "backdoor")}


@pytest.mark.parametrize("kind, via", [
    pytest.param(k, v, marks=() if (k, v) in QUICK else pytest.mark.long)
    for k in sorted(KINDS) for v in ("http", "tftp", "backdoor")])
def test_a_refused_image_is_never_installed_under_any_cut(
        built: Path, capsys: pytest.CaptureFixture[str], via: str, kind: str) -> None:
    words = [str(built / w) if w.endswith(".img") else w for w in KINDS[kind]]
    torn = ["--torn"] if via == "backdoor" else []
    code = main(["powercut", "--device", str(SAMPLE.source), "--via", via, *words,
                 "--plan", "boundaries", *torn, "-q"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "golden run: recovered-old" in out, out
    assert "the update erases no sector" in out, out     # neither staging nor the slot
    summary = next(line for line in out.splitlines() if line.startswith("seed "))
    assert "recovered-old" in summary and "recovered-new" not in summary, summary


def _floor(flash: bytes) -> tuple[int, journal.State]:
    lay = layout.load()
    a = lay.JOURNAL_A_ADDR - lay.FLASH_BASE_ADDR
    b = lay.JOURNAL_B_ADDR - lay.FLASH_BASE_ADDR
    view = journal.scan(flash[a : a + lay.JOURNAL_SECTOR_SIZE],
                        flash[b : b + lay.JOURNAL_SECTOR_SIZE])
    cur = view.current
    assert cur is not None
    return cur.floor, cur.state


class InstalledV2NearlyFull(BackdoorScenario):
    """v2 installed long ago: journal B full of older records (floor 1), A full but for
    two slots of records with floor 2, then v3 staged with its STAGED record (floor kept).
    The update's second COPIED record compacts into B: B is erased, then the record that
    carries the whole state is written there."""

    def prepare(self, engine: Engine) -> None:
        super().prepare(engine)
        lay = layout.load()
        slots = lay.JOURNAL_SECTOR_SIZE // journal.RECORD_SIZE
        old, new = ImageHeader.unpack(self.old), ImageHeader.unpack(self.new)

        def rec(seq: int, state: journal.State, h: ImageHeader, size: int,
                floor: int) -> bytes:
            return journal.JournalRecord(seq, state, 0, size, h.image_version, h.body_sha256,
                                         floor=floor).encode()

        b = b"".join(rec(seq, journal.State.DONE, old, len(self.old), 1)
                     for seq in range(1, slots + 1))
        a = b"".join(rec(slots + 1 + i, journal.State.DONE, old, len(self.old), 2)
                     for i in range(slots - 3))
        a += rec(2 * slots - 2, journal.State.STAGED, new, len(self.new), 2)
        engine.write_flash(lay.JOURNAL_B_ADDR, b)
        engine.write_flash(lay.JOURNAL_A_ADDR, a)


def test_the_floor_never_goes_down_under_any_cut(built: Path) -> None:
    """Every cut, torn ones included, of the v2 -> v3 update above leaves a journal whose
    floor is 2 or more, through the compaction; and every recovery ends with v3 running,
    the floor 3 (a later v2 or v1 is refused)."""
    from pybench.engine.builtin.engine import BuiltinEngine

    scenario = InstalledV2NearlyFull(SAMPLE, built / "boot.elf", built / "mini-v2.img",
                                     built / "mini-v3.img")
    scenario.ready = r"^app: mini v\d running"
    runner = CutRunner(BuiltinEngine, scenario, PlanOptions(kind=PlanKind.BOUNDARIES,
                                                            torn=True), dedup=False)
    assert runner.golden.judgement.verdict is Verdict.RECOVERED_NEW, runner.golden.uart
    lay = layout.load()
    erases = [op for op in runner.golden.trace if op.kind is FlashOpKind.ERASE
              and op.addr == lay.JOURNAL_B_ADDR]
    assert len(erases) == 1, "the update's records did not compact into journal B"
    cuts = plan_cuts(runner.golden.trace, runner.plan_options())
    assert len(cuts) >= 8
    for cut in cuts:
        r = runner.run((cut,))
        assert r.verdict is Verdict.RECOVERED_NEW, (cut, r.reason, r.uart)
        assert _floor(runner.cut_flash)[0] >= 2, (cut, _floor(runner.cut_flash))
        assert _floor(runner.engine.read_flash(lay.FLASH_BASE_ADDR, lay.FLASH_TOTAL_SIZE)) \
            == (3, journal.State.DONE), cut
