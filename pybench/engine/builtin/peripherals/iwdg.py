"""IWDG, the independent watchdog (RM0090 section 21): a 12-bit down-counter clocked by
the LSI (32 kHz) through a prescaler of 4 << PR. Writing 0xCCCC to KR starts it from
0xFFF, 0xAAAA reloads it from RLR, 0x5555 opens PR and RLR for writing (until another
key). When the counter reaches 0 the chip resets (RCC_CSR.IWDGRSTF). Nothing stops it
but a reset. With the WDG_SW option bit at 0 (hardware watchdog) it starts at reset.

The counter is not stepped: its expiry is one scheduled callback, moved by each reload.
PVU/RVU in SR read 0: the bench applies PR and RLR at once.
"""

from __future__ import annotations

from typing import Any

from pybench.engine.builtin.peripheral import Bus, Peripheral
from pybench.engine.builtin.regfile import merge

KR, PR, RLR, SR = 0x00, 0x04, 0x08, 0x0C
KEY_START, KEY_RELOAD, KEY_ACCESS = 0xCCCC, 0xAAAA, 0x5555
LSI_HZ = 32_000
CYCLES_PER_LSI = 168_000_000 // LSI_HZ       # 5250: exact
OPTION_WDG_SW = 1 << 5                       # FLASH_OPTCR / option bytes USER bit


class Iwdg(Peripheral):
    repl_types = ("Timers.STM32_IndependentWatchdog",)

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        self.reset()

    def reset(self) -> None:
        self.pr = 0
        self.rlr = 0xFFF
        self.unlocked = False
        self.running = False
        self.loaded_at = 0            # cycle of the last (re)load
        self.loaded_value = 0
        self.expiry: object | None = None

    def system_reset(self, cause: str) -> None:
        self.reset()
        if not self._option_bytes() & OPTION_WDG_SW:
            self._start()              # hardware watchdog: running from reset

    def _option_bytes(self) -> int:
        """The option bytes the flash interface holds (WDG_SW set without one)."""
        from pybench.engine.builtin.peripherals.flash import FlashInterface

        peer = getattr(self.bus, "peer", None)
        flash = peer(FlashInterface) if peer is not None else None
        return OPTION_WDG_SW if flash is None else int(flash.rules.option_bytes)

    def save(self) -> Any:
        return (self.pr, self.rlr, self.unlocked, self.running, self.loaded_at,
                self.loaded_value, self.expiry)

    def load(self, state: Any) -> None:
        (self.pr, self.rlr, self.unlocked, self.running, self.loaded_at,
         self.loaded_value, self.expiry) = state

    # --- counting ----------------------------------------------------------------------
    def tick_cycles(self) -> int:
        return CYCLES_PER_LSI * (4 << min(self.pr, 6))

    def _now(self) -> int:
        return int(getattr(self.bus, "cycles", 0))

    def counter(self) -> int:
        """The down-counter now (not readable by firmware; for tests and the bench)."""
        if not self.running:
            return self.loaded_value
        return max(self.loaded_value - (self._now() - self.loaded_at) // self.tick_cycles(), 0)

    def _load(self, value: int) -> None:
        self.loaded_at = self._now()
        self.loaded_value = value
        if self.expiry is not None:
            self.bus.cancel(self.expiry)
        at = self.loaded_at + value * self.tick_cycles()
        self.expiry = self.bus.schedule_cycles(at, self._expired)  # type: ignore[attr-defined]

    def _start(self) -> None:
        self.running = True
        self._load(0xFFF)

    def _expired(self) -> None:
        self.expiry = None
        self.bus.event("watchdog", f"{self.name}: IWDG counter reached 0: system reset")
        self.bus.request_system_reset("IWDG")  # type: ignore[attr-defined]

    def stable_read(self, offset: int) -> bool:
        return True                       # the counter is not readable

    # --- registers ---------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        value = {KR: 0, PR: self.pr, RLR: self.rlr, SR: 0}.get(word)
        if value is None:
            self.unknown(word, "read")
            return 0
        return (value >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        _, value = merge(0, offset, size, value)
        if word == KR:
            key = value & 0xFFFF
            self.unlocked = key == KEY_ACCESS
            if key == KEY_START and not self.running:
                self._start()
            elif key == KEY_RELOAD and self.running:
                self._load(self.rlr)
        elif word == PR:
            if self.unlocked:
                if self.running:
                    remaining = self.counter()
                    self.pr = value & 7
                    self._load(remaining)
                else:
                    self.pr = value & 7
        elif word == RLR:
            if self.unlocked:
                self.rlr = value & 0xFFF
        elif word != SR:
            self.unknown(word, "write")
