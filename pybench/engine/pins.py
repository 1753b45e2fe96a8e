"""GPIO pin names as RM0090 writes them: "PA0" .. "PI15" -> (port index, pin number)."""

from __future__ import annotations

import re

from pybench.errors import BenchError

_PIN = re.compile(r"P([A-I])(\d{1,2})")


def parse_pin(name: str) -> tuple[int, int]:
    """(0 for port A .. 8 for port I, 0..15); BenchError naming the pin otherwise."""
    m = _PIN.fullmatch(name.strip().upper())
    if m is None or int(m.group(2)) > 15:
        raise BenchError(f"GPIO pin {name!r}: expected a port and pin like PA0 .. PI15")
    return ord(m.group(1)) - ord("A"), int(m.group(2))


def check_level(pin: str, level: int) -> int:
    if level not in (0, 1):
        raise BenchError(f"GPIO pin {pin}: level {level!r} is not 0 or 1")
    return int(level)
