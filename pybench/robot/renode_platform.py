"""Robot variable file: ${PLATFORM}, our board's .repl as the engine can load it.

    Variables    pybench.robot.renode_platform    ${ENGINE}

Renode reads a Python peripheral's script name relative to its own working directory,
which its launcher sets to Renode's folder, so Renode gets a copy of the .repl (in
build/) with the script's path made absolute; the built-in engine reads the file as it
is. The rest of a Renode-written suite stays as it was written.
"""

from __future__ import annotations

from pybench.engine.renode.board_script import resolve_repl
from pybench.paths import build_dir, platform_file


def get_variables(engine: str = "builtin") -> dict[str, str]:
    platform = platform_file()
    if engine != "renode":
        return {"PLATFORM": str(platform)}
    copy = build_dir() / "renode" / platform.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(resolve_repl(platform.read_text(), platform.parent.resolve()))
    return {"PLATFORM": str(copy)}
