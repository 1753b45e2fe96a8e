"""The monitor commands the Renode engine sends, and the platform copy it gives Renode."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybench.engine.renode import board_script as bs
from pybench.engine.renode.repl_copy import main as repl_copy_main
from pybench.paths import repo_root

PLATFORMS = repo_root() / "platforms"


def test_resolve_repl_makes_script_names_absolute_and_keeps_the_rest() -> None:
    text = (PLATFORMS / "stm32f407-eth.repl").read_text()
    resolved = bs.resolve_repl(text, PLATFORMS)
    assert f'filename: "{PLATFORMS.resolve() / "flash_controller.py"}"' in resolved
    assert 'filename: "flash_controller.py"' not in resolved
    assert [line for line in resolved.splitlines() if "filename" not in line] == [
        line for line in text.splitlines() if "filename" not in line]


def test_resolve_repl_leaves_absolute_names_alone() -> None:
    text = 'x: Python.PythonPeripheral @ sysbus 0x0\n    filename: "/abs/p.py"\n'
    assert bs.resolve_repl(text, Path("/elsewhere")) == text


def test_repl_copy_command(tmp_path: Path) -> None:
    out = tmp_path / "board.repl"
    assert repl_copy_main([str(PLATFORMS / "stm32f407-eth.repl"), str(out)]) == 0
    assert str(PLATFORMS.resolve() / "flash_controller.py") in out.read_text()
    assert repl_copy_main([str(tmp_path / "missing.repl"), str(out)]) == 2


def test_setup_erases_flash_registers_a_reset_macro_and_records() -> None:
    cmds = bs.setup_commands(Path("/w/board.repl"), Path("/p/recorders.py"), 0x08000000,
                             "flash", 0x100000)
    assert cmds == [
        'mach create "stm32f407"',
        "emulation SetGlobalAdvanceImmediately true",
        "machine LoadPlatformDescription @/w/board.repl",
        "sysbus.flash SetRange 0 0x100000 0xFF",
        'macro reset "cpu VectorTableOffset 0x08000000"',
        "include @/p/recorders.py",
    ]


def test_console_terminal_for_a_person() -> None:
    assert bs.console_terminal(3456) == [
        'emulation CreateServerSocketTerminal 3456 "term" false',
        "connector Connect sysbus.usart1 term",
    ]


def test_power_on_clears_ram_resets_and_starts_from_the_vectors() -> None:
    cmds = bs.power_on_commands(["sram", "ccm"], 0x08000000, 0x20020000, 0x080001C5)
    assert cmds[:3] == ["sysbus.sram ZeroAll", "sysbus.ccm ZeroAll", "machine Reset"]
    assert cmds.index("machine Reset") < cmds.index("cpu PC 0x080001c4")
    assert "sysbus.flash_controller ControlRead 10 0" in cmds
    assert "cpu SP 0x20020000" in cmds


def test_run_and_frame_commands() -> None:
    assert bs.run_for(1_000_000) == 'emulation RunFor "00:00:00.001000"'
    arp = bytes([0xFF] * 6 + [2, 0, 0, 0xF4, 7, 1, 8, 6])
    # The frame check sequence is appended: Renode's MAC drops a frame without one.
    fcs = bs.with_fcs(arp)[-4:].hex()
    assert bs.send_frame(arp) == f'''python "pybench_send('{arp.hex()}{fcs}')"'''
    with pytest.raises(ValueError, match="shorter than an Ethernet header"):
        bs.send_frame(arp[:13])


def test_fcs_is_the_ethernet_crc_least_significant_byte_first() -> None:
    """A frame followed by its FCS leaves the CRC-32 residue 0x2144DF1C."""
    import zlib
    frame = bytes(range(60))
    assert zlib.crc32(bs.with_fcs(frame)) == 0x2144DF1C
    assert bs.load_binary(Path("/w/base-1.bin"), 0x08000000) == (
        "sysbus LoadBinary @/w/base-1.bin 0x08000000")


def test_control_numbers_match_the_flash_controller_script() -> None:
    """The engine and platforms/flash_controller.py must agree on the command numbers."""
    script = (PLATFORMS / "flash_controller.py").read_text()
    for name, value in vars(bs).items():
        if name.startswith("CMD_"):
            assert f"    {name} = {value} " in script or f"    {name} = {value}\n" in script, name
