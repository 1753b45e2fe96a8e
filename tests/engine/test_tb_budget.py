"""The translation buffer never fills in the middle of a run: unicorn 2.1.1 crashes
(SIGSEGV in tb_set_jmp_target) when it has to flush a full buffer by itself, so the
machine flushes it between runs, once it is half full (read in place: tcgbuf.py) or,
where that cannot be read, once resets and restores have spent a budget. Without either,
a 2 MiB buffer crashed the 400-cut campaign below (and a 200-cut one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pybench.engine.builtin import machine, tcgbuf, ucctl
from pybench.engine.builtin.engine import BuiltinEngine
from pybench.image import signing
from pybench.image.format import padded, parse_image
from pybench.paths import platform_file

CAMPAIGN = """
import sys
from pybench.engine.builtin import tcgbuf, ucctl
ucctl.TCG_BUFFER_SIZE = 2 << 20
if sys.argv.pop(1) == "count":
    tcgbuf.find = lambda uc, size: None
from pybench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def campaign(built: Path, tmp_path: Path, how: str) -> subprocess.CompletedProcess[str]:
    """The 16 KiB update of `make bench`, 400 random cuts, in a 2 MiB buffer."""
    image = tmp_path / "mini-v2-16k.img"
    image.write_bytes(padded(parse_image((built / "mini-v2.img").read_bytes()), 16 * 1024, 7,
                             key=signing.test_key()).to_bytes())
    return subprocess.run(
        [sys.executable, "-c", CAMPAIGN, how, "powercut", "--via", "backdoor",
         "--from", str(built / "mini-v1.img"), "--to", str(image),
         "--ready", r"^app: mini v2 running", "--plan", "random", "--random", "400",
         "-j", "1", "-q", "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("how", ["gauge", "count"])
def test_a_long_campaign_in_a_small_translation_buffer_does_not_crash(
        built: Path, tmp_path: Path, how: str) -> None:
    proc = campaign(built, tmp_path, how)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "400 cuts (recovered-new 400)" in proc.stdout


def test_the_gauge_reads_how_full_the_buffer_is(built: Path) -> None:
    eng = BuiltinEngine()
    eng.load_platform(platform_file())
    eng.load_elf(built / "boot.elf")
    eng.power_on()
    gauge = eng.machine._tb_gauge
    assert gauge is not None and gauge.size == ucctl.TCG_BUFFER_SIZE
    before = gauge.used()
    eng.run(20_000_000)                  # the bootloader's code, translated
    grown = gauge.used()
    ucctl.flush_tb(eng.machine._uch)
    assert 0 <= before < grown < gauge.size and gauge.used() == before


def test_without_a_gauge_resets_and_restores_spend_a_budget(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    flushes: list[int] = []
    monkeypatch.setattr(ucctl, "flush_tb", lambda uch: flushes.append(uch))
    monkeypatch.setattr(tcgbuf, "find", lambda uc, size: None)
    m = machine.Machine.__new__(machine.Machine)     # only the budget's own state
    m.uc, m._uch, m._dirty = None, 1, (0, 4)
    m._tb_spent, m._tb_gauge, m._tb_gauge_sought = 0, None, False
    spent = [m._spend_tb(machine.TB_COST_RESTORE) for _ in range(machine.TB_BUDGET - 1)]
    assert not any(spent) and not flushes
    assert m._spend_tb(machine.TB_COST_RESTORE) and flushes == [1]
    assert m._dirty == (machine.NEVER, 0)          # nothing left to drop after a flush
    resets = machine.TB_BUDGET // machine.TB_COST_RESET
    assert [m._spend_tb(machine.TB_COST_RESET) for _ in range(resets)][-1]
    assert len(flushes) == 2
