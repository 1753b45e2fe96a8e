"""The STM32F407's read-only areas below the option bytes (RM0090 table 4 and
section 39): system memory (ST's boot ROM, 0x1FFF0000), the OTP area (0x1FFF7800,
512 bytes + 16 lock bytes, erased), the unique device ID (0x1FFF7A10, 96 bits) and the
flash size (0x1FFF7A22, in KiB); and the option bytes (0x1FFFC000), which show what the
flash interface holds (the same bits as FLASH_OPTCR).

The ROM is one host buffer mapped read+exec: a store into it is refused by unicorn and
becomes a BusFault (the machine's write-protection hook names the address). The ROM's
own code (ST's bootloader) is not ours to ship: it reads as erased (0xFF).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from unicorn import UC_PROT_EXEC, UC_PROT_READ

from pybench.engine.builtin import mmio

ROM_BASE, ROM_SIZE = 0x1FFF_0000, 0x7C00      # system memory .. flash size, page-rounded
OTP_BASE, OTP_SIZE = 0x1FFF_7800, 0x210
UID_ADDR, FLASH_SIZE_ADDR = 0x1FFF_7A10, 0x1FFF_7A22
OPTION_BYTES = 0x1FFF_C000
FLASH_SIZE_KIB = 1024
# A unique ID as ST writes it: X/Y wafer coordinates, wafer number, lot number (ASCII).
DEFAULT_UID = bytes.fromhex("2a0035000d51343037383432")


class SystemMemory:
    def __init__(self, uc: Any, rules: Callable[[], Any], fault: Callable[[int, str], None],
                 uid: bytes = DEFAULT_UID, flash_kib: int = FLASH_SIZE_KIB):
        if len(uid) != 12:
            raise ValueError(f"a unique device ID is 12 bytes, not {len(uid)}")
        self.uc = uc
        self.rules = rules
        self.fault = fault
        self.buf = (ctypes.c_ubyte * ROM_SIZE)()
        ctypes.memset(ctypes.addressof(self.buf), 0xFF, ROM_SIZE)
        view = memoryview(self.buf).cast("B")
        at = UID_ADDR - ROM_BASE
        view[at : at + 12] = uid
        at = FLASH_SIZE_ADDR - ROM_BASE
        view[at : at + 2] = flash_kib.to_bytes(2, "little")
        self.view = view

    def map(self, keep: list[Any], map_region: Callable[..., None] = mmio.map_region) -> None:
        """Map the ROM, and the option bytes through map_region (mmio.map_region's
        arguments)."""
        self.uc.mem_map_ptr(ROM_BASE, ROM_SIZE, UC_PROT_READ | UC_PROT_EXEC,
                            ctypes.addressof(self.buf))
        map_region(self.uc, OPTION_BYTES, 0x400, self.read_option_bytes,
                   self._write_option_bytes, keep)

    def contains(self, addr: int, n: int) -> bool:
        return addr >= ROM_BASE and addr + n <= ROM_BASE + ROM_SIZE

    def read(self, addr: int, n: int) -> bytes:
        off = addr - ROM_BASE
        return bytes(self.view[off : off + n])

    def option_bytes(self) -> int:
        """FLASH_OPTCR's option fields as programmed (factory value without a model)."""
        rules = self.rules()
        return 0x0FFF_AAEC if rules is None else int(rules.option_bytes)

    def read_option_bytes(self, offset: int, size: int) -> int:
        """RM0090 "option bytes organization": the half-word at 0x1FFFC000 holds RDP
        (bits 15:8) and the user options (7:0), the one at 0x1FFFC008 nWRP (11:0) and
        bits 15:12 as FLASH_OPTCR[31:28]. Unused bytes read 0xFF as erased flash."""
        ob = self.option_bytes()
        image = bytearray(b"\xff" * 16)
        image[0:2] = (ob & 0xFFFF).to_bytes(2, "little")
        image[8:10] = (ob >> 16 & 0xFFFF).to_bytes(2, "little")
        raw = bytes(image) + b"\xff" * (0x400 - 16)
        return int.from_bytes(raw[offset : offset + size], "little")

    def _write_option_bytes(self, offset: int, size: int, value: int) -> None:
        self.fault(OPTION_BYTES + offset, "write")
