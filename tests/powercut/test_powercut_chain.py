"""Update chains (`--chain`, pybench/powercut/chain.py): several updates in a row in one
campaign, each judged by its own facts, so that the second and later updates, the
same image again, a refused update and the journal's rotations are cut too."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_device import SAMPLE

from pybench import journal
from pybench.engine.base import CutMode, FlashOpKind, PowerCut
from pybench.image import signing
from pybench.image.format import padded, parse_image
from pybench.journal import JournalRecord, State
from pybench.paths import platform_file
from pybench.powercut import chain
from pybench.powercut.campaign import CampaignConfig, run_campaign
from pybench.powercut.plan import PlanKind, PlanOptions
from pybench.powercut.runner import Checks, CutRunner
from pybench.powercut.scenario import Extras, make_scenario


def test_links_parse_with_faults_and_repeats() -> None:
    specs = chain.parse("new,(newer,new+flip-body)*2,newer+old")
    assert [(s.image, s.fault) for s in specs] == [
        ("new", None), ("newer", None), ("new", "flip-body"), ("newer", None),
        ("new", "flip-body"), ("newer", "old")]
    assert chain.format_specs(specs) == ("new,newer,new+flip-body,newer,new+flip-body,"
                                         "newer+old")
    for bad in ("", "new,", "(new", "new*0", "new*x", "new+melted", "+flip-body"):
        with pytest.raises(ValueError):
            chain.parse(bad)


def test_each_link_runs_over_the_image_the_last_installed_one_left() -> None:
    links = chain.resolve(chain.parse("new,newer+flip-body,newer,newer+old"), SAMPLE, 1)
    factory = b"factory"
    assert [link.expect for link in links] == ["new", "old", "new", "old"]
    assert links[1].image != links[1].good                     # damaged as it is sent
    assert chain.running_before(factory, links, 0) == factory
    assert chain.running_before(factory, links, 2) == links[0].image   # the refused one
    assert chain.running_before(factory, links, 3) == links[2].image   # did not install


def test_a_staged_record_goes_to_the_next_slot_or_compacts() -> None:
    a_reg, b_reg = (SAMPLE.layout.region(n) for n in SAMPLE.metadata.regions)
    slots = a_reg.size // journal.RECORD_SIZE
    image = Path(SAMPLE.firmware.images["new"].path).read_bytes()

    def done(seq: int) -> bytes:
        return JournalRecord(seq=seq, state=State.DONE, image_size=4, image_version=1,
                             digest=b"\0" * 32, floor=1).encode()

    a = done(1) + b"\xff" * (a_reg.size - journal.RECORD_SIZE)
    b = b"\xff" * b_reg.size
    (addr, rec), = chain.staged_append(SAMPLE, a, b, image, image)
    assert addr == a_reg.addr + journal.RECORD_SIZE
    staged = journal.decode(rec)
    assert staged is not None and staged.seq == 2
    assert staged.floor == 1            # the writer keeps the floor: never lowers it
    full = b"".join(done(i + 1) for i in range(slots))
    (addr, data), = chain.staged_append(SAMPLE, full, b, image, image)
    assert addr == b_reg.addr and len(data) == b_reg.size          # erased, then written
    view = journal.scan(full[:0] + b"\xff" * a_reg.size, data)
    assert view.current is not None and view.current.seq == slots + 1
    assert view.current.state is State.STAGED


@pytest.fixture(scope="module")
def mini(built: Path) -> dict[int, Path]:
    out = {v: built / f"mini-v{v}.img" for v in (1, 2, 3)}
    if not all(p.exists() for p in out.values()):
        pytest.skip("mini images missing: run `make firmware`")
    return out


@pytest.mark.long
def test_a_long_chain_rotates_the_journal_twice_and_its_rotations_are_cut(
        built: Path, mini: dict[int, Path], tmp_path: Path) -> None:
    """A history of 251 records, then 89 updates of the small image, two of them refused:
    the bootloader compacts the journal into B (the second update's COPIED(0)), then back
    into A (a COPIED some 60 updates later; each update is STAGED by the bench, COPIED(0),
    COPIED(1) and DONE by the bootloader, a refused one STAGED, REJECTED and the slot's
    DONE). The cuts around both compactions, in the second update and in the refused one
    are judged by their own update's facts. Versions never go down (anti-rollback): the
    updates after the third alternate between v3 and another v3 image (the same
    application grown, so another digest), which a device installs again."""
    from pybench.engine.builtin.engine import BuiltinEngine

    v2, v3 = mini[2], mini[3]
    v3b = tmp_path / "mini-v3b.img"
    v3b.write_bytes(padded(parse_image(v3.read_bytes()), 8 * 1024, seed=1,
                           key=signing.test_key()).to_bytes())
    links = chain.parse(f"{v2},{v3},{v2}+flip-body,({v3b},{v3})*42,{v3b},{v2}+flip-body")
    sc = make_scenario("backdoor", SAMPLE, built / "boot.elf", mini[1], mini[2],
                       platform_file(), seed=1, extras=Extras(journal_fill=251, chain=links))
    runner = CutRunner(BuiltinEngine, sc, PlanOptions(), checks=Checks(reboots=False))
    g = runner.golden
    assert g.ok, g.judgement.reason
    assert len(g.links) == 89 and [lk.start for lk in g.links] == sorted(
        lk.start for lk in g.links)
    journal_sectors = {SAMPLE.layout.region(n).addr for n in SAMPLE.metadata.regions}
    rotations = [op for op in g.trace if op.kind is FlashOpKind.ERASE
                 and op.addr in journal_sectors]
    assert [op.addr for op in rotations] == sorted(journal_sectors, reverse=True), \
        "the chain must compact into B, then back into A"
    cuts = []
    for op in rotations:
        cuts += [PowerCut(op.index, CutMode.BEFORE), PowerCut(op.index, CutMode.AFTER),
                 PowerCut(op.index, CutMode.TORN, 0.5, 7),
                 PowerCut(op.index + 1, CutMode.TORN, 0.5, 3)]
    second = g.links[1].start
    cuts += [PowerCut(second, CutMode.AFTER), PowerCut(second + 100, CutMode.BEFORE),
             PowerCut(g.links[-1].start + 1, CutMode.BEFORE)]
    verdicts = {}
    for cut in cuts:
        r = runner.run((cut,))
        verdicts[cut.op_index, cut.mode.value] = (r.verdict.value, r.reason)
    bad = {k: v for k, v in verdicts.items() if v[0] not in ("recovered-old",
                                                              "recovered-new")}
    assert bad == {}
    # a cut in the second update is judged by its facts: old v2, new v3
    assert verdicts[second + 100, "before"][0] == "recovered-new"
    assert g.links[1].facts.old_image == mini[2].read_bytes()
    assert g.links[1].facts.new_image == mini[3].read_bytes()
    assert g.links[-1].facts.expect == "old"


def test_a_chain_over_http_is_judged_link_by_link(built: Path) -> None:
    """v1 to v2, v3, v3 again, then a damaged v2 that must be refused; the journal
    compacts during the chain (history of 253 records)."""
    from pybench.engine.builtin.engine import BuiltinEngine

    config = CampaignConfig(
        make_engine=BuiltinEngine,
        make_scenario=lambda: make_scenario(
            "http", SAMPLE, built / "boot.elf", None, None, platform_file(), seed=2,
            extras=Extras(journal_fill=253,
                          chain=chain.parse("new,newer,newer,new+flip-body"))),
        options=PlanOptions(kind=PlanKind.RANDOM, random_count=10, seed=4), jobs=1,
        quiet=True, checks=Checks(True, 0, SAMPLE.console.repair or ""))
    result = run_campaign(config)
    g = result.golden
    assert result.golden_ok, g.judgement.reason
    assert [lk.facts.expect for lk in g.links] == ["new", "new", "new", "old"]
    assert len({lk.start for lk in g.links}) == 4
    assert result.results and result.failures == []
    by_link = {g.link_of(r.path[0].op_index) for r in result.results}
    assert len(by_link) >= 2, "the cuts fell in one update only"
