"""The bench as a pytest plugin (entry point `pytest11`, loaded when pybench is
installed): fixtures for a user's own tests of their device.

    def test_update_to_the_new_image(pybench_board, pybench_update, pybench_images):
        assert pybench_update(pybench_images["new"]).accepted

Options: `--device FILE` (the device description; default $PYBENCH_DEVICE, or in a
checkout of the bench its sample device) and `--engine builtin|renode` (the engine every
board runs on; also the ini value `pybench_engine`).

Fixtures:
- pybench_device: the loaded description (pybench.device.Device);
- pybench_engine: the engine's name;
- pybench_images: the description's update images by name ("old", "new", ...) as paths;
- pybench_board: an engine programmed as the device leaves the factory, the bench's
  network host on its wire, powered on and booted to its ready line; closed after the
  test (its console is kept as uart.log, the wire as wire.pcap in the test's tmp_path);
- pybench_host: the network host on that board's wire (pybench.net.host.Host);
- pybench_update: update(image, via="http", version=None): upload, restart the way the
  description says, wait for the new version (from the image, where its format says
  one); the upload's result;
- pybench_campaign: campaign(to=None, via="http", plan="boundaries", ..., plan options)
  runs a power-cut campaign of the device (a CampaignResult), reports written to the
  test's tmp_path with reports=True.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:   # imported when a fixture is used, not when pytest starts
    from pybench.device.model import Device
    from pybench.engine.base import Engine
    from pybench.net.host import Host
    from pybench.net.upload import UploadResult

ENGINES = ("builtin", "renode")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pybench", "firmware update test bench (pybench)")
    group.addoption("--device", type=Path, default=None, metavar="FILE",
                    help="device description of the pybench fixtures (default: "
                         "$PYBENCH_DEVICE, or the bench checkout's sample device)")
    group.addoption("--engine", choices=ENGINES, default=None,
                    help="engine the pybench fixtures run boards on (default: builtin, or "
                         "the pybench_engine ini value)")
    parser.addini("pybench_engine", "engine of the pybench fixtures", default="builtin")


@pytest.fixture(scope="session")
def pybench_device(pytestconfig: pytest.Config) -> Device:
    from pybench.device.select import device_from
    from pybench.errors import BenchError

    try:
        device = device_from(pytestconfig.getoption("--device"))
    except BenchError as e:
        raise pytest.UsageError(f"pybench: {e}") from None
    missing = [p for p in (device.firmware.bootloader,
                           *(i.path for i in device.firmware.images.values()))
               if not p.is_file()]
    if missing:
        pytest.skip(f"{missing[0]} missing: build the firmware first")
    return device


@pytest.fixture(scope="session")
def pybench_engine(pytestconfig: pytest.Config) -> str:
    name = pytestconfig.getoption("--engine") or pytestconfig.getini("pybench_engine")
    if name not in ENGINES:
        raise pytest.UsageError(f"pybench_engine {name!r}: choose one of {', '.join(ENGINES)}")
    if name == "builtin" and importlib.util.find_spec("unicorn") is None:
        pytest.skip("the built-in engine needs unicorn")
    return str(name)


@pytest.fixture(scope="session")
def pybench_images(pybench_device: Device) -> dict[str, Path]:
    return {name: image.path for name, image in pybench_device.firmware.images.items()}


@pytest.fixture
def pybench_board(pybench_engine: str, pybench_device: Device,
                  tmp_path: Path) -> Iterator[Engine]:
    from pybench.net import scenarios

    engine = scenarios.create_board(pybench_engine, pybench_device)
    try:
        scenarios.attach(engine, pybench_device, seed=1, pcap=tmp_path / "wire.pcap")
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
def pybench_update(pybench_board: Engine, pybench_device: Device) -> Update:
    from pybench.image.files import read_image
    from pybench.net import scenarios
    from pybench.net.cli import image_version

    def update(image: Path | bytes, via: str = "http", version: int | None = None
               ) -> UploadResult:
        data = image if isinstance(image, bytes) else read_image(image)
        result = scenarios.upload(pybench_board, data, via=via)
        if result.accepted:
            scenarios.restart(pybench_board, via)
            scenarios.wait_version(pybench_board, version if version is not None
                                   else image_version(pybench_device, data))
        return result

    return update


Campaign = Callable[..., Any]


@pytest.fixture
def pybench_campaign(pybench_engine: str, pybench_device: Device,
                     tmp_path: Path) -> Campaign:
    from pybench.powercut import report
    from pybench.powercut.campaign import CampaignConfig, run_campaign
    from pybench.powercut.cli import engine_factory
    from pybench.powercut.plan import PlanKind, PlanOptions
    from pybench.powercut.scenario import make_scenario

    def campaign(to: Path | None = None, via: str = "http", plan: str = "boundaries",
                 boot: Path | None = None, old: Path | None = None, jobs: int = 1,
                 reports: bool = False, **options: Any) -> Any:
        def scenario() -> Any:
            return make_scenario(via, pybench_device, boot, old, to)

        sc = scenario()   # the files are checked here, before any engine starts
        words = [f"pybench powercut --device {pybench_device.source} --via {via}",
                 f"--engine {pybench_engine}"]
        words += [f"--boot {boot}"] if boot else []
        words += [f"--from {old}"] if old else []
        words += [f"--to {to}"] if to else []
        config = CampaignConfig(
            make_engine=engine_factory(pybench_engine), make_scenario=scenario,
            options=PlanOptions(kind=PlanKind(plan), **options), jobs=jobs, quiet=True,
            flash_dir=tmp_path / "powercut" / "cuts" if reports else None,
            repro=" ".join(words),
            settings={"device": str(pybench_device.source), "boot": str(sc.boot),
                      "from": str(sc.old_path), "to": str(sc.new_path), "via": via,
                      "engine": pybench_engine})
        result = run_campaign(config)
        if reports:
            report.write_reports(result, tmp_path / "powercut")
        return result

    return campaign
