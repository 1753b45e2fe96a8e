"""Which model class stands for which .repl type, and building a board's models.

Model modules declare their Renode type names in `repl_types`; this module imports the
known model modules and builds one instance per platform entry. A type nobody models is
reported once as an "unmapped" event and left off the bus (accesses then fault).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from pybench.engine.builtin.peripheral import Bus, Peripheral
from pybench.errors import BenchError
from pybench.platform.repl import Entry, Platform

# The core's own models; every module of peripherals/ is a model module too.
CORE_MODEL_MODULES = (
    "pybench.engine.builtin.cortexm",
    "pybench.engine.builtin.dwt",
)


def model_modules() -> list[str]:
    """The core's model modules and every module of the peripherals package."""
    from pybench.engine.builtin import peripherals

    found = sorted(m.name for m in pkgutil.iter_modules(peripherals.__path__)
                   if not m.name.startswith("_"))
    return [*CORE_MODEL_MODULES, *(f"{peripherals.__name__}.{n}" for n in found)]

# Types the machine itself is (no model).
CORE_TYPES = ("CPU.CortexM",
              # the machine maps the bit-band aliases itself (bitband.py) and follows
              # combiners when it routes interrupt lines (repl.Platform.nvic_lines)
              "Miscellaneous.BitBanding", "Miscellaneous.CombinedInput")

# Parts of the chip every STM32F407 has that a platform file may not describe: the debug
# MCU block (its IDCODE identifies the chip; Renode has no type for it, so ours does not
# declare it), the DWT, the WWDG and SYSCFG (the application selects RMII there).
# platforms/stm32f407-eth.repl declares all but DBGMCU.
IMPLIED = (
    Entry("dbgmcu", "Miscellaneous.STM32_DBGMCU", "sysbus", 0xE0042000, 0x400),
    Entry("dwt", "Miscellaneous.DWT", "sysbus", 0xE0001000, 0x1000),
    Entry("wwdg", "Timers.STM32H7_SystemWindowWatchdog", "sysbus", 0x40002C00, 0x400),
    Entry("syscfg", "Miscellaneous.STM32_SYSCFG", "sysbus", 0x40013800, 0x400),
)




def model_classes() -> dict[str, type[Peripheral]]:
    """repl type -> model class, over the model modules present in this checkout."""
    found: dict[str, type[Peripheral]] = {}
    for name in model_modules():
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue          # a model not written yet: its types stay unknown
            raise
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Peripheral) and obj.__module__ == name:
                for t in obj.repl_types:
                    found.setdefault(t, obj)
    return found


def _props(platform: Platform, entry: Entry) -> dict[str, Any]:
    props: dict[str, Any] = dict(entry.props)
    if entry.irq is not None:
        props.setdefault("irq", entry.irq)
    # Every output's NVIC line (through combiners), for models with several (EXTI).
    props["nvic_lines"] = platform.nvic_lines(entry)
    return props


def build(platform: Platform, bus: Bus) -> list[Peripheral]:
    """One model per peripheral entry (children attached to their parent)."""
    classes = model_classes()
    entries = list(platform.peripherals)
    present = {e.type for e in entries} | {e.address for e in entries if e.on_sysbus}
    entries += [e for e in IMPLIED if e.type not in present and e.address not in present]
    models: dict[str, Peripheral] = {}
    out: list[Peripheral] = []
    for entry in entries:
        if entry.type in CORE_TYPES or entry.parent is None:
            continue
        cls = classes.get(entry.type)
        if cls is None:
            bus.event("unmapped", f"{platform.path}:{entry.line}: {entry.name}: no model for"
                                  f" type {entry.type}; left unmapped")
            continue
        props = _props(platform, entry)
        if entry.on_sysbus:
            assert entry.address is not None
            size = entry.size or props.get("size") or getattr(cls, "default_size", 0x400)
            model = cls(entry.name, entry.address, int(size), bus, props)
        elif entry.parent != "sysbus":
            parent = models.get(entry.parent)
            if parent is None or not hasattr(parent, "attach"):
                bus.event("unmapped", f"{platform.path}:{entry.line}: {entry.name}: parent"
                                      f" {entry.parent!r} cannot take it; left unattached")
                continue
            model = cls(entry.name, entry.address or 0, 0, bus, props)
            parent.attach(model, entry.address or 0)
        else:
            raise BenchError(f"{platform.path}:{entry.line}: {entry.name}: no address on sysbus")
        models[entry.name] = model
        out.append(model)
    return out
