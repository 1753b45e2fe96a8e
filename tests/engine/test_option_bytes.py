"""Option bytes (RM0090 3.6): read protection levels as the flash interface enforces
them, and the option bytes as the CPU reads them at 0x1FFFC000."""

from __future__ import annotations

from typing import Any

from test_flash_rules import BASE, Board, R

OPTCR_OPTSTRT = R.OPTCR_OPTSTRT


def _program_options(b: Board, optcr: int) -> None:
    b.w(R.OPTKEYR, R.OPTKEY1)
    b.w(R.OPTKEYR, R.OPTKEY2)
    b.w(R.OPTCR, optcr)
    b.w(R.OPTCR, optcr | OPTCR_OPTSTRT)
    b.w(R.OPTCR, optcr | R.OPTCR_OPTLOCK)             # locked again, as HAL leaves it


def _with_rdp(optcr: int, rdp: int) -> int:
    return (optcr & ~0xFF00) | rdp << 8


def test_factory_option_bytes_are_level_0_unprotected() -> None:
    b = Board()
    assert b.rules.option_bytes == 0x0FFFAAEC and b.rules.read_protection() == 0
    assert b.r(R.OPTCR) == 0x0FFFAAED                  # OPTLOCK set at reset


def test_level_1_back_to_0_mass_erases_the_flash() -> None:
    b = Board(fill=0x00)
    _program_options(b, _with_rdp(R.OPTCR_FACTORY, 0x55))    # any value: level 1
    assert b.rules.read_protection() == 1
    assert b.mem.read(BASE, 4) == b"\0\0\0\0"              # level 1 keeps the flash
    _program_options(b, R.OPTCR_FACTORY)                   # back to 0xAA: level 0
    assert b.rules.read_protection() == 0
    assert b.mem.buf == bytearray(b"\xff") * len(b.mem.buf)
    kinds = [op[1] for op in b.rules.trace]
    assert kinds == ["erase"] * len(b.sizes)


def test_level_2_freezes_the_option_bytes() -> None:
    b = Board()
    _program_options(b, _with_rdp(R.OPTCR_FACTORY, 0xCC))
    assert b.rules.read_protection() == 2
    b.rules.reset()
    _program_options(b, R.OPTCR_FACTORY)
    assert b.rules.read_protection() == 2
    assert any("level 2" in d for _, d in b.events)


def test_nwrp_from_programmed_option_bytes_refuses_an_erase() -> None:
    b = Board()
    _program_options(b, R.OPTCR_FACTORY & ~(1 << (R.OPTCR_NWRP_SHIFT + 3)))
    b.unlock()
    b.w(R.CR, R.CR_SER | 3 << R.CR_SNB_SHIFT | 2 << R.CR_PSIZE_SHIFT)
    b.w(R.CR, R.CR_SER | 3 << R.CR_SNB_SHIFT | 2 << R.CR_PSIZE_SHIFT | R.CR_STRT)
    assert b.r(R.SR) & R.SR_WRPERR and b.rules.trace == []


def test_cpu_reads_option_bytes_as_the_flash_interface_holds_them(board: Any) -> None:
    ctrl = board.machine.flash_ctrl
    ctrl.set_write_protect(5, True)
    sysmem = board.machine.sysmem
    assert sysmem.read_option_bytes(0, 2) == 0xAAEC
    assert sysmem.read_option_bytes(8, 2) == 0x0FFF & ~(1 << 5)


def test_debugger_cannot_read_flash_at_level_1(board: Any) -> None:
    import pytest

    rules = board.machine.flash_ctrl.rules
    rules.option_bytes = _with_rdp(rules.option_bytes, 0x55)
    with pytest.raises(ValueError, match="read protection"):
        board.machine.debug.read_memory(BASE, 4)
    assert board.read_flash(BASE, 4) == b"\xff" * 4      # the bench's own view stays
