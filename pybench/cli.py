"""The `pybench` command: one subcommand per part of the bench.

Each part registers its own subcommand (a module with `register(subparsers)` that sets
`func` on its parser), so this file knows the list and nothing else. Errors of the
user's making (BenchError, a bad option) are printed as one line, exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from pybench import __version__
from pybench.errors import BenchError

# Modules that add a subcommand, in the order `pybench --help` lists them.
COMMAND_MODULES = (
    "pybench.image.cli",
    "pybench.engine.cli",
    "pybench.net.cli",
    "pybench.powercut.cli",
    "pybench.device.cli",
    "pybench.demo",
    "pybench.bench",
)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: what is wrong, and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="pybench",
        description="Emulated test bench for firmware updates over Ethernet on an STM32F407.",
    )
    parser.add_argument("--version", action="version", version=f"pybench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BenchError as e:
        print(f"pybench: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # We are leaving: a second Ctrl-C during the exit (worker pools, progress bars
        # being shut down) must not turn the status into a death by SIGINT.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("pybench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`pybench ... | head`): stop quietly, as cat would.
        sys.stderr.close()
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
