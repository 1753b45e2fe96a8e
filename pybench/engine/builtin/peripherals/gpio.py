"""A GPIO port (RM0090 section 8): registers stored; nothing drives the pins from outside,
so IDR reads back what ODR drives; BSRR sets and resets ODR bits."""

from __future__ import annotations

from typing import Any

from pybench.engine.builtin.regfile import RegisterBank

MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, AFRH = range(0, 0x28, 4)
PORTS_BASE = 0x40020000   # GPIOA; ports follow every 0x400

# Ports A and B come out of reset with their debug pins (JTAG/SWD) configured.
_RESET_BY_PORT = {
    0: {MODER: 0xA800_0000, PUPDR: 0x6400_0000},
    1: {MODER: 0x0000_0280, OSPEEDR: 0x0000_00C0, PUPDR: 0x0000_0100},
}


class GpioPort(RegisterBank):
    repl_types = ("GPIOPort.STM32_GPIOPort",)
    RESET = {r: 0 for r in (MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, AFRH)}

    def reset_values(self) -> dict[int, int]:
        values = dict(self.RESET)
        values.update(_RESET_BY_PORT.get((self.base - PORTS_BASE) >> 10, {}))
        return values

    @property
    def port(self) -> int:
        """0 for GPIOA, 1 for GPIOB, ... (the number SYSCFG_EXTICRx uses)."""
        return (self.base - PORTS_BASE) >> 10

    def reset(self) -> None:
        super().reset()
        # Pins the bench drives from outside (a button, a strap): the board holds them
        # through every reset of the chip.
        self.driven_mask: int = getattr(self, "driven_mask", 0)
        self.driven: int = getattr(self, "driven", 0)

    def save(self) -> Any:
        return (super().save(), self.driven_mask, self.driven)

    def load(self, state: Any) -> None:
        regs, self.driven_mask, self.driven = state
        super().load(regs)

    def idr(self) -> int:
        return ((self.regs[ODR] & ~self.driven_mask) | (self.driven & self.driven_mask)) \
            & 0xFFFF

    def drive(self, pin: int, level: bool | None) -> None:
        """The bench drives `pin` high or low from outside (None: let it go). A change
        reaches EXTI line `pin` when SYSCFG_EXTICR selects this port for it."""
        touch = getattr(self.bus, "touch", None)
        if touch is not None:
            touch()
        before = self.idr()
        bit = 1 << pin
        if level is None:
            self.driven_mask &= ~bit
        else:
            self.driven_mask |= bit
            self.driven = self.driven | bit if level else self.driven & ~bit
        after = self.idr()
        if (before ^ after) & bit:
            self._to_exti(pin, bool(after & bit))

    def _to_exti(self, pin: int, level: bool) -> None:
        from pybench.engine.builtin.peripherals.exti import Exti
        from pybench.engine.builtin.peripherals.syscfg import Syscfg

        peer = getattr(self.bus, "peer", None)
        if peer is None:
            return
        exti, syscfg = peer(Exti), peer(Syscfg)
        if exti is None:
            return
        selected = 0 if syscfg is None else syscfg.exti_port(pin)
        if selected == self.port:
            exti.line_input(pin, level)

    def read_reg(self, offset: int) -> int:
        if offset == IDR:
            return self.idr()
        if offset == BSRR:
            return 0
        return self.regs[offset]

    def write_reg(self, offset: int, value: int) -> None:
        if offset == BSRR:
            odr = self.regs[ODR]
            self.regs[ODR] = (odr | (value & 0xFFFF)) & ~(value >> 16) & 0xFFFF
        elif offset == IDR:
            return
        else:
            self.regs[offset] = value & 0xFFFFFFFF
