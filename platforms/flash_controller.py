# The STM32F4 flash interface (FLASH_ACR..FLASH_OPTCR at 0x40023C00) for Renode.
#
# Renode runs this file as a Python.PythonPeripheral script (IronPython 2.7): the whole
# file is executed for every request, in one scope that keeps its variables between
# requests, with `request` (IsInit/IsRead/IsWrite/IsUser, Offset, Value, Length on
# Renode 1.16; lower-case initials on older releases), `self` (the
# peripheral) and, on Renode releases that set them, `sysbus` and `machine` in scope.
# So the heavy part (loading the rules, the adapter class) runs once, on the first
# request, and every later request only dispatches.
#
# What the flash does is decided in one place, stm32f4_flash_rules.py (next to this file),
# shared with pybench's built-in engine. It is loaded by path with compile() + exec into a
# fresh namespace, which IronPython 2.7 and CPython 3 both support; `import` is not used
# because IronPython's module search path inside Renode is Renode's, not ours. The rules'
# directory comes from the environment (PYBENCH_PLATFORM_DIR, set by pybench's Renode
# engine), else from this script's __file__ when the host sets it, else ./platforms.
# The sector geometry comes from firmware/include/flash_layout.h (PYBENCH_FLASH_LAYOUT,
# else ../firmware/include/flash_layout.h from the platforms directory): numbers are not
# copied here.
#
# CPU stores into flash do not reach a peripheral at 0x40023C00: flash is a MappedMemory
# that the CPU writes directly. While FLASH_CR has PG set (and LOCK clear), this script
# installs a CPU memory-access hook (ICPUWithMemoryAccessHooks.SetHookAtMemoryAccess, the
# mechanism Renode's own STM32H7 flash controller uses for programming) and removes it
# when PG clears, because the hook is called for every load and store while installed.
# The hook runs after the store has landed, so the previous flash content comes from a
# shadow copy of flash kept here; the hook then writes back what the rules say flash holds
# (old AND value, the old value for a refused store, a torn value at a power cut).
#
# The bench talks to this script through ControlRead/ControlWrite (monitor:
# `sysbus.flash_controller ControlRead CMD VALUE`) and a mailbox directory
# (PYBENCH_RENODE_MAILBOX) for data that is not one integer: see CMD_* below.

# Definitions run once: the script is executed for every request, and redefining
# classes on each register access would cost more than the access itself.
try:
    _FlashController
    _defined = True
except NameError:
    _defined = False

if not _defined:
    CMD_SYNC = 1           # flash was written from outside (LoadELF, WriteBytes, Load): re-read it
    CMD_STATUS = 2         # returns bit 0 power cut happened, bit 1 operation in progress
    CMD_ARM = 3            # arm from <mailbox>/arm.txt: "op_index mode progress seed" or "none"
    CMD_DISARM = 4
    CMD_RESET_TRACE = 5
    CMD_DUMP = 6           # write <mailbox>/flash-dump.txt (trace and events); returns trace length
    CMD_SAVE = 7           # write the rules' state to <mailbox>/flash-save-VALUE.txt
    CMD_LOAD = 8           # load the rules' state from <mailbox>/flash-save-VALUE.txt
    CMD_WRITE_PROTECT = 9  # VALUE = sector | (on << 8)
    CMD_POWER_ON = 10      # a power cycle: registers to reset values, the cut cleared, re-sync
    CMD_READ = 11          # <mailbox>/read.txt "addr size" -> <mailbox>/flash-read.bin
    CMD_WRITE = 12         # <mailbox>/write.txt "addr" + flash-write.bin -> flash, no rules
    CMD_EPOCH = 13         # <mailbox>/epoch.txt "ns": the trace's time is Renode's minus it
    CMD_COUNT = 14         # returns the trace's length (no dump written)

    RULES_FILE = "stm32f4_flash_rules.py"


    import sys as _sys
    # IronPython says "cli"; CPython (the tests) has no .NET here, whatever is installed
    # (pythonnet's `clr` would start a Mono runtime if imported).
    _DOTNET = _sys.platform == "cli"


    def _env(name):
        if _DOTNET:
            from System import Environment
            return Environment.GetEnvironmentVariable(name)
        import os
        return os.environ.get(name)


    def _join(a, b):
        if not a:
            return b
        return a.rstrip("/\\") + "/" + b


    def _read_text(path):
        f = open(path)
        try:
            return f.read()
        finally:
            f.close()


    def _write_text(path, text):
        f = open(path, "w")
        try:
            f.write(text)
        finally:
            f.close()


    def _platform_dir():
        d = _env("PYBENCH_PLATFORM_DIR")
        if d:
            return d
        try:
            here = __file__
            cut = max(here.rfind("/"), here.rfind("\\"))
            return here[:cut] if cut > 0 else "."
        except NameError:
            return "platforms"


    def _load_rules(platform_dir):
        path = _join(platform_dir, RULES_FILE)
        ns = {"__name__": "stm32f4_flash_rules", "__file__": path}
        exec(compile(_read_text(path), path, "exec"), ns)
        return ns


    def _layout(platform_dir):
        """(base, [sector sizes in bytes]) from flash_layout.h."""
        path = _env("PYBENCH_FLASH_LAYOUT") or _join(platform_dir, "../firmware/include/flash_layout.h")
        base = None
        sizes = None
        for line in _read_text(path).splitlines():
            words = line.split(None, 2)
            if len(words) < 3 or words[0] != "#define":
                continue
            value = words[2].split("/*")[0].strip()
            if words[1] == "FLASH_BASE_ADDR":
                base = int(value, 0)
            elif words[1] == "FLASH_SECTOR_SIZES_KIB":
                sizes = [int(v.strip(), 0) * 1024 for v in value.split(",")]
        if base is None or not sizes:
            raise ValueError("%s: FLASH_BASE_ADDR or FLASH_SECTOR_SIZES_KIB missing" % path)
        return base, sizes


    def _req(name):
        """A request attribute: Renode 1.16 spells them Offset, Value, Length, IsInit,
        IsRead, IsWrite, IsUser; older releases isInit, offset, value. The capitalised
        name is tried first (a real 1.16.1 raises AttributeError for the other)."""
        upper = name[0].upper() + name[1:]
        try:
            return getattr(request, upper)  # noqa: F821 - Renode puts `request` in scope
        except AttributeError:
            return getattr(request, name, None)  # noqa: F821


    def _answer(value):
        """Set the request's value under the spelling this Renode uses."""
        try:
            request.Value = value  # noqa: F821
        except AttributeError:
            request.value = value  # noqa: F821


    class _Memory(object):
        """The flash array as the rules see it, with the shadow copy the store hook needs."""

        def __init__(self, bus, base, size):
            self.bus = bus
            self.base = base
            self.size = size
            self.shadow = None

        def sync(self):
            self.shadow = bytearray(self.bus.ReadBytes(self.base, self.size))

        def read(self, addr, n):
            at = addr - self.base
            return bytes(self.shadow[at:at + n])

        def write(self, addr, data):
            at = addr - self.base
            self.shadow[at:at + len(data)] = bytearray(data)
            self.bus.WriteBytes(_to_net_bytes(data), addr)

        def read_int(self, addr, width):
            at = addr - self.base
            value = 0
            for i in range(width):
                value |= self.shadow[at + i] << (8 * i)
            return value

        def write_int(self, addr, width, value):
            data = bytearray(width)
            for i in range(width):
                data[i] = (value >> (8 * i)) & 0xFF
            self.write(addr, data)


    def _write_binary(path, data):
        if _DOTNET:
            from System.IO import File
            if not isinstance(data, bytearray):
                try:
                    File.WriteAllBytes(path, data)   # a .NET byte[] (ReadBytes): as it is
                    return
                except TypeError:
                    pass
            File.WriteAllBytes(path, _to_net_bytes(data))
            return
        f = open(path, "wb")
        try:
            f.write(bytes(data))
        finally:
            f.close()

    def _read_binary(path):
        if _DOTNET:
            from System.IO import File
            return bytearray(File.ReadAllBytes(path))
        f = open(path, "rb")
        try:
            return bytearray(f.read())
        finally:
            f.close()

    def _to_net_bytes(data):
        if _DOTNET:
            from System import Array, Byte
            return Array[Byte](bytearray(data))
        return bytes(data)


    class _FlashController(object):
        """Maps Renode's requests to the rules; owns the store hook and the bench mailbox."""

        def __init__(self, rules_ns, base, sizes, bus, machine_, peripheral, mailbox):
            self.ns = rules_ns
            self.rules = rules_ns["FlashRules"](base, sizes)
            self.memory = _Memory(bus, base, sum(sizes))
            self.rules.memory = self.memory
            self.rules.on_event = self._on_event
            self.bus = bus
            self.machine = machine_
            self.peripheral = peripheral
            self.mailbox = mailbox
            self.events = []
            self.hooked = False
            self.end = base + sum(sizes)
            self.base = base
            self.epoch = 0
            self.memory.sync()

        # --- time -------------------------------------------------------------------------
        # Operations complete at once on Renode: the firmware polls SR.BSY, and every poll
        # runs this script, so modelling tERASE (up to 2 s of virtual time, millions of
        # polls) would cost minutes of host time per erase. Virtual time only stamps the
        # trace. The built-in engine models the durations; see docs/renode.md.
        def now(self):
            try:
                elapsed = self.machine.ElapsedVirtualTime.TimeElapsed.TotalMicroseconds
                return int(elapsed) * 1000 - self.epoch
            except Exception:
                return 0

        def _pc(self):
            """The CPU's PC for the trace (0 when this Renode does not say)."""
            try:
                pc = list(self.bus.GetCPUs())[0].PC
            except Exception:
                return 0
            try:
                return int(pc)
            except Exception:
                try:
                    return int(str(pc), 0)   # a RegisterValue prints as 0x...
                except Exception:
                    return 0

        # --- registers ----------------------------------------------------------------------
        def read(self, offset, now):
            rules = self.rules
            reg = offset & ~3
            value = rules.read_reg(reg, now)
            if value is None:
                return 0
            return (value >> (8 * (offset & 3))) & 0xFFFFFFFF

        def write(self, offset, length, value, now):
            rules = self.rules
            reg = offset & ~3
            if length < 4 and reg in (self.ns["CR"], self.ns["ACR"], self.ns["OPTCR"]):
                # A byte or halfword store into a register: merge it into the current value.
                shift = 8 * (offset & 3)
                mask = ((1 << (8 * length)) - 1) << shift
                current = rules.read_reg(reg, now) or 0
                value = (current & ~mask) | ((value << shift) & mask)
            rules.write_reg(reg, value, now, self._pc())
            if rules.busy:
                rules.finish(rules.busy_until)
            self._update_hook()
            self._after_operation()

        # --- CPU stores into flash -----------------------------------------------------------
        def _update_hook(self):
            cr = self.rules.cr
            want = bool(cr & self.ns["CR_PG"]) and not cr & self.ns["CR_LOCK"] and not self.rules.cut
            if want == self.hooked:
                return
            for cpu in self.bus.GetCPUs():
                setter = getattr(cpu, "SetHookAtMemoryAccess", None)
                if setter is not None:
                    setter(self.on_memory_access if want else None)
            self.hooked = want

        def on_memory_access(self, *args):
            """The CPU memory-access hook. Renode 1.16.1 calls it after the store landed
            with (pc, operation, virtual address, physical address, width in bytes, value);
            older releases passed fewer arguments, then flash is read back for the value.
            The virtual address is used: Cortex-M has no MMU and the physical one can be
            relative to the memory peripheral."""
            if len(args) < 4 or not str(args[1]).endswith("MemoryWrite"):
                return
            addr = int(args[2])
            if addr < self.base or addr >= self.end:
                return
            if len(args) >= 6:
                width = int(args[4])
                stored = int(args[5]) & ((1 << (8 * width)) - 1)
            else:
                width = self.ns["PSIZE_BYTES"][(self.rules.cr & self.ns["CR_PSIZE_MASK"])
                                               >> self.ns["CR_PSIZE_SHIFT"]]
                stored = None
            if addr + width > self.end:
                width = self.end - addr
            if stored is None:
                stored = self.bus_read(addr, width)
            self.store(addr, width, stored, int(args[0]))

        def bus_read(self, addr, width):
            data = bytearray(self.bus.ReadBytes(addr, width))
            value = 0
            for i in range(width):
                value |= data[i] << (8 * i)
            return value

        def store(self, addr, width, value, pc):
            """A CPU store of `value` landed at addr: make flash hold what the rules say."""
            old = self.memory.read_int(addr, width)
            now = self.now()
            result = self.rules.program(addr, width, value, old, now, pc)
            if self.rules.busy:
                self.rules.finish(self.rules.busy_until)
            # Always written back: the raw store replaced old, the rules may keep bits of it.
            self.memory.write_int(addr, width, result)
            self._after_operation()
            return result

        def _after_operation(self):
            if self.rules.cut:
                self._update_hook()
                # The bench looks for this file after each run step: cheaper than asking
                # the monitor, and it survives the pause below.
                _write_text(_join(self.mailbox, "power-cut.txt"), "%d\n" % len(self.rules.trace))
                try:
                    self.machine.PauseAndRequestEmulationPause()
                except Exception:
                    pass

        # --- the bench's side --------------------------------------------------------------
        def _on_event(self, kind, detail):
            self.events.append((kind, detail))

        def power_on(self):
            self.rules.reset()
            self.memory.sync()
            self._update_hook()

        def control(self, cmd, value):
            rules = self.rules
            if cmd == CMD_SYNC:
                self.memory.sync()
            elif cmd == CMD_STATUS:
                return (1 if rules.cut else 0) | (2 if rules.busy else 0)
            elif cmd == CMD_ARM:
                words = _read_text(_join(self.mailbox, "arm.txt")).split()
                if words[0] == "none":
                    rules.disarm()
                else:
                    rules.arm(int(words[0]), words[1], float(words[2]), int(words[3]))
            elif cmd == CMD_DISARM:
                rules.disarm()
            elif cmd == CMD_RESET_TRACE:
                rules.reset_trace()
                self.events = []
            elif cmd == CMD_DUMP:
                _write_text(_join(self.mailbox, "flash-dump.txt"), self.dump())
                return len(rules.trace)
            elif cmd == CMD_SAVE:
                _write_text(_join(self.mailbox, "flash-save-%d.txt" % value),
                            repr((rules.save(), self.events)))
            elif cmd == CMD_LOAD:
                text = _read_text(_join(self.mailbox, "flash-save-%d.txt" % value))
                state, events = eval(text, {"__builtins__": {}, "True": True, "False": False,
                                            "None": None})
                rules.load(state)
                self.events = list(events)
                self.memory.sync()
                self._update_hook()
            elif cmd == CMD_WRITE_PROTECT:
                rules.set_write_protect(value & 0xFF, bool(value >> 8))
            elif cmd == CMD_POWER_ON:
                self.power_on()
            elif cmd == CMD_READ:
                words = _read_text(_join(self.mailbox, "read.txt")).split()
                addr, n = int(words[0], 0), int(words[1], 0)
                _write_binary(_join(self.mailbox, "flash-read.bin"), self.bus.ReadBytes(addr, n))
                return n
            elif cmd == CMD_WRITE:
                addr = int(_read_text(_join(self.mailbox, "write.txt")).split()[0], 0)
                data = _read_binary(_join(self.mailbox, "flash-write.bin"))
                self.memory.write(addr, data)
                return len(data)
            elif cmd == CMD_EPOCH:
                self.epoch = int(_read_text(_join(self.mailbox, "epoch.txt")).split()[0])
            elif cmd == CMD_COUNT:
                return len(rules.trace)
            else:
                raise ValueError("flash_controller: unknown control command %r" % (cmd,))
            return 0

        def dump(self):
            """The trace and events as text lines the bench parses (pybench.engine.renode)."""
            lines = []
            for (index, kind, addr, size, sector, value, time_ns, pc) in self.rules.trace:
                lines.append("op %d %s 0x%08x %d %d %s %d 0x%08x" % (
                    index, kind, addr, size, sector, "-" if value is None else "0x%x" % value,
                    time_ns, pc))
            for kind, detail in self.events:
                lines.append("event %s %s" % (kind, detail.replace("\n", " ")))
            return "".join(line + "\n" for line in lines)


    def _machine_of(peripheral):
        try:
            return machine
        except NameError:
            pass
        try:
            from Antmicro.Renode.Core import EmulationManager
            found, mach = EmulationManager.Instance.CurrentEmulation.TryGetMachineForPeripheral(
                peripheral)
        except Exception:
            return None
        return mach if found else None


    def _start(required):
        """The model, or None when Renode has not registered the peripheral yet (an INIT
        during platform loading): it is then built at the first access."""
        platform_dir = _platform_dir()
        try:
            bus = sysbus
        except NameError:
            bus = None
        mach = _machine_of(self)  # noqa: F821 - Renode puts `self` in scope
        if bus is None and mach is not None:
            bus = mach.SystemBus
        if bus is None:
            if required:
                raise RuntimeError("flash_controller: no system bus (peripheral not registered)")
            return None
        rules_ns = _load_rules(platform_dir)
        base, sizes = _layout(platform_dir)
        mailbox = _env("PYBENCH_RENODE_MAILBOX") or "."
        return _FlashController(rules_ns, base, sizes, bus, mach, self, mailbox)  # noqa: F821


try:
    flash_controller
except NameError:
    flash_controller = None

if _req("isInit"):
    # Renode sends INIT at construction and again at every machine Reset: the first one
    # builds the model, later ones are a power cycle (option bytes, trace and arm kept).
    if flash_controller is None:
        flash_controller = _start(False)
    else:
        flash_controller.power_on()
else:
    if flash_controller is None:
        flash_controller = _start(True)
    if _req("isRead"):
        _answer(flash_controller.read(int(_req("offset")), 0))
    elif _req("isWrite"):
        flash_controller.write(int(_req("offset")), int(_req("length") or 4),
                               int(_req("value")), flash_controller.now())
    elif _req("isUser"):
        _answer(flash_controller.control(int(_req("offset")), int(_req("value"))))
