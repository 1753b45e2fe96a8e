"""The MAC, DMA and PHY models under real code: a small echo driver on the built-in engine.

tests/engine/fw/eth_echo.c resets the MAC, reads the PHY over MDIO, waits for the link,
sets up chained descriptors and echoes every frame with the addresses swapped, taking
the receive interrupt (IRQ 61) through the NVIC. The bench side goes through the engine
interface: send_frame() in, take_frames() out.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pybench.paths import platform_file

FW = Path(__file__).parent / "fw" / "eth_echo.c"
DEV_MAC = bytes.fromhex("020000f40701")
HOST_MAC = bytes.fromhex("020000000001")
REPORT = ("phy_id1", "phy_id2", "bsr", "ready", "irqs", "echoed", "last_fl")


@pytest.fixture(params=[pytest.param(True, id="irq"),
                        pytest.param(False, id="polled")])
def use_irq(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def echo_elf(use_irq: bool, arm_compile: Callable[..., Path], tmp_path: Path) -> Path:
    return arm_compile(FW, tmp_path / "eth_echo.elf", 0x08000200, [
        "-Wextra", f"-DUSE_IRQ={int(use_irq)}", "-Wl,--section-start=.vectors=0x08000000",
        "-Wl,-Tbss=0x20000000", "-Wl,-e,reset_handler"])


@pytest.fixture
def engine(echo_elf: Path):  # type: ignore[no-untyped-def]
    mod = pytest.importorskip("pybench.engine.builtin.engine")
    eng = mod.BuiltinEngine()
    eng.load_platform(platform_file())
    eng.load_elf(echo_elf)
    eng.power_on()
    yield eng
    eng.close()


def report_of(engine, elf: Path) -> dict[str, int]:  # type: ignore[no-untyped-def]
    nm = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                        check=True).stdout
    addr = next(int(f[0], 16) for f in (line.split() for line in nm.splitlines())
                if len(f) == 3 and f[2] == "report")
    raw = engine.machine.debug.read_memory(addr, 4 * len(REPORT))
    return dict(zip(REPORT, struct.unpack(f"<{len(REPORT)}I", raw), strict=True))


def test_driver_brings_up_phy_and_echoes_frames(engine, echo_elf: Path,  # type: ignore[no-untyped-def]
                                                use_irq: bool) -> None:
    result = engine.run(50_000_000, lambda: report_of(engine, echo_elf)["ready"] == 1)
    assert result.reason.value == "condition", result
    rep = report_of(engine, echo_elf)
    assert (rep["phy_id1"], rep["phy_id2"]) == (0x0007, 0xC131)
    assert rep["bsr"] & 0x24 == 0x24

    frames = [DEV_MAC + HOST_MAC + b"\x88\xb5" + bytes((n + i) & 0xFF for i in range(60 + n))
              for n in range(3)]
    for sent, f in enumerate(frames, 1):
        engine.send_frame(f)
        result = engine.run(10_000_000, lambda n=sent: len(engine.machine.frames_out) == n)
        assert result.reason.value == "condition", result
    engine.run(1_000_000)                    # the driver's bookkeeping after the last send
    out = [f for _, f in engine.take_frames()]
    assert out == [HOST_MAC + DEV_MAC + f[12:] for f in frames]
    rep = report_of(engine, echo_elf)
    assert rep["echoed"] == 3
    assert (rep["irqs"] >= 1) == use_irq
    assert rep["last_fl"] == len(frames[-1]) + 4

    engine.send_frame(HOST_MAC + HOST_MAC + b"\x88\xb5" + bytes(50))   # not for us
    engine.run(2_000_000)
    assert engine.take_frames() == []
