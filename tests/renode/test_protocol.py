"""The monitor protocol against what a real Renode 1.16.1 (`--disable-gui --plain --port N`,
Mono build) sent: telnet negotiation on connect, the echoed command, the "(name) " prompt,
the error line followed by Renode's reason."""

from __future__ import annotations

import pytest

from pybench.engine.renode import protocol

# Recorded byte for byte from Renode v1.16.1 over its monitor socket.
CONNECT = (b'\xff\xfd\x00\xff\xfb\x01\xff\xfb\x03\xff\xfc"Renode, version 1.16.1'
           b" (d66b0c2a-202612071213)\n\r\n\r(monitor) ")
MACH_CREATE = 'mach create "stm32f407"\n\r(stm32f407) '
LOAD_ERROR = ("sysbus LoadELF @/nope/boot.elf\n\r\r\nThe following methods are available:\r\n\r"
              " - Void LoadELF (ReadFilePath fileName, Boolean useVirtualAddress = False,"
              " IPeripheral cpu = null)\r\n\r\r\n\rUsage:\r\n\r sysbus MethodName param1 param2"
              " ...\r\n\r\r\n\rThere was an error executing command 'sysbus LoadELF"
              " @/nope/boot.elf'\r\nParameters did not match the signature\r\n(stm32f407) ")
NO_SUCH = "nosuch\n\rNo such command or device: nosuch\r\n(stm32f407) "
CONTROL = "sysbus.flash_controller ControlRead 14 0\n\r0x1\r\n(stm32f407) "
ELAPSED = ("machine ElapsedVirtualTime\n\r[Domain = Elapsed Virtual Time: 00:01:02.503125000\r\n"
           "Elapsed Host Time: 00:00:07.000000000\r\nCurrent load: NaN\r\nCumulative load: NaN"
           "\r\nState: Idle\r\nAdvance immediately: True\r\nQuantum: 00:00:00.000100000,"
           " TimeElapsed = 00:01:02.503125000]\r\r\n(stm32f407) ")


def test_connect_banner_ends_with_the_monitor_prompt() -> None:
    text = protocol.clean(protocol.strip_telnet(CONNECT).decode())
    split = protocol.split_prompt(text)
    assert split is not None
    output, prompt = split
    assert prompt == "monitor"
    assert output.startswith("Renode, version 1.16")


def test_partial_output_has_no_prompt_yet() -> None:
    partial = protocol.clean(LOAD_ERROR[:60])
    assert protocol.split_prompt(partial) is None


def test_prompt_name_follows_the_machine() -> None:
    split = protocol.split_prompt(protocol.clean(MACH_CREATE))
    assert split is not None and split[1] == "stm32f407"
    assert protocol.reply_body(split[0], 'mach create "stm32f407"') == ""


def test_error_lines_are_found_and_the_echo_is_dropped() -> None:
    split = protocol.split_prompt(protocol.clean(LOAD_ERROR))
    assert split is not None
    body = protocol.reply_body(split[0], "sysbus LoadELF @/nope/boot.elf")
    assert not body.startswith("sysbus LoadELF")
    # The error line, then Renode's reason from the next line.
    assert protocol.find_error(body) == (
        "There was an error executing command 'sysbus LoadELF @/nope/boot.elf': "
        "Parameters did not match the signature")


def test_an_unknown_command_is_an_error() -> None:
    split = protocol.split_prompt(protocol.clean(NO_SUCH))
    assert split is not None
    assert protocol.find_error(protocol.reply_body(split[0], "nosuch")) == (
        "No such command or device: nosuch")


@pytest.mark.parametrize("line", [
    "No such command or device: flashh",
    "Bad parameters for command sysbus ReadDoubleWord",
    "[FatalError] unexpected EOF while parsing (Line 1, Column 9)",
    "Error E05: Could not find suitable constructor for type 'Miscellaneous.STM32F4_RCC'",
])
def test_other_error_forms_are_errors(line: str) -> None:
    assert protocol.find_error("ok\n" + line) == line


def test_ordinary_output_is_not_an_error() -> None:
    assert protocol.find_error("0x00000001\nExecuted 12 instructions") is None


def test_integer_and_time_answers() -> None:
    split = protocol.split_prompt(protocol.clean(CONTROL))
    assert split is not None
    assert protocol.parse_int(protocol.reply_body(split[0], "x")) == 1
    assert protocol.parse_virtual_time_ns(protocol.clean(ELAPSED)) == 62_503_125_000
    with pytest.raises(ValueError, match="no integer"):
        protocol.parse_int("nothing here")


def test_strip_telnet_keeps_an_escaped_ff() -> None:
    assert protocol.strip_telnet(b"a\xff\xffb\xff\xfb\x01c") == b"a\xffbc"


@pytest.mark.parametrize(("ns", "text"), [
    (100_000, "00:00:00.000100"),
    (1_000_000_000, "00:00:01.000000"),
    (3_723_000_001_000, "01:02:03.000001"),
])
def test_format_interval(ns: int, text: str) -> None:
    assert protocol.format_interval(ns) == text


def test_format_interval_refuses_what_renode_cannot_resolve() -> None:
    with pytest.raises(ValueError, match="microsecond"):
        protocol.format_interval(1500)


def test_quote_and_path() -> None:
    assert protocol.quote('a "b" \\c') == '"a \\"b\\" \\\\c"'
    assert protocol.path_arg("/x/y.elf") == "@/x/y.elf"
    assert protocol.path_arg("/x y/z.elf") == '@"/x y/z.elf"'
    with pytest.raises(ValueError):
        protocol.quote("two\nlines")
