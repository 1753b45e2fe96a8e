"""CRC calculation unit (RM0090 section 4): CRC-32 with the Ethernet polynomial
0x04C11DB7 over 32-bit words, most significant bit first, no reflection, from
0xFFFFFFFF (CR.RESET); IDR is a free byte of storage."""

from __future__ import annotations

from typing import Any

from pybench.engine.builtin.peripheral import Bus, Peripheral

DR, IDR, CR = 0x00, 0x04, 0x08
POLY = 0x04C1_1DB7


def crc32_word(crc: int, word: int) -> int:
    """One 32-bit data word into the running CRC, as the unit does it."""
    crc ^= word & 0xFFFF_FFFF
    for _ in range(32):
        crc = ((crc << 1) ^ POLY) & 0xFFFF_FFFF if crc & 0x8000_0000 else (crc << 1) & 0xFFFF_FFFF
    return crc


class Crc(Peripheral):
    repl_types = ("CRC.STM32_CRC",)

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        self.reset()

    def reset(self) -> None:
        self.dr = 0xFFFF_FFFF
        self.idr = 0

    def save(self) -> Any:
        return (self.dr, self.idr)

    def load(self, state: Any) -> None:
        self.dr, self.idr = state

    def stable_read(self, offset: int) -> bool:
        return True

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        value = {DR: self.dr, IDR: self.idr, CR: 0}.get(word)
        if value is None:
            self.unknown(word, "read")
            return 0
        return (value >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == DR:
            self.dr = crc32_word(self.dr, value)
        elif word == IDR:
            self.idr = value & 0xFF
        elif word == CR:
            if value & 1:
                self.dr = 0xFFFF_FFFF
        else:
            self.unknown(word, "write")
