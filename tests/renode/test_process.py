"""Starting and stopping Renode: the parts that need no Renode."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybench.engine.renode.process import (
    command_line,
    log_reason,
    private_env,
    robot_command_line,
)

# A Renode log's form; the error is what a real Renode 1.16.1 printed when a malformed
# frame ended it.
FATAL = ("[ERROR] FATAL UNHANDLED EXCEPTION: PacketDotNet.PacketConstraintException: The"
         " packet of type IPv4Packet must have at least 60 bytes, 28 bytes were provided.")
LOG = ("12:21:07.1293 [INFO] stm32f407: Machine started.\n"
       "12:21:09.5555 [WARNING] sysbus: ReadDoubleWord from non existing peripheral.\n"
       f"12:21:11.0021 {FATAL}\n")


def test_the_reason_is_renodes_last_error_lines() -> None:
    assert log_reason(LOG) == f"12:21:11.0021 {FATAL}"
    assert log_reason("12:00:00.0000 [INFO] all well\n") == ""


def test_each_renode_gets_its_own_temp_and_config_folders(tmp_path: Path) -> None:
    env = private_env(tmp_path)
    assert env == {"TMPDIR": str(tmp_path / "tmp"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    assert (tmp_path / "tmp").is_dir() and (tmp_path / "config").is_dir()


def test_command_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYBENCH_RENODE_ARGS", raising=False)
    assert command_line("renode", 1234) == ["renode", "--disable-gui", "--plain", "--port", "1234"]
    assert robot_command_line("renode", 55) == [
        "renode", "--disable-gui", "--plain", "--hide-log", "--robot-server-port", "55"]


def test_in_process_only_when_asked_and_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from pybench.engine.renode import inprocess

    monkeypatch.delenv(inprocess.ENV, raising=False)
    assert not inprocess.available()
    monkeypatch.setenv(inprocess.ENV, "1")
    assert inprocess.available() == (importlib.util.find_spec("pyrenode3") is not None)
