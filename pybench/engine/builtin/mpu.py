"""The Cortex-M4 MPU (ARMv7-M B3.5; PM0214 section 4.5): 8 regions, registers in the
SCS at 0xE000ED90 (TYPE, CTRL, RNR, RBAR, RASR and the three RBAR/RASR aliases), and
the MemManage faults its regions cause.

Registers: as the architecture defines them (RBAR.VALID selects the region through
RBAR.REGION; SIZE, SRD, AP, XN, ENABLE kept). Enforcement, while CTRL.ENABLE is set:
unicorn hooks restricted to the address range of each region that takes rights away
(no access, read-only, execute-never) check every access there against the highest-
numbered region covering it (subregions honoured) and the privilege of the code
(handler mode or CONTROL.nPRIV = 0 is privileged). A denied load or store is a
MemManage fault (DACCVIOL, MMFAR valid), a denied fetch IACCVIOL; both precise, the
faulting instruction is the one stacked.

Limits: the default-map background rule (PRIVDEFENA = 0 makes every address outside a
region fault) is not enforced; stores into flash are governed by the flash interface
only. A denied store has landed when the hook sees it (unicorn calls it first): the
machine puts the old bytes back before the fault is taken, so memory is as the chip
leaves it. Regions are applied when the slice that wrote the MPU ends (right after the
writing instruction), as a DSB/ISB pair after the write would on the chip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REGIONS = 8
TYPE, CTRL, RNR, RBAR, RASR = 0xD90, 0xD94, 0xD98, 0xD9C, 0xDA0
ALIASES = {0xDA4: RBAR, 0xDA8: RASR, 0xDAC: RBAR, 0xDB0: RASR, 0xDB4: RBAR, 0xDB8: RASR}
OFFSETS = (TYPE, CTRL, RNR, RBAR, RASR, *ALIASES)
CTRL_ENABLE, CTRL_HFNMIENA, CTRL_PRIVDEFENA = 1, 2, 4
RASR_ENABLE = 1
RASR_XN = 1 << 28
# AP field -> (privileged read, privileged write, unprivileged read, unprivileged write)
_AP = {0: (False, False, False, False), 1: (True, True, False, False),
       2: (True, True, True, False), 3: (True, True, True, True),
       4: (False, False, False, False), 5: (True, False, False, False),
       6: (True, False, True, False), 7: (True, False, True, False)}


@dataclass(frozen=True)
class Region:
    number: int
    base: int
    size: int
    srd: int
    ap: int
    xn: bool

    def covers(self, addr: int) -> bool:
        if not self.base <= addr < self.base + self.size:
            return False
        if self.size >= 256 and self.srd:
            sub = (addr - self.base) // (self.size // 8)
            return not self.srd >> sub & 1
        return True

    @property
    def restricts(self) -> bool:
        return self.xn or self.ap != 3


class Mpu:
    """The MPU's registers and the rights they give (the machine installs the hooks)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.ctrl = 0
        self.rnr = 0
        self.rbar = [0] * REGIONS
        self.rasr = [0] * REGIONS
        self.changed = True

    def save(self) -> Any:
        return (self.ctrl, self.rnr, tuple(self.rbar), tuple(self.rasr))

    def load(self, state: Any) -> None:
        self.ctrl, self.rnr, rbar, rasr = state
        self.rbar, self.rasr = list(rbar), list(rasr)
        self.changed = True

    # --- registers -----------------------------------------------------------------------
    def read(self, word: int) -> int:
        reg = ALIASES.get(word, word)
        if reg == TYPE:
            return REGIONS << 8
        if reg == CTRL:
            return self.ctrl
        if reg == RNR:
            return self.rnr
        if reg == RBAR:
            return (self.rbar[self.rnr] & ~0x1F) | self.rnr
        return self.rasr[self.rnr]

    def write(self, word: int, value: int) -> None:
        reg = ALIASES.get(word, word)
        if reg == CTRL:
            self.ctrl = value & 7
        elif reg == RNR:
            self.rnr = value & (REGIONS - 1)
        elif reg == RBAR:
            if value & 0x10:                          # VALID: REGION picks the region
                self.rnr = value & (REGIONS - 1)
            self.rbar[self.rnr] = value & ~0x1F
        elif reg == RASR:
            self.rasr[self.rnr] = value & 0x1737_FF3F
        self.changed = True

    # --- rights --------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return bool(self.ctrl & CTRL_ENABLE)

    def regions(self) -> list[Region]:
        out = []
        for n in range(REGIONS):
            rasr = self.rasr[n]
            if not rasr & RASR_ENABLE:
                continue
            size = 1 << (((rasr >> 1) & 0x1F) + 1)
            if size < 32:
                continue
            base = self.rbar[n] & ~(size - 1) & 0xFFFF_FFFF
            out.append(Region(n, base, size, (rasr >> 8) & 0xFF, (rasr >> 24) & 7,
                              bool(rasr & RASR_XN)))
        return out

    def check(self, regions: list[Region], addr: int, access: str, privileged: bool) -> bool:
        """May `access` ("read", "write", "fetch") at addr go ahead?"""
        region = None
        for r in regions:                    # ascending numbers: the last match wins
            if r.covers(addr):
                region = r
        if region is None:
            return True                      # background: the default map
        if access == "fetch":
            if region.xn:
                return False
            access = "read"
        pr, pw, ur, uw = _AP[region.ap]
        if access == "read":
            return pr if privileged else ur
        return pw if privileged else uw
