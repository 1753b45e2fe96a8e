"""The monitor commands that build and drive our board in Renode, as pure functions.

Kept apart from the process and socket handling so the exact command text is tested
without Renode, and so platforms/stm32f407-eth.resc and the engine say the same thing.
"""

from __future__ import annotations

import re
from pathlib import Path

from pybench.engine.renode.protocol import format_interval, path_arg, quote

MACHINE = "stm32f407"
UART = "sysbus.usart1"
MAC = "sysbus.ethernet"
FLASH_CONTROLLER = "sysbus.flash_controller"

# The flash controller's control commands (platforms/flash_controller.py, CMD_*).
CMD_SYNC = 1
CMD_STATUS = 2
CMD_ARM = 3
CMD_DISARM = 4
CMD_RESET_TRACE = 5
CMD_DUMP = 6
CMD_SAVE = 7
CMD_LOAD = 8
CMD_WRITE_PROTECT = 9
CMD_POWER_ON = 10
CMD_READ = 11
CMD_WRITE = 12

_FILENAME = re.compile(r'^(?P<lead>[ \t]+filename:[ \t]*)"(?P<name>[^"]+)"[ \t]*$', re.MULTILINE)


def resolve_repl(text: str, platform_dir: Path) -> str:
    """The platform text with each PythonPeripheral `filename` made absolute.

    The shared .repl names its scripts relative to the platforms directory (the built-in
    engine insists on "flash_controller.py"); Renode resolves a relative name against
    its own working directory, so the engine hands Renode a copy with absolute paths."""

    def absolute(m: re.Match[str]) -> str:
        name = m.group("name")
        path = Path(name) if Path(name).is_absolute() else (platform_dir / name).resolve()
        return f'{m.group("lead")}{quote(str(path))}'

    return _FILENAME.sub(absolute, text)


def setup_commands(repl: Path, uart_port: int, frames_script: Path) -> list[str]:
    """Create the machine, connect the console to a TCP port and watch the Ethernet MAC."""
    return [
        f"mach create {quote(MACHINE)}",
        f"machine LoadPlatformDescription {path_arg(str(repl))}",
        # emitConfig false: raw bytes on the socket, no telnet negotiation.
        f"emulation CreateServerSocketTerminal {uart_port} {quote('term')} false",
        f"connector Connect {UART} term",
        # Frames in: Renode's NetworkInterfaceTester hands them to the MAC at the current
        # virtual time (SendFrame), with no switch or host TAP, so no root is needed.
        f"emulation CreateNetworkInterfaceTester {quote('nit')} {MAC}",
        # Frames out: an IronPython hook on the MAC's FrameReady event writes them to the
        # mailbox (frames_out.py).
        f"include {path_arg(str(frames_script))}",
    ]


def control(cmd: int, value: int = 0) -> str:
    return f"{FLASH_CONTROLLER} ControlRead {cmd} {value}"


def load_elf(elf: Path) -> str:
    return f"sysbus LoadELF {path_arg(str(elf))}"


def power_on_commands(ram_names: list[str], vtor: int, sp: int, pc: int) -> list[str]:
    """A power-on: RAM cleared, flash kept, every peripheral reset, CPU from the vectors.

    machine Reset resets peripherals (the flash controller gets its INIT request, which
    it treats as a power cycle); the vector table at `vtor` is read by the bench and
    SP/PC set explicitly so the result does not depend on which ELF was loaded last."""
    cmds = [f"sysbus.{name} ZeroAll" for name in ram_names]
    cmds += [
        "machine Reset",
        control(CMD_POWER_ON),
        f"cpu VectorTableOffset 0x{vtor:08x}",
        f"cpu SP 0x{sp:08x}",
        f"cpu PC 0x{pc & ~1:08x}",
    ]
    return cmds


def gpio_input(port: int, pin: int, level: int) -> str:
    """Drive a GPIO port's input line, as a button on the board would (STM32_GPIOPort)."""
    return f"sysbus.gpioPort{chr(ord('A') + port)} OnGPIO {pin} {'true' if level else 'false'}"


def run_for(ns: int) -> str:
    return f"emulation RunFor {quote(format_interval(ns))}"


def send_frame(frame: bytes) -> str:
    if not frame:
        raise ValueError("an empty Ethernet frame cannot be sent")
    return f"nit SendFrame {quote(frame.hex())}"


def get_register(name: str) -> str:
    return f"cpu GetRegister {quote(name)}"

