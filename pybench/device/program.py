"""Program a board as the device leaves the factory, from its description."""

from __future__ import annotations

from pathlib import Path

from pybench.device.model import Device
from pybench.engine.base import Engine
from pybench.errors import BenchError
from pybench.image.files import read_image


def _need(path: Path, what: str, device: Device) -> Path:
    if not path.is_file():
        hint = " (run `make firmware`)" if "build" in path.parts else ""
        raise BenchError(f"{path}: {what} not found{hint} (named by {device.source})")
    return path


def program_factory(engine: Engine, device: Device, boot: Path | None = None,
                    application: Path | None = None) -> None:
    """Erased flash, then the bootloader ELF, the application in its slot and every extra
    file; GPIO inputs held. `boot` and `application` override the description's."""
    lay = device.layout
    # A factory programmer starts from an erased chip: every byte not written below reads
    # 0xFF, as metadata scans expect of empty space.
    engine.write_flash(lay.FLASH_BASE_ADDR, b"\xff" * lay.FLASH_TOTAL_SIZE)
    engine.load_elf(_need(boot or device.firmware.bootloader, "bootloader ELF", device))
    app = device.firmware.application
    if application is not None or app is not None:
        path = _need(application or app.path, "application image", device)  # type: ignore[union-attr]
        addr = app.addr if app is not None and app.addr is not None else lay.app_slot.addr
        write_file(engine, path, addr)
    for extra in device.firmware.extra:
        if extra.addr is None:
            engine.load_elf(_need(extra.path, "ELF file", device))
        else:
            write_file(engine, _need(extra.path, "file", device), extra.addr)
    hold_inputs(engine, device)


def write_file(engine: Engine, path: Path, addr: int) -> None:
    """An image or raw binary written at `addr` as it is."""
    data = read_image(path)
    if not data:
        raise BenchError(f"{path}: empty file, nothing to program")
    loader = getattr(engine, "load_image", None)
    if loader is not None:
        loader(path, addr)
    else:
        engine.write_flash(addr, data)


def hold_inputs(engine: Engine, device: Device) -> None:
    """The board around the chip: GPIO inputs held, and VBAT kept up when it says so."""
    if device.board.vbat_held:
        vbat = getattr(engine, "set_vbat_held", None)
        if vbat is None:
            raise BenchError(f"{device.source}: board.vbat_held: the {engine.name} engine "
                             "cannot keep the backup domain across power cuts")
        vbat(True)
    if not device.board.inputs:
        return
    setter = getattr(engine, "set_input", None)
    if setter is None:
        raise BenchError(f"{device.source}: board.inputs: the {engine.name} engine cannot "
                         "hold GPIO inputs")
    for pin, level in device.board.inputs:
        setter(pin, level)
