"""The translation buffer never fills in the middle of a run: unicorn 2.1.1 crashes
(SIGSEGV in tb_set_jmp_target) when it has to flush a full buffer by itself, so the
machine flushes it between runs once restores and resets have spent TB_BUDGET. Without
the budget, a 2 MiB buffer crashed a 200-cut campaign of the small update."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pybench.engine.builtin import machine, ucctl
from pybench.image import signing
from pybench.image.format import padded, parse_image

CAMPAIGN = """
import sys
from pybench.engine.builtin import machine, ucctl
if sys.argv.pop(1) == "no-budget":
    machine.TB_BUDGET = 1 << 60
size = 2 << 20
set_size = ucctl.set_tcg_buffer_size
ucctl.set_tcg_buffer_size = lambda uch, s=size: set_size(uch, s)
from pybench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def campaign(built: Path, tmp_path: Path, budget: str) -> subprocess.CompletedProcess[str]:
    """The 16 KiB update of `make bench`, 400 random cuts, in a 2 MiB buffer."""
    image = tmp_path / "mini-v2-16k.img"
    image.write_bytes(padded(parse_image((built / "mini-v2.img").read_bytes()), 16 * 1024, 7,
                             key=signing.test_key()).to_bytes())
    return subprocess.run(
        [sys.executable, "-c", CAMPAIGN, budget, "powercut", "--via", "backdoor",
         "--from", str(built / "mini-v1.img"), "--to", str(image),
         "--ready", r"^app: mini v2 running", "--plan", "random", "--random", "400",
         "-j", "1", "-q", "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, timeout=600)


def test_a_long_campaign_in_a_small_translation_buffer_does_not_crash(built: Path,
                                                                      tmp_path: Path) -> None:
    proc = campaign(built, tmp_path, "budget")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "400 cuts (recovered-new 400)" in proc.stdout


def test_restores_and_resets_spend_the_budget_and_a_flush_renews_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    flushes: list[int] = []
    monkeypatch.setattr(ucctl, "flush_tb", lambda uch: flushes.append(uch))
    m = machine.Machine.__new__(machine.Machine)     # only the budget's own state
    m._tb_spent, m._uch, m._dirty = 0, 1, (0, 4)
    spent = [m._spend_tb(machine.TB_COST_RESTORE) for _ in range(machine.TB_BUDGET - 1)]
    assert not any(spent) and not flushes
    assert m._spend_tb(machine.TB_COST_RESTORE) and flushes == [1]
    assert m._dirty == (machine.NEVER, 0)          # nothing left to drop after a flush
    resets = machine.TB_BUDGET // machine.TB_COST_RESET
    assert [m._spend_tb(machine.TB_COST_RESET) for _ in range(resets)][-1]
    assert len(flushes) == 2
