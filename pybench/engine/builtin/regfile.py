"""A bank of plain 32-bit registers, for models whose registers mostly just hold values.

Sub-word accesses are merged into the word (byte lanes), as the APB/AHB bridges of the
STM32F4 do for the registers that allow them.
"""

from __future__ import annotations

from typing import Any

from pybench.engine.builtin.peripheral import Bus, Peripheral


def merge(old: int, offset: int, size: int, value: int) -> tuple[int, int]:
    """(word offset, new word) for a write of `size` bytes at `offset` into `old`."""
    shift = (offset & 3) * 8
    mask = ((1 << (size * 8)) - 1) << shift
    return offset & ~3, (old & ~mask) | ((value << shift) & mask)


class RegisterBank(Peripheral):
    """Registers at known offsets with reset values; unknown offsets are reported."""

    #: offset -> reset value, for every register the model knows.
    RESET: dict[int, int] = {}
    default_size = 0x400

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        self.regs: dict[int, int] = {}
        self.reset()

    def stable_read(self, offset: int) -> bool:
        # Plain registers: values change only when written (models that compute a
        # value from time override this).
        return True

    def reset_values(self) -> dict[int, int]:
        return dict(self.RESET)

    def reset(self) -> None:
        self.regs = self.reset_values()

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word not in self.regs:
            self.unknown(word, "read")
            return 0
        value = self.read_reg(word)
        return (value >> ((offset & 3) * 8)) & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word not in self.regs:
            self.unknown(word, "write")
            return
        _, new = merge(self.read_reg(word), offset, size, value)
        self.write_reg(word, new)

    def read_reg(self, offset: int) -> int:
        return self.regs[offset]

    def write_reg(self, offset: int, value: int) -> None:
        self.regs[offset] = value & 0xFFFFFFFF

    def save(self) -> Any:
        return tuple(sorted(self.regs.items()))

    def load(self, state: Any) -> None:
        self.regs = dict(state)
