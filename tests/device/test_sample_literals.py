"""Nothing of our sample device is written into the bench: its address, MAC, HTTP paths,
console lines and region addresses live in devices/sample.toml alone. This test reads the
description, derives the literals a hard-coded copy would contain, and looks for each in
pybench/ (the bench's code and the files it ships)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sample_device import ROOT, SAMPLE

PYBENCH = ROOT / "pybench"


def _console_fragments(pattern: str) -> list[str]:
    """The plain-text parts of a console regex that say something ("net: up")."""
    words = []
    for alt in pattern.split("|"):
        text = re.sub(r"\\[bdsw]\+?|[\^$()?*+]|\\", " ", alt)
        text = re.sub(r"\s+", " ", text).strip()
        if len(text) >= 6:
            words.append(text)
    return words


def sample_literals() -> list[str]:
    d = SAMPLE
    found: list[str] = []
    assert d.network.address is not None
    found += [d.network.address, d.network.mac]
    if d.transports.http:
        found += [s.path for s in d.transports.http.steps if len(s.path) > 1]
    for restart in d.transports.restart.values():
        if restart.request is not None:
            found.append(restart.request.path)
    c = d.console
    for pattern in (c.ready, c.version, c.staged, c.refused):
        found += _console_fragments(pattern or "")
    for region in d.layout.regions:
        if region.role.value in ("application", "staging", "metadata"):
            found.append(f"0x{region.addr:08x}")
            found.append(f"0x{region.addr >> 16:04x}_{region.addr & 0xFFFF:04x}")
    return sorted(set(found))


def _sources() -> list[Path]:
    return sorted(p for p in PYBENCH.rglob("*") if p.is_file() and p.suffix in
                  (".py", ".repl", ".resc", ".robot", ".html", ".toml"))


def test_the_literals_are_what_a_copy_would_contain() -> None:
    literals = sample_literals()
    # The test must be able to fail: it knows the address, a path and a console line.
    assert SAMPLE.network.address in literals
    assert any(lit.startswith("/") for lit in literals)
    assert any("up" in lit for lit in literals)
    assert len(literals) >= 10


@pytest.mark.parametrize("literal", sample_literals())
def test_pybench_does_not_hard_code_the_sample_device(literal: str) -> None:
    hits = []
    for path in _sources():
        text = path.read_text(errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            if re.search(rf"(?<![\w.]){re.escape(literal)}(?![\w])", line, re.IGNORECASE):
                hits.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not hits, f"{literal!r} is written into the bench:\n" + "\n".join(hits)
