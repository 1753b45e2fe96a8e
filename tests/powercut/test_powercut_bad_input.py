"""`pybench powercut`: a --reports that cannot be a folder is refused before the
campaign; Ctrl-C during a campaign on 2 workers leaves no traceback and exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pybench.cli import main
from pybench.paths import build_dir


def test_reports_that_is_a_file_is_refused_before_the_campaign(
        images: tuple[Path, Path, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    boot, old, new = images
    existing = tmp_path / "results.txt"
    existing.write_text("keep me\n")
    code = main(["powercut", "--boot", str(boot), "--from", str(old), "--to", str(new),
                 "--via", "backdoor", "--reports", str(existing)])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "not a folder" in err
    assert "golden run" not in out          # refused before any engine ran
    assert existing.read_text() == "keep me\n"


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_ctrl_c_during_a_parallel_campaign_is_quiet(built: Path, tmp_path: Path) -> None:
    b = build_dir()
    cmd = [sys.executable, "-m", "pybench", "powercut", "--boot", str(b / "boot.elf"),
           "--from", str(b / "mini-v1.img"), "--to", str(b / "mini-v2.img"),
           "--via", "backdoor", "--plan", "exhaustive", "--no-dedup", "-j", "2", "--quiet"]
    # Its own process group, as a shell gives a job: Ctrl-C goes to the whole group.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(_children(proc.pid)) < 2 and proc.poll() is None:
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        time.sleep(0.5)      # let the workers get into their first cuts
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)     # the impatient second Ctrl-C
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, (proc.returncode, out, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    assert "interrupted" in err
