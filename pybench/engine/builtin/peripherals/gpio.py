"""A GPIO port (RM0090 section 8): registers stored; BSRR sets and resets ODR bits.

Pins can be held at a level from outside (a button on the board, a strap: `hold`), kept
across resets as a wire would be, and saved with snapshots. IDR shows that level for a
held pin configured as input; every other pin reads back what ODR drives (pull
resistors and analog mode are not modelled). A change a held input makes reaches EXTI
line `pin` when SYSCFG_EXTICRx selects this port for it.
"""

from __future__ import annotations

from typing import Any

from pybench.engine.builtin.regfile import RegisterBank

MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, AFRH = range(0, 0x28, 4)
PORTS_BASE = 0x40020000   # GPIOA; ports follow every 0x400
MODE_INPUT = 0

# Ports A and B come out of reset with their debug pins (JTAG/SWD) configured.
_RESET_BY_PORT = {
    0: {MODER: 0xA800_0000, PUPDR: 0x6400_0000},
    1: {MODER: 0x0000_0280, OSPEEDR: 0x0000_00C0, PUPDR: 0x0000_0100},
}


class GpioPort(RegisterBank):
    repl_types = ("GPIOPort.STM32_GPIOPort",)
    RESET = {r: 0 for r in (MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, AFRH)}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.held: dict[int, int] = {}   # pin -> level driven from outside the chip
        super().__init__(*args, **kwargs)

    @property
    def port_index(self) -> int:
        """0 for GPIOA, 1 for GPIOB, ... (the number SYSCFG_EXTICRx uses)."""
        return (self.base - PORTS_BASE) >> 10

    port = port_index

    def reset_values(self) -> dict[int, int]:
        values = dict(self.RESET)
        values.update(_RESET_BY_PORT.get(self.port_index, {}))
        return values

    def idr(self) -> int:
        idr = self.regs[ODR] & 0xFFFF
        moder = self.regs[MODER]
        for pin, level in self.held.items():
            if (moder >> (2 * pin)) & 3 == MODE_INPUT:
                idr = (idr & ~(1 << pin)) | (level << pin)
        return idr

    def hold(self, pin: int, level: int | None) -> None:
        """Drive `pin` from outside at `level` (0 or 1); None lets it go."""
        touch = getattr(self.bus, "touch", None)
        if touch is not None:
            touch()
        before = self.idr()
        if level is None:
            self.held.pop(pin, None)
        else:
            self.held[pin] = 1 if level else 0
        after = self.idr()
        if (before ^ after) >> pin & 1:
            self._to_exti(pin, bool(after >> pin & 1))

    def drive(self, pin: int, level: bool | None) -> None:
        """hold() with a bool."""
        self.hold(pin, None if level is None else int(level))

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
        if selected == self.port_index:
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

    def save(self) -> Any:
        return (super().save(), tuple(sorted(self.held.items())))

    def load(self, state: Any) -> None:
        regs, held = state
        super().load(regs)
        self.held = dict(held)
