"""The monitor commands that build and drive our board in Renode, as pure functions.

Kept apart from the process and socket handling so the exact command text is tested
without Renode, and so platforms/stm32f407-eth.resc and the engine say the same thing.
"""

from __future__ import annotations

import re
import struct
import zlib
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
CMD_EPOCH = 13          # <mailbox>/epoch.txt "ns": the trace's time is Renode's minus it
CMD_COUNT = 14          # the trace's length, without writing the dump

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


def setup_commands(repl: Path, recorders: Path, boot_addr: int, flash_name: str,
                   flash_size: int) -> list[str]:
    """Create the machine, erase flash, record the console and the frames the board sends."""
    return [
        f"mach create {quote(MACHINE)}",
        # Without it Renode sleeps to keep virtual time behind the wall clock.
        "emulation SetGlobalAdvanceImmediately true",
        f"machine LoadPlatformDescription {path_arg(str(repl))}",
        # MappedMemory starts as zeros; erased flash reads 0xFF.
        f"sysbus.{flash_name} SetRange 0 0x{flash_size:x} 0xFF",
        *reset_macro(boot_addr),
        # Console and frames out: IronPython hooks on USART1 and the MAC; frames in:
        # recorders.py's pybench_send hands them to the MAC (no switch, no TAP, no root).
        f"include {path_arg(str(recorders))}",
    ]


def reset_macro(boot_addr: int) -> list[str]:
    """What a software reset (SCB_AIRCR.SYSRESETREQ) does on Renode: the monitor runs the
    `reset` macro after every peripheral reset; without one the CPU restarts with its
    vector table at 0, where our board maps nothing, and halts. On the STM32F407 the
    boot pins select flash, aliased at 0, so the vectors are read from `boot_addr`."""
    return [f"macro reset {quote(f'cpu VectorTableOffset 0x{boot_addr:08x}')}"]


def console_terminal(uart_port: int) -> list[str]:
    """USART1 on a TCP port, for a person (the .resc); raw bytes, no telnet negotiation."""
    return [
        f"emulation CreateServerSocketTerminal {uart_port} {quote('term')} false",
        f"connector Connect {UART} term",
    ]


def control(cmd: int, value: int = 0) -> str:
    return f"{FLASH_CONTROLLER} ControlRead {cmd} {value}"


def load_binary(path: Path, addr: int) -> str:
    return f"sysbus LoadBinary {path_arg(str(path))} 0x{addr:08x}"


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


# Shorter than a MAC header: a real MAC drops it (the built-in engine too), and Renode's
# NetworkInterfaceTester cannot make an EthernetFrame of it (a real 1.16.1 died of it).
MIN_FRAME = 14


def with_fcs(frame: bytes) -> bytes:
    """The frame with its frame check sequence (CRC-32, least significant byte first):
    Renode's SynopsysEthernetMAC checks it and drops a frame without one."""
    return frame + struct.pack("<I", zlib.crc32(frame))


def send_frame(frame: bytes) -> str:
    """The frame, with its FCS, to the MAC through recorders.py's pybench_send, which
    keeps from Renode a frame that would kill it."""
    if len(frame) < MIN_FRAME:
        raise ValueError(f"a {len(frame)}-byte frame is shorter than an Ethernet header")
    return f"python {quote(f'pybench_send({with_fcs(frame).hex()!r})')}"


def get_register(name: str) -> str:
    return f"cpu GetRegister {quote(name)}"

