"""TIM2-TIM5 (general-purpose, RM0090 section 18) and TIM6/TIM7 (basic, section 20):
the time base: counter, prescaler, auto-reload, update event and its interrupt.

The counter counts up at the timer clock (the RCC's APB1 timer clock, APB2 for timers
above 0x40010000) divided by PSC + 1. It is not stepped: while CEN is set it is computed
from the cycle count, and one scheduled callback stands for the next update event
(overflow past ARR): UIF, the interrupt when UIE, the preloaded PSC (and ARR when ARPE)
taking effect, a stop in one-pulse mode. EGR.UG re-initialises the counter and makes an
update event (UIF unless URS). Update events and counter values are exact in cycles:
the time of tick n is kept as a fraction of a cycle, never rounded into the next.

Not modelled (stored only, or an event): down and centre-aligned counting, capture/
compare channels, slave modes, DMA requests. TIM2 and TIM5 have a 32-bit counter and
ARR; the others 16 bits. The repl's `frequency` property is Renode's; the bench takes
the clock from the RCC, as the chip does.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from pybench.engine.builtin.peripheral import Bus, Peripheral
from pybench.engine.builtin.peripherals.rcc import Rcc
from pybench.engine.builtin.regfile import merge

CPU_HZ = 168_000_000
CR1, CR2, SMCR, DIER, SR, EGR, CCMR1, CCMR2, CCER, CNT, PSC, ARR = range(0, 0x30, 4)
RCR, CCR1, CCR2, CCR3, CCR4, BDTR, DCR, DMAR, OR = range(0x30, 0x54, 4)
CR1_CEN, CR1_UDIS, CR1_URS, CR1_OPM, CR1_DIR, CR1_CMS, CR1_ARPE = 1, 2, 4, 8, 16, 0x60, 0x80
DIER_UIE = 1
SR_UIF = 1
EGR_UG = 1
_BASIC = (CR1, CR2, DIER, SR, EGR, CNT, PSC, ARR)
_GENERAL = (CR1, CR2, SMCR, DIER, SR, EGR, CCMR1, CCMR2, CCER, CNT, PSC, ARR, CCR1, CCR2,
            CCR3, CCR4, DCR, DMAR, OR)
_WIDE_BASES = (0x4000_0000, 0x4000_0C00)            # TIM2, TIM5: 32-bit
_BASIC_BASES = (0x4000_1000, 0x4000_1400)           # TIM6, TIM7


class StmTimer(Peripheral):
    repl_types = ("Timers.STM32_Timer",)

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size, bus, props)
        self.irq: int | None = props.get("irq")
        self.basic = base in _BASIC_BASES
        self.top = 0xFFFF_FFFF if base in _WIDE_BASES else 0xFFFF
        self.known = _BASIC if self.basic else _GENERAL
        self._rcc: Any = False           # the RCC model, looked up on first use
        self.reset()

    # --- state -------------------------------------------------------------------------
    def reset(self) -> None:
        self.regs = dict.fromkeys(self.known, 0)
        if self.basic:
            self.regs[ARR] = 0xFFFF
        self.psc_active = 0              # the prescaler in use (PSC is preloaded)
        self.arr_active = self.regs[ARR]
        self.anchor = Fraction(0)        # cycle at which the counter held anchor_count
        self.anchor_count = 0
        self.rate = Fraction(1)          # cycles per counter tick while running
        self.update: object | None = None
        self._irq_level = False
        self._told_dir = False

    def save(self) -> Any:
        return (tuple(sorted(self.regs.items())), self.psc_active, self.arr_active,
                self.anchor, self.anchor_count, self.rate, self.update, self._irq_level)

    def load(self, state: Any) -> None:
        (regs, self.psc_active, self.arr_active, self.anchor, self.anchor_count,
         self.rate, self.update, self._irq_level) = state
        self.regs = dict(regs)

    # --- time --------------------------------------------------------------------------
    def _cycles(self) -> int:
        return int(getattr(self.bus, "cycles", 0))

    def clock_hz(self) -> int:
        if self._rcc is False:
            self._rcc = self.bus.peer(Rcc) if hasattr(self.bus, "peer") else None
        rcc = self._rcc
        if rcc is None:
            return CPU_HZ // 2
        clocks = rcc.clocks()
        return clocks.tim2 if self.base >= 0x4001_0000 else clocks.tim1

    @property
    def running(self) -> bool:
        return bool(self.regs[CR1] & CR1_CEN)

    def count(self) -> int:
        if not self.running:
            return self.regs[CNT]
        ticks = int((self._cycles() - self.anchor) / self.rate)
        value = self.anchor_count + ticks
        period = self.arr_active + 1
        if self.anchor_count <= self.arr_active:
            return value if value < period else (value - period) % period
        return value & self.top

    def _rebase(self, count: int | None = None) -> None:
        """Start counting from now at `count` (default: the current count)."""
        now = self._cycles()
        value = self.count() if count is None else count
        self.regs[CNT] = value
        self.anchor = Fraction(now)
        self.anchor_count = value
        self.rate = Fraction(CPU_HZ * (self.psc_active + 1), max(self.clock_hz(), 1))
        self._schedule()

    def _schedule(self) -> None:
        if self.update is not None:
            self.bus.cancel(self.update)
            self.update = None
        if not self.running or self.arr_active == 0:
            return
        if self.anchor_count <= self.arr_active:
            ticks = self.arr_active + 1 - self.anchor_count
        else:
            ticks = self.top + 1 - self.anchor_count
        at = self.anchor + ticks * self.rate
        self._update_at = at
        self.update = self.bus.schedule_cycles(-int(-at // 1), self._on_update)  # type: ignore[attr-defined]

    def _on_update(self) -> None:
        """The counter passed ARR: an update event at the exact (fractional) cycle."""
        self.update = None
        at = self._update_at
        self._update_event(software=False)
        self.anchor, self.anchor_count = at, 0
        self.rate = Fraction(CPU_HZ * (self.psc_active + 1), max(self.clock_hz(), 1))
        if self.regs[CR1] & CR1_OPM:
            self.regs[CR1] &= ~CR1_CEN
            self.regs[CNT] = 0
            return
        self._schedule()

    def _update_event(self, software: bool) -> None:
        cr1 = self.regs[CR1]
        if cr1 & CR1_UDIS:
            return
        # The preload registers reach the active ones at every update event.
        self.psc_active = self.regs[PSC]
        self.arr_active = self.regs[ARR]
        if not (software and cr1 & CR1_URS):
            self.regs[SR] |= SR_UIF
        self._update_irq()

    def _update_irq(self) -> None:
        level = bool(self.regs[SR] & SR_UIF and self.regs[DIER] & DIER_UIE)
        if level != self._irq_level and self.irq is not None:
            self._irq_level = level
            self.bus.set_irq(self.irq, level)

    def stable_read(self, offset: int) -> bool:
        return offset & ~3 != CNT         # the counter moves with time; UIF at events

    # --- registers ---------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word not in self.regs:
            self.unknown(word, "read")
            return 0
        value = self.count() if word == CNT else 0 if word == EGR else self.regs[word]
        return (value >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word not in self.regs:
            self.unknown(word, "write")
            return
        old = self.count() if word == CNT else self.regs[word]
        _, value = merge(old, offset, size, value)
        if word == CR1:
            self._write_cr1(value)
        elif word == SR:
            self.regs[SR] &= value                # rc_w0: writing 0 clears
            self._update_irq()
        elif word == EGR:
            if value & EGR_UG:
                self._update_event(software=True)
                if self.running:
                    self._rebase(0)
                else:
                    self.regs[CNT] = 0
        elif word == CNT:
            self.regs[CNT] = value & self.top
            if self.running:
                self._rebase(value & self.top)
        elif word == PSC:
            self.regs[PSC] = value & 0xFFFF
        elif word == ARR:
            self.regs[ARR] = value & self.top
            if not self.regs[CR1] & CR1_ARPE:
                if self.running:
                    self.regs[CNT] = self.count()
                self.arr_active = self.regs[ARR]
                if self.running:
                    self._rebase(self.regs[CNT])
        elif word == DIER:
            self.regs[DIER] = value & 0xFFFF
            self._update_irq()
        else:
            self.regs[word] = value & 0xFFFF_FFFF

    def _write_cr1(self, value: int) -> None:
        was = self.running
        if was:
            self.regs[CNT] = self.count()
        if value & (CR1_DIR | CR1_CMS) and not self.basic and not self._told_dir:
            self._told_dir = True
            self.bus.event("unmodelled", f"{self.name}: down or centre-aligned counting"
                                         " (CR1.DIR/CMS) is not modelled: counts up")
        self.regs[CR1] = value & (0x3FF if not self.basic else 0x8F)
        if self.running and not was:
            self._rebase(self.regs[CNT])
        elif was and not self.running:
            if self.update is not None:
                self.bus.cancel(self.update)
                self.update = None
        elif self.running:
            self._rebase(self.regs[CNT])
