"""The sample-flag device (docs/sample-flag.md) as `make firmware` builds it, in the
built-in engine: its layout, the button that picks the mode, the first DHCP DISCOVER, and
its flag bootloader applying, refusing and resuming an update.

Skipped, with the reason, when build/sample-flag has not been made.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.l2 import Ether

from pybench import layout
from pybench.engine.base import CutMode, PowerCut, StopReason
from pybench.engine.builtin.engine import BuiltinEngine
from pybench.net.dhcp import DhcpConfig
from pybench.net.host import Host
from pybench.net.transport import HttpStep, HttpTransport, TftpTransport
from pybench.net.upload import Upload
from pybench.net.wire import Wire
from pybench.paths import platform_file, repo_root

LAYOUT = layout.FlashLayout(layout.parse_header(
    (repo_root() / "firmware/devices/sample-flag/flash_layout.h").read_text()))
MAC = "02:00:00:f4:07:02"
BOOT_NS = 3_000_000_000
VERSIONS = (1, 2, 3)


@pytest.fixture(scope="module")
def flag_build(built: Path) -> Path:
    path = built / "sample-flag"
    if not (path / "boot.elf").exists():
        pytest.skip(f"{path}/boot.elf missing: run `make firmware`")
    return path


def _segments(elf: Path) -> list[tuple[int, bytes]]:
    with elf.open("rb") as f:
        return [(s["p_paddr"], s.data()) for s in ELFFile(f).iter_segments()
                if s["p_type"] == "PT_LOAD" and s["p_filesz"]]


def test_build_agrees_with_layout(flag_build: Path) -> None:
    boot = _segments(flag_build / "boot.elf")
    assert min(a for a, _ in boot) == LAYOUT.BOOT_ADDR
    assert all(a + len(d) <= LAYOUT.BOOT_ADDR + LAYOUT.BOOT_SIZE for a, d in boot)
    digests = set()
    for v in VERSIONS:
        segs = _segments(flag_build / f"app-v{v}.elf")
        assert min(a for a, _ in segs) == LAYOUT.APP_SLOT_ADDR, v
        raw = (flag_build / f"app-v{v}.bin").read_bytes()
        assert 8 <= len(raw) <= LAYOUT.APP_SLOT_SIZE
        for addr, data in segs:   # the raw binary is the ELF's flash contents
            assert raw[addr - LAYOUT.APP_SLOT_ADDR:][:len(data)] == data, (v, hex(addr))
        sp, reset = struct.unpack("<II", raw[:8])
        assert LAYOUT.SRAM_BASE_ADDR < sp <= LAYOUT.SRAM_BASE_ADDR + LAYOUT.SRAM_TOTAL_SIZE
        assert reset & 1 and LAYOUT.APP_SLOT_ADDR <= reset < LAYOUT.APP_SLOT_ADDR + len(raw)
        digests.add(hashlib.sha256(raw).digest())
    assert len(digests) == len(VERSIONS)


@pytest.fixture
def engine(flag_build: Path) -> Iterator[BuiltinEngine]:
    eng = BuiltinEngine()
    eng.load_platform(platform_file())
    eng.load_elf(flag_build / "boot.elf")
    yield eng
    eng.close()


def _flag(image: bytes) -> bytes:
    return struct.pack("<III", LAYOUT.FLAG_SET_VALUE, len(image), zlib.crc32(image))


def _stage(eng: BuiltinEngine, image: bytes, flag: bytes | None = None) -> None:
    eng.write_flash(LAYOUT.STAGING_ADDR, image)
    eng.write_flash(LAYOUT.FLAG_AREA_ADDR, flag if flag is not None else _flag(image))


def _boot_lines(eng: BuiltinEngine, until: str) -> list[str]:
    start = len(eng.uart().lines)
    result = eng.run_until_uart(until, BOOT_NS)
    lines = [x for x in eng.uart().lines[start:] if x.startswith("[")]
    assert result.reason == StopReason.CONDITION, (result, lines)
    return lines


@pytest.mark.parametrize(("held", "mode"), [(1, "update"), (0, "normal")])
def test_boots_to_dhcp_in_the_mode_the_button_says(engine: BuiltinEngine, flag_build: Path,
                                                   held: int, mode: str) -> None:
    engine.load_elf(flag_build / "app-v1.elf")
    engine.set_input("PA0", held)
    engine.power_on()
    assert _boot_lines(engine, r"^\[net\] dhcp: waiting") == [
        "[boot] sample-flag bootloader", "[boot] starting application",
        "[app] sample-flag v1 (1.0.0) starting", f"[app] {mode} mode",
        "[net] link up, 100 Mbit/s full duplex", "[net] dhcp: waiting for an address"]
    engine.run(100_000_000)
    frames = [Ether(f) for _, f in engine.take_frames()]
    assert frames, "no DHCP DISCOVER"
    first = frames[0]
    assert first.src == MAC and first.dst == "ff:ff:ff:ff:ff:ff"
    assert first.haslayer(DHCP) and ("message-type", 1) in first[DHCP].options
    assert first[BOOTP].chaddr[:6] == bytes.fromhex(MAC.replace(":", ""))


def test_button_is_sampled_at_each_power_on(engine: BuiltinEngine, flag_build: Path) -> None:
    engine.load_elf(flag_build / "app-v1.elf")
    engine.set_input("PA0", 1)
    engine.power_on()
    assert "[app] update mode" in _boot_lines(engine, r"^\[app\] \w+ mode")
    engine.set_input("PA0", 0)
    engine.power_on()
    assert "[app] normal mode" in _boot_lines(engine, r"^\[app\] \w+ mode")


def test_bootloader_applies_a_flagged_update(engine: BuiltinEngine, flag_build: Path) -> None:
    v2 = (flag_build / "app-v2.bin").read_bytes()
    engine.load_elf(flag_build / "app-v1.elf")
    _stage(engine, v2)
    engine.power_on()
    assert _boot_lines(engine, r"^\[app\] .* starting") == [
        "[boot] sample-flag bootloader", f"[boot] flag set, copying {len(v2)} bytes",
        "[boot] update applied, flag cleared", "[boot] starting application",
        "[app] sample-flag v2 (2.0.0) starting"]
    assert engine.read_flash(LAYOUT.APP_SLOT_ADDR, len(v2)) == v2
    assert engine.read_flash(LAYOUT.FLAG_AREA_ADDR, 12) == b"\xff" * 12


@pytest.mark.parametrize(("damage", "why"), [
    ("crc", "CRC mismatch"),
    ("vectors", "vector table not for the application slot"),
    ("size", "image larger than the application slot"),
])
def test_bootloader_refuses_a_bad_staged_image(engine: BuiltinEngine, flag_build: Path,
                                               damage: str, why: str) -> None:
    v2 = bytearray((flag_build / "app-v2.bin").read_bytes())
    flag = _flag(bytes(v2))
    if damage == "crc":
        v2[1000] ^= 0x20
    elif damage == "vectors":
        v2[0:4] = b"\0\0\0\0"
        flag = _flag(bytes(v2))
    else:
        flag = struct.pack("<III", LAYOUT.FLAG_SET_VALUE, LAYOUT.APP_SLOT_SIZE + 4, 0)
    engine.load_elf(flag_build / "app-v1.elf")
    _stage(engine, bytes(v2), flag)
    engine.power_on()
    assert _boot_lines(engine, r"^\[app\] .* starting")[1:] == [
        f"[boot] flag set, staged image refused: {why}", "[boot] starting application",
        "[app] sample-flag v1 (1.0.0) starting"]
    assert engine.read_flash(LAYOUT.FLAG_AREA_ADDR, 12) == b"\xff" * 12


def test_bootloader_without_application_waits(engine: BuiltinEngine) -> None:
    engine.power_on()
    assert _boot_lines(engine, r"no valid application") == [
        "[boot] sample-flag bootloader", "[boot] no valid application"]


@pytest.mark.parametrize("where", ["first-erase", "mid-copy", "flag-erase"])
def test_cut_during_the_copy_redoes_it(engine: BuiltinEngine, flag_build: Path,
                                       where: str) -> None:
    v3 = (flag_build / "app-v3.bin").read_bytes()
    engine.load_elf(flag_build / "app-v1.elf")
    _stage(engine, v3)
    engine.reset_trace()
    engine.power_on()
    _boot_lines(engine, r"^\[app\] .* starting")
    ops = list(engine.flash_trace())
    erases = [op.index for op in ops if op.kind == "erase"]
    assert [ops[i].sector for i in erases] == [LAYOUT.APP_SLOT_FIRST_SECTOR,
                                               LAYOUT.FLAG_AREA_SECTOR]
    at = {"first-erase": erases[0], "mid-copy": len(ops) // 2, "flag-erase": erases[-1]}[where]

    engine.load_elf(flag_build / "app-v1.elf")   # the board as it was before the update
    _stage(engine, v3)
    engine.reset_trace()
    engine.arm_power_cut(PowerCut(at, CutMode.TORN, progress=0.5, seed=7))
    engine.power_on()
    assert engine.run(BOOT_NS).reason == StopReason.POWER_CUT
    engine.arm_power_cut(None)
    engine.power_on()
    lines = _boot_lines(engine, r"^\[app\] .* starting")
    assert lines[-1] == "[app] sample-flag v3 (3.0.0) starting", lines
    assert engine.read_flash(LAYOUT.APP_SLOT_ADDR, len(v3)) == v3


# How the bench's own clients (pybench/net) update the device: what its description says.
HTTP = HttpTransport(steps=(
    HttpStep("GET", "/", accept_text='action="/login"'),
    HttpStep("POST", "/login", form=(("username", "admin"), ("password", "stm32")),
             accept_text="upload.cgi"),
    HttpStep("POST", "/upload.cgi", upload="multipart", field="firmware",
             accept_text="Update staged", refuse_text="Update refused"),
    HttpStep("GET", "/reset.cgi", accept_text="Resetting"),
))
TFTP = TftpTransport(filename="firmware.bin", server_timeout_s=10.0)


def _seen(eng: BuiltinEngine, pattern: str) -> Callable[[], bool]:
    rx = re.compile(pattern)
    return lambda: any(rx.search(line) for line in eng.uart().lines)


@pytest.mark.parametrize("via", ["http", "tftp"])
def test_update_with_the_bench_clients(engine: BuiltinEngine, flag_build: Path,
                                       via: str) -> None:
    engine.load_elf(flag_build / "app-v1.elf")
    engine.set_input("PA0", 1)
    engine.power_on()
    host = Host(ip="10.0.0.1", dhcp=DhcpConfig(pool=("10.0.0.50", "10.0.0.59"),
                                                router="10.0.0.1", lease_s=600))
    wire = Wire(engine, host)
    assert wire.run_until(_seen(engine, r"^\[app\] v1 ready"), BOOT_NS)
    assert "[net] dhcp bound 10.0.0.50" in engine.uart().lines
    v2 = (flag_build / "app-v2.bin").read_bytes()
    upload = Upload(host, v2, server="10.0.0.50", transport=HTTP if via == "http" else TFTP)
    assert wire.run_until(lambda: upload.done, 30 * 10**9)
    assert upload.result().verdict == "accepted", upload.result()
    # HTTP: the reset CGI; TFTP: the device resets itself. Then DHCP again, on v2.
    assert wire.run_until(_seen(engine, r"^\[app\] v2 ready"), 10 * 10**9)
    lines = engine.uart().lines
    assert f"[boot] flag set, copying {len(v2)} bytes" in lines
    assert lines.count("[net] dhcp bound 10.0.0.50") == 2
    assert engine.read_flash(LAYOUT.APP_SLOT_ADDR, len(v2)) == v2


def test_bad_image_over_tftp_is_refused(engine: BuiltinEngine, flag_build: Path) -> None:
    engine.load_elf(flag_build / "app-v1.elf")
    engine.set_input("PA0", 1)
    engine.power_on()
    host = Host(ip="10.0.0.1", dhcp=DhcpConfig(pool=("10.0.0.50", "10.0.0.59")))
    wire = Wire(engine, host)
    assert wire.run_until(_seen(engine, r"^\[app\] v1 ready"), BOOT_NS)
    bad = b"\0" * 8 + (flag_build / "app-v2.bin").read_bytes()[8:]
    upload = Upload(host, bad, server="10.0.0.50", transport=TFTP)
    assert wire.run_until(lambda: upload.done, 30 * 10**9)
    assert upload.result().verdict != "accepted", upload.result()
    assert ("[tftp] image refused: vector table not for the application slot"
            in engine.uart().lines)
    assert engine.read_flash(LAYOUT.FLAG_AREA_ADDR, 12) == b"\xff" * 12
