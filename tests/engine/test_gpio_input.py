"""GPIO inputs held from outside the chip (Engine.set_input) in the built-in engine: IDR
shows the level on input pins only, and the level survives resets and snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pybench.engine.builtin.engine import BuiltinEngine
from pybench.engine.pins import parse_pin
from pybench.errors import BenchError
from pybench.paths import platform_file

MODER, IDR, ODR = 0x00, 0x10, 0x14


@pytest.fixture
def engine() -> Iterator[BuiltinEngine]:
    eng = BuiltinEngine(check=False)
    eng.load_platform(platform_file())
    yield eng
    eng.close()


def _port(eng: BuiltinEngine, letter: str) -> Any:
    base = 0x40020000 + 0x400 * (ord(letter) - ord("A"))
    return next(m for m in eng.machine.models
                if "GPIOPort.STM32_GPIOPort" in m.repl_types and m.base == base)


def test_held_input_reads_in_idr_until_the_pin_is_an_output(engine: BuiltinEngine) -> None:
    port = _port(engine, "C")
    assert port.read(IDR, 4) & (1 << 13) == 0
    engine.set_input("PC13", 1)
    assert port.read(IDR, 4) & (1 << 13)
    port.write(MODER, 4, 1 << 26)            # PC13 an output: ODR drives it
    assert port.read(IDR, 4) & (1 << 13) == 0
    port.write(ODR, 4, 1 << 13)
    assert port.read(IDR, 4) & (1 << 13)
    port.write(MODER, 4, 0)                  # an input again: the held level wins over ODR
    engine.set_input("PC13", 0)
    assert port.read(IDR, 4) & (1 << 13) == 0


def test_level_survives_power_cycles_and_snapshots(engine: BuiltinEngine) -> None:
    engine.set_input("pa0", 1)
    engine.power_on()
    port = _port(engine, "A")
    assert port.read(IDR, 4) & 1
    snap = engine.snapshot()
    engine.set_input("PA0", 0)
    assert port.read(IDR, 4) & 1 == 0
    engine.restore(snap)
    assert port.read(IDR, 4) & 1


@pytest.mark.parametrize(("pin", "level", "message"), [
    ("PA16", 1, "PA0 .. PI15"),
    ("PJ0", 1, "PA0 .. PI15"),
    ("A0", 1, "PA0 .. PI15"),
    ("PA0", 2, "not 0 or 1"),
    ("PF0", 1, "no GPIO port F"),
])
def test_bad_pin_or_level_is_one_line_error(engine: BuiltinEngine, pin: str, level: int,
                                            message: str) -> None:
    with pytest.raises(BenchError, match=message):
        engine.set_input(pin, level)


def test_pin_names() -> None:
    assert parse_pin("PA0") == (0, 0)
    assert parse_pin("pi15") == (8, 15)
    assert parse_pin(" PB7 ") == (1, 7)


def test_renode_command_for_an_input() -> None:
    from pybench.engine.renode import board_script as bs

    assert bs.gpio_input(*parse_pin("PA0"), 1) == "sysbus.gpioPortA OnGPIO 0 true"
    assert bs.gpio_input(*parse_pin("PC13"), 0) == "sysbus.gpioPortC OnGPIO 13 false"
