"""platforms/stm32f407-eth.repl and .resc as Renode reads them, checked without Renode:
they parse, agree with flash_layout.h and the built-in engine, and name files that exist."""

from __future__ import annotations

import importlib
import itertools
import re
from pathlib import Path

import pytest

from pybench import layout
from pybench.engine.builtin import registry
from pybench.paths import repo_root
from pybench.platform import repl

PLATFORMS = repo_root() / "platforms"
REPL = PLATFORMS / "stm32f407-eth.repl"
RESC = PLATFORMS / "stm32f407-eth.resc"
# Renode needs these although the firmware does not use them (STM32F4_RCC takes the RTC
# as a constructor argument); the built-in engine has no model for them.
RENODE_ONLY_TYPES = {"Timers.STM32F4_RTC"}


@pytest.fixture(scope="module")
def board() -> repl.Platform:
    return repl.load(REPL)


def test_memories_agree_with_flash_layout(board: repl.Platform) -> None:
    lay = layout.load()
    mems = {m.name: (m.address, m.size) for m in board.memories}
    assert mems == {
        "flash": (lay.FLASH_BASE_ADDR, lay.FLASH_TOTAL_SIZE),
        "sram": (lay.SRAM_BASE_ADDR, lay.SRAM_TOTAL_SIZE),
        "ccm": (lay.CCM_BASE_ADDR, lay.CCM_TOTAL_SIZE),
    }


@pytest.mark.parametrize(("name", "type_", "address", "irq"), [
    ("usart1", "UART.STM32_UART", 0x40011000, 37),
    ("ethernet", "Network.SynopsysEthernetMAC", 0x40028000, 61),
    ("flash_controller", "Python.PythonPeripheral", 0x40023C00, None),
    ("rcc", "Miscellaneous.STM32F4_RCC", 0x40023800, None),
    ("pwr", "Miscellaneous.STM32_PWR", 0x40007000, None),
    ("syscfg", "Miscellaneous.STM32_SYSCFG", 0x40013800, None),
])
def test_the_shared_facts(board: repl.Platform, name: str, type_: str, address: int,
                          irq: int | None) -> None:
    entry = board.entry(name)
    assert (entry.type, entry.address, entry.irq) == (type_, address, irq)


def test_phy_is_the_lan8742a_at_mdio_address_0(board: repl.Platform) -> None:
    phy = board.entry("phy")
    assert (phy.parent, phy.address, phy.props["Id1"], phy.props["Id2"]) == (
        "ethernet", 0, 0x0007, 0xC131)
    # Renode's EthernetPhysicalLayer property name (a wrong name fails the platform load).
    assert "AutoNegotiationLinkPartnerBasePageAbility" in phy.props


def test_rcc_gets_the_rtc_renode_requires(board: repl.Platform) -> None:
    assert board.entry("rcc").props["rtcPeripheral"] == "rtc"
    assert board.entry("rtc").type == "Timers.STM32F4_RTC"


def test_systick_runs_at_sysclk() -> None:
    clock_h = (repo_root() / "firmware" / "common" / "clock.h").read_text()
    m = re.search(r"#define\s+CLOCK_SYSCLK_HZ\s+(\d+)u?", clock_h)
    assert m is not None
    assert repl.load(REPL).entry("nvic").props["systickFrequency"] == int(m.group(1))


def test_every_peripheral_has_a_builtin_model_or_is_renode_only(board: repl.Platform) -> None:
    models = registry.model_classes()
    for e in board.peripherals:
        if e.type in registry.CORE_TYPES or e.type in RENODE_ONLY_TYPES:
            continue
        assert e.type in models, f"{e.name}: {e.type} has no built-in model"


def test_builtin_implied_parts_do_not_collide_with_the_platform(board: repl.Platform) -> None:
    for implied in registry.IMPLIED:
        for e in board.peripherals:
            if e.address == implied.address and e.on_sysbus:
                assert e.type == implied.type, f"{e.name} sits where the built-in {implied.name} is"


def test_sysbus_ranges_do_not_overlap(board: repl.Platform) -> None:
    spans = []
    for e in board.entries:
        if e.on_sysbus:
            assert e.address is not None
            size = e.size or int(e.props.get("size", 0x400))
            spans.append((e.address, e.address + size, e.name))
    spans.sort()
    for (_, end, a), (start, _, b) in itertools.pairwise(spans):
        assert end <= start, f"{a} overlaps {b}"


def test_flash_controller_script_exists_next_to_the_platform(board: repl.Platform) -> None:
    fc = board.entry("flash_controller")
    assert fc.props["initable"] is True
    assert (PLATFORMS / str(fc.props["filename"])).is_file()
    assert (PLATFORMS / "stm32f4_flash_rules.py").is_file()


def test_resc_references_files_that_exist() -> None:
    text = RESC.read_text()
    for ref in re.findall(r"\$ORIGIN/([\w./-]+)", text):
        path = (PLATFORMS / ref).resolve()
        if path.parts[-2] == "build":
            continue   # outputs of `make firmware`
        assert path.is_file(), f"{RESC.name} names {ref}, which does not exist"
    for module in re.findall(r"python -m ([\w.]+)", text):
        importlib.import_module(module)
    assert "machine LoadPlatformDescription $repl" in text


def test_resc_sets_the_board_up_as_the_engine_does() -> None:
    """The erase, the reset macro and the rest of the engine's set-up are in the .resc."""
    from pybench.engine.renode import board_script as bs

    lay = layout.load()
    text = RESC.read_text()
    cmds = bs.setup_commands(Path("/x.repl"), Path("/r.py"), lay.BOOT_ADDR, "flash",
                             lay.FLASH_TOTAL_SIZE)
    for cmd in cmds:
        if "@/" not in cmd:
            assert cmd in text, cmd
    for cmd in bs.console_terminal(3456):
        assert cmd.replace("3456", "$console_port") in text, cmd
