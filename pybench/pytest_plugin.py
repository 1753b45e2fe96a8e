"""The bench as a pytest plugin (entry point `pytest11`, loaded when pybench is
installed): fixtures for a user's own tests of their firmware.

    def test_update_to_v2(pybench_board, pybench_update, pybench_firmware):
        result = pybench_update(pybench_firmware.image("app-v2.img"))
        assert result.accepted

Options: `--engine builtin|renode` (the engine every board runs on), `--bench-firmware
DIR` (where the bootloader ELF and the images are: `make firmware`'s build/ by default),
`--bench-boot ELF` and `--bench-image IMG` (the bootloader and the image the board starts
with). A test may instead override the `pybench_firmware` fixture. Device descriptions
(`--device FILE`) will replace these options once they land.

Fixtures:
- pybench_engine: the engine's name, from --engine;
- pybench_firmware: the files (Firmware: boot, image, build folder);
- pybench_board: an engine with the bootloader and image in flash, the bench's network
  host on its wire, powered on and booted to its ready line; closed after the test;
- pybench_host: the network host on that board's wire (pybench.net.host.Host);
- pybench_update: performs an update of the board: upload an image (http or tftp),
  reboot, wait for the new version; returns the upload's result;
- pybench_campaign: runs a power-cut campaign on the firmware (a CampaignResult), with
  reports written to the test's tmp_path when asked.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:   # imported when a fixture is used, not when pytest starts
    from pybench.engine.base import Engine
    from pybench.net.host import Host
    from pybench.net.upload import UploadResult

ENGINES = ("builtin", "renode")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pybench", "firmware update test bench (pybench)")
    group.addoption("--engine", choices=ENGINES, default=None,
                    help="engine the pybench fixtures run boards on (default: builtin, or "
                         "the pybench_engine ini value)")
    group.addoption("--bench-firmware", type=Path, default=None, metavar="DIR",
                    help="folder with the bootloader ELF and images (default: build/)")
    group.addoption("--bench-boot", type=Path, default=None, metavar="ELF",
                    help="bootloader ELF (default: DIR/boot.elf)")
    group.addoption("--bench-image", type=Path, default=None, metavar="IMG",
                    help="image in the application slot at the start (default: "
                         "DIR/app-v1.img)")
    parser.addini("pybench_engine", "engine of the pybench fixtures", default="builtin")


@dataclass(frozen=True)
class Firmware:
    """The firmware a board runs: bootloader ELF, the image it starts with, and the
    folder other images are looked up in."""

    boot: Path
    image_path: Path
    build: Path

    def image(self, name: str) -> Path:
        path = self.build / name
        if not path.is_file():
            pytest.skip(f"{path} missing: build the firmware first (make firmware)")
        return path


@pytest.fixture(scope="session")
def pybench_engine(pytestconfig: pytest.Config) -> str:
    name = pytestconfig.getoption("--engine") or pytestconfig.getini("pybench_engine")
    if name not in ENGINES:
        raise pytest.UsageError(f"pybench_engine {name!r}: choose one of {', '.join(ENGINES)}")
    if name == "builtin" and importlib.util.find_spec("unicorn") is None:
        pytest.skip("the built-in engine needs unicorn")
    return str(name)


@pytest.fixture(scope="session")
def pybench_firmware(pytestconfig: pytest.Config) -> Firmware:
    from pybench.paths import build_dir

    build = pytestconfig.getoption("--bench-firmware") or build_dir()
    boot = pytestconfig.getoption("--bench-boot") or build / "boot.elf"
    image = pytestconfig.getoption("--bench-image") or build / "app-v1.img"
    for path in (boot, image):
        if not path.is_file():
            pytest.skip(f"{path} missing: build the firmware first (make firmware)")
    return Firmware(boot, image, build)


@pytest.fixture
def pybench_board(pybench_engine: str, pybench_firmware: Firmware,
                  tmp_path: Path) -> Iterator[Engine]:
    from pybench.net import scenarios
    from pybench.paths import platform_file

    engine = scenarios.create_board(pybench_engine, pybench_firmware.boot,
                                    pybench_firmware.image_path, platform_file())
    try:
        scenarios.attach(engine, seed=1, pcap=tmp_path / "wire.pcap")
        engine.power_on()
        scenarios.boot_and_wait(engine)
        yield engine
    finally:
        (tmp_path / "uart.log").write_text(engine.uart().text)
        scenarios.detach(engine)
        engine.close()


@pytest.fixture
def pybench_host(pybench_board: Engine) -> Host:
    from pybench.net import scenarios

    return scenarios.bench(pybench_board).host


Update = Callable[..., "UploadResult"]


@pytest.fixture
def pybench_update(pybench_board: Engine) -> Update:
    """update(image, via="http", version=None): upload, and when accepted reboot and wait
    for `version` (the image header's, by default)."""
    from pybench.image.format import parse_image
    from pybench.net import scenarios

    def update(image: Path | bytes, via: str = "http", version: int | None = None
               ) -> UploadResult:
        data = image if isinstance(image, bytes) else scenarios.read_image(image)
        result = scenarios.upload(pybench_board, data, via=via)
        if result.accepted:
            scenarios.reboot(pybench_board)
            want = version if version is not None else parse_image(data).header.image_version
            scenarios.wait_version(pybench_board, want)
        return result

    return update


Campaign = Callable[..., Any]


@pytest.fixture
def pybench_campaign(pybench_engine: str, pybench_firmware: Firmware,
                     tmp_path: Path) -> Campaign:
    """campaign(to, via="http", plan="boundaries", boot=None, jobs=1, reports=False,
    **plan options) -> CampaignResult of cutting power during the update to `to`."""
    from pybench.paths import platform_file
    from pybench.powercut import report
    from pybench.powercut.campaign import CampaignConfig, run_campaign
    from pybench.powercut.cli import engine_factory
    from pybench.powercut.plan import PlanKind, PlanOptions
    from pybench.powercut.scenario import make_scenario

    def campaign(to: Path, via: str = "http", plan: str = "boundaries",
                 boot: Path | None = None, jobs: int = 1, reports: bool = False,
                 **options: Any) -> Any:
        elf = boot or pybench_firmware.boot
        old = pybench_firmware.image_path
        platform = platform_file()
        config = CampaignConfig(
            make_engine=engine_factory(pybench_engine),
            make_scenario=lambda: make_scenario(via, elf, old, to, platform),
            options=PlanOptions(kind=PlanKind(plan), **options), jobs=jobs, quiet=True,
            flash_dir=tmp_path / "powercut" / "cuts" if reports else None,
            repro=f"pybench powercut --boot {elf} --from {old} --to {to} --via {via} "
                  f"--engine {pybench_engine}",
            settings={"boot": str(elf), "from": str(old), "to": str(to), "via": via,
                      "engine": pybench_engine})
        result = run_campaign(config)
        if reports:
            report.write_reports(result, tmp_path / "powercut")
        return result

    return campaign
