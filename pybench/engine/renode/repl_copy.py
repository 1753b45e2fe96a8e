"""`python -m pybench.engine.renode.repl_copy IN.repl OUT.repl`: the platform as Renode
needs it by hand (platforms/stm32f407-eth.resc), PythonPeripheral scripts made absolute."""

from __future__ import annotations

import sys
from pathlib import Path

from pybench.engine.renode.board_script import resolve_repl


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m pybench.engine.renode.repl_copy IN.repl OUT.repl",
              file=sys.stderr)
        return 2
    src, dst = Path(args[0]), Path(args[1])
    try:
        text = src.read_text()
    except OSError as e:
        print(f"{src}: cannot read: {e.strerror}", file=sys.stderr)
        return 2
    dst.write_text(resolve_repl(text, src.resolve().parent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
