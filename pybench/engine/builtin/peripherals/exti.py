"""EXTI, the external interrupt/event controller (RM0090 section 12): 23 lines with
interrupt mask (IMR), event mask (EMR), rising and falling edge selection (RTSR, FTSR),
software triggers (SWIER) and pending bits (PR, cleared by writing 1).

Lines 0-15 come from the GPIO pins SYSCFG_EXTICRx selects (gpio.py calls line_input()
when a pin the bench drives changes); the others (PVD, RTC alarm, ...) from their
blocks. Each line's NVIC input comes from the platform description (EXTI0-4, the shared
EXTI9_5 and EXTI15_10 through Renode's CombinedInput, PVD, RTC alarm, ...), each NVIC
input a level: any pending, unmasked line routed to it.
"""

from __future__ import annotations

from typing import Any

from pybench.engine.builtin.peripheral import Bus, Peripheral
from pybench.engine.builtin.regfile import merge

IMR, EMR, RTSR, FTSR, SWIER, PR = range(0, 0x18, 4)
LINES = 23
MASK = (1 << LINES) - 1
# RM0090 vector table, for a platform that does not route the lines itself.
DEFAULT_ROUTES = {**{i: 6 + i for i in range(5)}, **dict.fromkeys(range(5, 10), 23),
                  **dict.fromkeys(range(10, 16), 40), 16: 1, 17: 41, 18: 42, 19: 62,
                  20: 76, 21: 2, 22: 3}


class Exti(Peripheral):
    repl_types = ("IRQControllers.STM32F4_EXTI",)

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        lines = {k: v for k, v in dict(props.get("nvic_lines") or {}).items()
                 if isinstance(k, int)}
        self.routes: dict[int, int] = lines or dict(DEFAULT_ROUTES)
        self.nvic_inputs = sorted(set(self.routes.values()))
        self.reset()

    def reset(self) -> None:
        self.regs = dict.fromkeys((IMR, EMR, RTSR, FTSR, SWIER, PR), 0)
        self.inputs = 0                       # level of each line's input
        self.levels: dict[int, bool] = dict.fromkeys(self.nvic_inputs, False)

    def save(self) -> Any:
        return (tuple(sorted(self.regs.items())), self.inputs,
                tuple(sorted(self.levels.items())))

    def load(self, state: Any) -> None:
        regs, self.inputs, levels = state
        self.regs, self.levels = dict(regs), dict(levels)

    # --- lines -------------------------------------------------------------------------
    def line_input(self, line: int, level: bool) -> None:
        """The input of `line` is now `level`: a selected edge makes it pending."""
        bit = 1 << line
        old = bool(self.inputs & bit)
        if old == level:
            return
        self.inputs = self.inputs | bit if level else self.inputs & ~bit
        edge = RTSR if level else FTSR
        if self.regs[edge] & bit and self.regs[IMR] & bit:
            self.regs[PR] |= bit
            self._update()

    def _update(self) -> None:
        active = self.regs[PR] & self.regs[IMR]
        wanted = dict.fromkeys(self.nvic_inputs, False)
        for line, irq in self.routes.items():
            if active >> line & 1:
                wanted[irq] = True
        for irq, level in wanted.items():
            if self.levels.get(irq) != level:
                self.levels[irq] = level
                self.bus.set_irq(irq, level)

    def stable_read(self, offset: int) -> bool:
        return True

    # --- registers ---------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word not in self.regs:
            self.unknown(word, "read")
            return 0
        return (self.regs[word] >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word not in self.regs:
            self.unknown(word, "write")
            return
        _, value = merge(self.regs[word] if word != PR else 0, offset, size, value)
        value &= MASK
        if word == PR:
            self.regs[PR] &= ~value
            self.regs[SWIER] &= ~value
        elif word == SWIER:
            rising = value & ~self.regs[SWIER] & self.regs[IMR]
            self.regs[SWIER] |= value
            self.regs[PR] |= rising
        else:
            self.regs[word] = value
        self._update()
