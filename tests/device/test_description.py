"""Device descriptions: the sample loads as its firmware is built, and a mistake in any
key is refused with one line that names the file, the key and what is wrong."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from sample_device import SAMPLE, SAMPLE_PATH

from pybench import layout
from pybench.cli import main
from pybench.device import DescriptionError, load_device
from pybench.device.model import MetadataKind, RestartKind, Role

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TEXT = SAMPLE_PATH.read_text()


def test_the_sample_agrees_with_its_firmware_layout_header() -> None:
    lay = layout.load()
    d = SAMPLE.layout
    assert (d.boot.addr, d.boot.size) == (lay.BOOT_ADDR, lay.BOOT_SIZE)
    assert (d.app_slot.addr, d.app_slot.size) == (lay.APP_SLOT_ADDR, lay.APP_SLOT_SIZE)
    assert d.staging is not None
    assert (d.staging.addr, d.staging.size) == (lay.STAGING_ADDR, lay.STAGING_SIZE)
    assert [(r.addr, r.size) for r in d.metadata] == [(j.addr, j.size) for j in lay.journal]
    assert d.sector_sizes == lay.sector_sizes and d.FLASH_BASE_ADDR == lay.FLASH_BASE_ADDR
    assert SAMPLE.image.header_size == lay.IMAGE_HEADER_SIZE
    assert SAMPLE.layout.boot.protected and SAMPLE.metadata.kind is MetadataKind.JOURNAL
    assert SAMPLE.restart_for("tftp").kind is RestartKind.HTTP


def _write(tmp_path: Path, text: str) -> Path:
    # Relative paths in the description stay those of the sample's folder.
    path = SAMPLE_PATH.parent / f".test-{tmp_path.name}.toml"
    path.write_text(text)
    return path


def _mutated(tmp_path: Path, old: str, new: str) -> Path:
    assert old in TEXT, old
    return _write(tmp_path, TEXT.replace(old, new, 1))


# (what the description says instead, key named in the error, words of the reason)
MISTAKES = [
    ('address = "192.168.7.2"', 'address = "192.168.7.300"', "network.address",
     "not an IPv4 address"),
    ('address = "192.168.7.2"', 'address = "10.0.0.2"', "network.address", "not on the host"),
    ('mac = "02:00:00:f4:07:01"', 'mac = "02:00:00:f4:07"', "network.mac", "not a MAC"),
    ('mac = "02:00:00:f4:07:01"', 'mac = "03:00:00:f4:07:01"', "network.mac", "multicast"),
    ('netmask = "255.255.255.0"', 'netmask = "255.0.255.0"', "network.netmask", "not a netmask"),
    ('address = "192.168.7.2"', 'address = "dhcp"', "network.dhcp", "missing"),
    ('platform = "stm32f407-eth.repl"', 'platform = "nope.repl"', "board.platform",
     "no such platform"),
    ('chip = "stm32f407vg"', 'chip = "stm32f103"', "board.chip", "is not one of"),
    ("boot_timeout_s = 20", "boot_timeout_s = -1", "board.boot_timeout_s", "more than"),
    ("boot_timeout_s = 20", "boot_timeout_s = 20\ninputs = { PZ9 = 1 }", "board.inputs.PZ9",
     "not a GPIO pin"),
    ("boot_timeout_s = 20", "boot_timeout_s = 20\ninputs = { PA0 = 2 }", "board.inputs.PA0",
     "out of range"),
    ("boot_timeout_s = 20", "boot_timeout_s = 20\nbuttons = 1", "board.buttons",
     "unknown key"),
    ('name = "journal-b"\naddr = 0x0800C000', 'name = "journal-b"\naddr = 0x0800D000',
     "layout.region[2].addr", "sector boundaries"),
    ('name = "journal-b"\naddr = 0x0800C000\nsize = 0x4000',
     'name = "journal-b"\naddr = 0x0800C000\nsize = 0x14000', "layout.region[3].addr",
     "'app' overlaps 'journal-b'"),
    ('name = "app"\naddr = 0x08010000\nsize = 0x70000\nrole = "application"',
     'name = "app"\naddr = 0x08010000\nsize = 0x70000\nrole = "slot"',
     "layout.region[3].role", "'slot' is not one of"),
    ('name = "staging"\naddr = 0x08080000\nsize = 0x80000',
     'name = "staging"\naddr = 0x08080000\nsize = 0x100000', "layout.region[4].addr",
     "outside"),
    ('regions = ["journal-a", "journal-b"]', 'regions = ["journal-a", "journal-c"]',
     "metadata.regions", "no region named 'journal-c'"),
    ('kind = "journal"', 'kind = "eeprom"', "metadata.kind", "is not one of"),
    ("ready = '^net: up", "ready = '^net: (up", "console.ready", "bad regular expression"),
    ('path = "/update"', 'path = "update"', "transport.http.step[0].path",
     "does not start with /"),
    ('upload = "multipart"', 'upload = "form"', "transport.http.step[0].upload",
     "not multipart or raw"),
    ('upload = "multipart"\n', "", "transport.http.step", "exactly one step must carry"),
    ("accept_status = [202]\n", 'accept_status = "202"\n',
     "transport.http.step[0].accept_status", "list of integers"),
    ("blksize = 1468", "blksize = 4", "transport.tftp.blksize", "out of range"),
    ("server_timeout_s = 10", "server_timeout_s = 0", "transport.tftp.server_timeout_s",
     "more than 0"),
    ('kind = "http"\nrequest', 'kind = "reboot"\nrequest', "transport.restart.kind",
     "is not one of"),
    ('[transport.backdoor]\nregion = "staging"', '[transport.backdoor]\nregion = "stage"',
     "transport.backdoor.region", "no region named 'stage'"),
    ("recovery_bound_s = 30", "recovery_bound_s = 0", "oracle.recovery_bound_s", "more than"),
    ('running_region = "app"', 'running_region = "apps"', "oracle.running_region",
     "no region named"),
    ("version = '\"version_number", "version = '(\"version_number", "oracle.probe.version",
     "bad regular expression"),
    ('[device]\nname = "sample"', '[device]\nname = 7', "device.name", "expected a string"),
]


@pytest.mark.parametrize(("old", "new", "key", "why"), MISTAKES,
                         ids=[m[2] + ":" + m[3] for m in MISTAKES])
def test_a_mistake_names_the_file_and_the_key(tmp_path: Path, old: str, new: str, key: str,
                                              why: str) -> None:
    path = _mutated(tmp_path, old, new)
    try:
        with pytest.raises(DescriptionError) as err:
            load_device(path)
    finally:
        path.unlink()
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: "), message
    assert why in message, message


@pytest.mark.parametrize("table", ["device", "board", "firmware", "network", "layout",
                                   "console", "metadata", "transport"])
def test_a_missing_table_is_named(tmp_path: Path, table: str) -> None:
    data = tomllib.loads(TEXT)
    del data[table]
    from pybench.device.load import parse_device
    with pytest.raises(DescriptionError, match=rf": {table}: missing"):
        parse_device(data, SAMPLE_PATH)


def test_not_toml_and_no_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[device\nname = 1\n")
    with pytest.raises(DescriptionError, match=r"bad.toml: not valid TOML"):
        load_device(bad)
    with pytest.raises(DescriptionError, match=r"missing.toml: cannot read"):
        load_device(tmp_path / "missing.toml")
    with pytest.raises(DescriptionError, match=r"is a folder"):
        load_device(tmp_path)


def test_every_command_refuses_a_bad_description_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _mutated(tmp_path, 'address = "192.168.7.2"', 'address = "192.168.7.300"')
    try:
        for argv in (["boot"], ["update", str(SAMPLE_PATH)], ["ping"], ["powercut"],
                     ["demo", "--reports", str(tmp_path / "r")], ["device", "check"]):
            capsys.readouterr()
            assert main([*argv, "--device", str(path)]) == 2, argv
            err = capsys.readouterr().err.strip()
            assert re.fullmatch(r"pybench: error: .*: network\.address: .*", err), (argv, err)
        assert not (tmp_path / "r").exists()
    finally:
        path.unlink()


def test_regions_roles_and_env_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYBENCH_BUILD", "/somewhere/else")
    d = load_device(SAMPLE_PATH)
    assert d.firmware.bootloader == Path("/somewhere/else/boot.elf")
    assert d.layout.region_of(d.layout.app_slot.addr + 5) == d.layout.app_slot
    assert [r.name for r in d.layout.by_role(Role.METADATA)] == ["journal-a", "journal-b"]
    assert d.console.version_of("app: firmware v12 (12.0.0) starting") == 12
    assert d.oracle.probe is not None
    assert d.oracle.probe.version_of('{"version_number":3}') == 3


def test_the_readme_example_loads() -> None:
    """docs/examples/iap-lwip.toml, the annotated example README points at."""
    from sample_device import ROOT

    d = load_device(ROOT / "docs" / "examples" / "iap-lwip.toml")
    assert d.board.inputs == (("PA0", 1),)
    assert d.layout.app_slot.addr == 0x0802_0000 and d.image.header_size == 0
    assert d.transports.http is not None and len(d.transports.http.steps) == 3
    assert d.transports.http.steps[1].form == (("username", "user"), ("password", "stm32"))
    assert d.transports.tftp is not None and d.transports.tftp.server_timeout_s == 10
    assert d.restart_for("tftp").kind is RestartKind.POWER_CYCLE
    assert d.firmware.images["new"].version == 2


def test_vbat_held_reaches_the_engine(tmp_path: Path) -> None:
    from pybench.device.program import hold_inputs
    from pybench.engine.builtin.engine import BuiltinEngine
    from pybench.paths import platform_file

    path = _mutated(tmp_path, "boot_timeout_s = 20", "boot_timeout_s = 20\nvbat_held = true")
    try:
        device = load_device(path)
    finally:
        path.unlink()
    engine = BuiltinEngine(check=False)
    engine.load_platform(platform_file())
    assert not engine.vbat_held
    hold_inputs(engine, device)
    assert engine.vbat_held and engine.machine.vbat_held
    engine.close()
