"""The .repl parser: the real platform file, and bad lines reported as file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pybench.errors import BenchError
from pybench.paths import platform_file
from pybench.platform import repl


def test_real_platform_memories_and_peripherals() -> None:
    p = repl.load(platform_file())
    mems = {m.name: (m.address, m.size) for m in p.memories}
    assert mems["flash"] == (0x0800_0000, 0x10_0000)
    assert mems["sram"] == (0x2000_0000, 0x2_0000)
    assert mems["ccm"] == (0x1000_0000, 0x1_0000)
    usart = p.entry("usart1")
    assert (usart.address, usart.size, usart.irq) == (0x4001_1000, 0x100, 37)
    phy = p.entry("phy")
    assert (phy.parent, phy.address, phy.props["Id2"]) == ("ethernet", 0, 0xC131)
    assert p.entry("flash_controller").props["filename"] == "flash_controller.py"
    assert p.entry("cpu").address is None


def test_props_comments_and_none() -> None:
    text = (
        "// a board\n"
        "x: Misc.Thing @ sysbus <0x1000, +0x20> // trailing comment\n"
        '    label: "a // b"\n'
        "    flag: true\n"
        "    -> nvic@5\n"
        "y: Misc.Other @ none\n"
    )
    p = repl.parse(text, "t.repl")
    x = p.entry("x")
    assert x.props == {"label": "a // b", "flag": True}
    assert (x.address, x.size, x.irq) == (0x1000, 0x20, 5)
    assert p.entry("y").parent is None


@pytest.mark.parametrize(("text", "line", "snippet"), [
    ("flash: Memory.MappedMemory @\n", 1, "cannot parse 'flash: Memory.MappedMemory @'"),
    ("a: T.X @ sysbus 0x10\n    size = 4\n", 2, "cannot parse 'size = 4'"),
    ("a: T.X @ sysbus <0x10, 0x20>\n", 1, "cannot parse"),
    ("    key: 1\n", 1, "indented line before any entry"),
    ("a: T.X @ sysbus 0x10\na: T.Y @ sysbus 0x20\n", 2, "duplicate name 'a'"),
    ("m: Memory.MappedMemory @ sysbus 0x0\n", 1, "memory 'm' has no valid size"),
    ("p: T.X @ nowhere 0\n", 1, "attached to unknown 'nowhere'"),
])
def test_bad_lines_name_file_and_line(text: str, line: int, snippet: str) -> None:
    with pytest.raises(BenchError) as e:
        repl.parse(text, "platforms/x.repl")
    msg = str(e.value)
    assert msg.startswith(f"platforms/x.repl:{line}: ")
    assert snippet in msg
    assert "\n" not in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"nope\.repl: cannot read the platform"):
        repl.load(tmp_path / "nope.repl")


def test_unknown_type_reported_once_and_left_unmapped(tmp_path: Path) -> None:
    from pybench.engine.builtin.engine import BuiltinEngine

    repl_file = tmp_path / "board.repl"
    repl_file.write_text(platform_file().read_text()
                         + "\nmystery: Misc.NoSuchThing @ sysbus 0x50061000\n")
    eng = BuiltinEngine()
    eng.load_platform(repl_file)
    notes = [e.detail for e in eng.events() if "Misc.NoSuchThing" in e.detail]
    assert len(notes) == 1 and notes[0].startswith(f"{repl_file}:")
    from unicorn import UcError

    with pytest.raises(UcError, match="UNMAPPED"):   # nothing answers there
        eng.machine.debug.read_memory(0x50061000, 4)   # reserved on the chip


def test_dwt_and_wwdg_are_declared_under_renode_types(board: Any) -> None:
    """The DWT and the WWDG are in the .repl under Renode's own types (Renode 1.16.1 has
    Miscellaneous.DWT and, for the window watchdog, only the H7's model), at 0x400 bytes
    for the WWDG so that it does not cover the IWDG; the built-in engine builds its own
    models from those entries, not from the ones it implies."""
    from pybench.engine.builtin.dwt import Dwt
    from pybench.engine.builtin.peripherals.wwdg import Wwdg

    p = repl.load(platform_file())
    dwt, wwdg = p.entry("dwt"), p.entry("wwdg")
    assert (dwt.type, dwt.address) == ("Miscellaneous.DWT", 0xE000_1000)
    assert (wwdg.type, wwdg.address, wwdg.size, wwdg.irq) == (
        "Timers.STM32H7_SystemWindowWatchdog", 0x4000_2C00, 0x400, 0)
    assert wwdg.props["apbFrequency"] == 42_000_000
    models = board.machine.models
    assert [(m.name, m.base, m.size) for m in models if isinstance(m, Dwt | Wwdg)] == [
        ("dwt", 0xE000_1000, 0x1000), ("wwdg", 0x4000_2C00, 0x400)]
