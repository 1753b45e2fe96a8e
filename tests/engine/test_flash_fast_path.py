"""The flash rules' fast path (program_at_once) against the general one: whenever it
answers, flash content, registers, trace and arm are exactly those of program() followed
by finish(busy_until); when it declines, nothing has changed."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pybench import layout
from pybench.engine.builtin.peripherals.flash import rules_module

R: Any = rules_module()
LAYOUT = layout.load()
BASE = LAYOUT.FLASH_BASE_ADDR
SIZES = list(LAYOUT.sector_sizes)
# A few addresses around sector boundaries, so that the cached sector is sometimes
# the right one and sometimes not.
ADDRS = [LAYOUT.SPARE_ADDR, LAYOUT.SPARE_ADDR + 2, LAYOUT.SPARE_ADDR + 3,
         LAYOUT.APP_SLOT_ADDR - 4, LAYOUT.APP_SLOT_ADDR, LAYOUT.STAGING_ADDR + 0x100]


def fresh(cr: int, sr: int, option_bytes: int, armed: Any, busy: bool, cut: bool,
          last: int) -> Any:
    rules = R.FlashRules(BASE, SIZES)
    rules.cr, rules.sr, rules.option_bytes = cr, sr, option_bytes
    rules.armed, rules.busy, rules.cut = armed, busy, cut
    rules.busy_until = 5 if busy else 0
    # The cached sector of the previous program: that of `last` (or none).
    if last >= 0:
        sector = rules.sector_of(last)
        rules._last_sector = (rules.bases[sector], rules.bases[sector] + SIZES[sector],
                              sector)
    return rules


def state(rules: Any) -> tuple[Any, ...]:
    return (rules.cr, rules.sr, rules.busy, rules.busy_until, rules.cut, rules.armed,
            tuple(rules.trace))


@settings(max_examples=400, deadline=None)
@given(
    cr=st.sampled_from([R.CR_PG | (p << R.CR_PSIZE_SHIFT) for p in range(4)])
    | st.integers(0, 0xFFFFFFFF),
    eopie=st.booleans(), sr=st.sampled_from([0, R.SR_EOP, R.SR_PGSERR]),
    protect=st.sampled_from([-1, 0, 4, 8]), arm_at=st.sampled_from([None, 0, 1]),
    busy=st.booleans(), cut=st.booleans(), addr=st.sampled_from(ADDRS),
    last=st.sampled_from([-1, *ADDRS]), width=st.sampled_from([1, 2, 4]),
    value=st.integers(0, 0xFFFFFFFF), old=st.integers(0, 0xFFFFFFFF),
)
def test_program_at_once_equals_program_then_finish(cr: int, eopie: bool, sr: int,
                                                   protect: int, arm_at: Any, busy: bool,
                                                   cut: bool, addr: int, last: int,
                                                   width: int, value: int, old: int) -> None:
    cr = (cr | R.CR_EOPIE) if eopie else (cr & ~R.CR_EOPIE)
    cr &= ~R.CR_STRT if not busy else 0xFFFFFFFF
    option_bytes = R.OPTCR_FACTORY
    if protect >= 0:
        option_bytes &= ~(1 << (R.OPTCR_NWRP_SHIFT + protect))
    armed = None if arm_at is None else (arm_at, R.MODE_TORN, 0.5, 3)
    value &= (1 << (8 * width)) - 1
    old &= (1 << (8 * width)) - 1
    args = (cr, sr, option_bytes, armed, busy, cut, last)
    fast, slow = fresh(*args), fresh(*args)
    # A trace entry already there, so that an arm at index 1 can match.
    fast.trace.append((0, R.OP_ERASE, BASE, SIZES[0], 0, None, 0, 0))
    slow.trace.append((0, R.OP_ERASE, BASE, SIZES[0], 0, None, 0, 0))
    before = state(fast)

    got = fast.program_at_once(addr, width, value, old, 100, 0x08000200)
    if got is None:
        assert state(fast) == before
        return
    want = slow.program(addr, width, value, old, 100, 0x08000200)
    slow.finish(slow.busy_until)
    assert got == want == old & value
    assert state(fast) == state(slow)


def test_program_at_once_takes_the_common_case() -> None:
    """The fast path must actually answer for a plain word program (else it is dead)."""
    rules = fresh(R.CR_PG | (2 << R.CR_PSIZE_SHIFT), 0, R.OPTCR_FACTORY, None, False,
                  False, LAYOUT.SPARE_ADDR)
    assert rules.program_at_once(LAYOUT.SPARE_ADDR, 4, 0x12345678, 0xFFFFFFFF, 7, 1) \
        == 0x12345678
    assert rules.trace == [(0, R.OP_PROGRAM, LAYOUT.SPARE_ADDR, 4, 3, 0x12345678, 7, 1)]
    assert rules.busy_until == 7 + R.PROGRAM_NS and not rules.busy
