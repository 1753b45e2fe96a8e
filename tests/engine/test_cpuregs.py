"""cpuregs.py reaches unicorn's registers through its C API: the values must be the
ones the Python binding reads and writes."""

from __future__ import annotations

from unicorn import UC_ARCH_ARM, UC_MODE_THUMB, Uc
from unicorn import arm_const as a

from pybench.engine.builtin.cpuregs import CpuRegs

REGS = [a.UC_ARM_REG_R0, a.UC_ARM_REG_R7, a.UC_ARM_REG_R12, a.UC_ARM_REG_LR,
        a.UC_ARM_REG_SP, a.UC_ARM_REG_S0 + 5, a.UC_ARM_REG_PRIMASK, a.UC_ARM_REG_BASEPRI]


def _uc() -> Uc:
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
    uc.ctl_set_cpu_model(a.UC_CPU_ARM_CORTEX_M4)
    return uc


def test_one_register_reads_and_writes_as_the_binding() -> None:
    uc = _uc()
    regs = CpuRegs(uc)
    for i, reg in enumerate(REGS):
        value = (0x8765_4320 + 0x1111 * i) & (0xFF if reg == a.UC_ARM_REG_BASEPRI else ~0)
        value &= 1 if reg == a.UC_ARM_REG_PRIMASK else 0xFFFF_FFFF
        regs.write(reg, value)
        assert uc.reg_read(reg) == regs.read(reg) == value
        uc.reg_write(reg, value ^ (1 if reg == a.UC_ARM_REG_PRIMASK else 0x10))
        assert regs.read(reg) == uc.reg_read(reg)


def test_a_set_reads_and_writes_in_one_call() -> None:
    uc = _uc()
    core = [a.UC_ARM_REG_R0 + i for i in range(8)]
    regset = CpuRegs(uc).set(core)
    regset.write([0xF000_0000 + i for i in range(8)])
    assert list(uc.reg_read_batch(core)) == regset.read() == [0xF000_0000 + i for i in range(8)]
    raw = regset.read_raw()
    uc.reg_write(a.UC_ARM_REG_R3, 1)
    assert regset.read_raw() != raw and regset.read()[3] == 1

