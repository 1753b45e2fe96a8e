"""The STM32F4 flash interface (RM0090 section 3) as pure rules, shared by both engines.

This file is the one place where the bench decides what the flash interface does: the
register file and key sequence, the program and erase operations with their checks, the
NOR 1->0 rule, the timing, the trace of operations and the power cut. pybench's built-in
engine wraps it in pybench/engine/builtin/flash.py; the Renode platform wraps the same file
in its Python peripheral, so the two engines cannot disagree about flash.

It runs on CPython 3 and on IronPython 2.7 (Renode's Python peripherals): no f-strings, no
annotations, no dataclasses, classes derive from object, no imports beyond the language.

API (all addresses absolute, all times in ns of virtual time, all values ints)
-------------------------------------------------------------------------------
rules = FlashRules(base, sector_sizes, memory=None)
    base: address of sector 0; sector_sizes: list of sector sizes in bytes.
    memory: any object with read(addr, n) -> bytes-like and write(addr, data); the rules
    use it for erases only (a program's new value is returned to the caller, who stores
    it, so that the engine's fast path stays the engine's). Settable later: rules.memory.
rules.on_event = callable(kind, detail) or None
    Told about bus errors ("bus-error": a wrong key sequence) and, as kind "flash", about
    power cuts (which operation, mode, progress, seed), option byte programming and
    erase requests for sectors that do not exist. The engine itself reports the
    "power-cut" event when it turns the board off.

Geometry: sector_count, sector_base(i), sector_size(i), sector_of(addr) (-1 outside).

Registers: read_reg(offset, now) -> int, or None for an offset the model does not know.
    write_reg(offset, value, now, pc) -> bool: a 32-bit register write (False for an
    offset the model does not know); a STRT write starts
    an erase (content changed through `memory` at once, BSY set until busy_until).
    Offsets: ACR 0x00, KEYR 0x04, OPTKEYR 0x08, SR 0x0C, CR 0x10, OPTCR 0x14.

Programming: program(addr, width, value, old, now, pc) -> int
    A CPU store of `width` bytes (1, 2, 4 or 8) of `value` at `addr` in flash, where flash
    held `old`. Returns what flash holds there afterwards: old & value for an accepted
    program, old when the store is refused (error flag set), the torn or untouched value
    at a power cut.
program_at_once(addr, width, value, old, now, pc) -> int or None
    The fast path for a caller that stalls the CPU for the whole program time (code
    running from flash): the common accepted program, completed in the same call, with
    exactly the state program() then finish(busy_until) leaves. None (nothing changed)
    for every other case: the caller then uses program().

Time: busy (bool), busy_until (ns), stall_ns(now) = how long an access that must wait for
    the current operation (a CR write, a store to flash) stalls; finish(now) completes the
    current operation if its time has come (BSY and STRT clear, EOP if EOPIE).
    The caller decides how the CPU spends the time (RM0090, "Erase and program
    operations": code fetched from flash stalls during an operation; code in RAM runs
    on and sees BSY).

Interrupt: irq_level() -> bool, the level of the FLASH global interrupt (IRQ 4):
    (EOPIE and EOP) or (ERRIE and OPERR).

Trace: rules.trace, a list of tuples (index, kind, addr, size, sector, value, time_ns, pc),
    kind "erase" (value None) or "program"; one entry per programmed unit and one per
    erased sector (a mass erase is one entry per sector). reset_trace() empties it and
    restarts the index at 0. Refused stores are not operations and are not traced.

Power cut: arm(op_index, mode, progress=0.5, seed=0), disarm(). At the operation whose
    index is op_index, power fails: mode "before" (flash unchanged), "after" (the
    operation complete), "torn" (part of it done: see torn_program / torn_erase_words).
    rules.cut becomes True (until reset()), the arm is spent, and from then on the rules
    refuse every operation and register write: the board is off.

Flash failures: arm(op_index, mode, 0, seed) with mode one of FAULT_MODES fails the
    operation in that way instead of cutting power (rules.cut stays False, the board runs
    on): "silent" (a program leaves some of the bits it should clear at 1, at least one),
    "dropped" (the program or erase leaves flash as it was), "disturb" (a program also
    clears one bit of the neighbouring word), "weak-erase" (an erase leaves 0 bits in up
    to four words that held some), "stuck" (one bit stays 0 for good: in the programmed
    word where the value has a 1, or in a word of the erased sector; later erases leave
    it 0). The bits are drawn from the seed. rules.stuck lists (address, bit mask) of stuck
    bits; it survives reset() (it is the part's defect) and is part of save().

Option bytes: write protection comes from the nWRP bits of the option bytes, which
    survive reset(). set_write_protect(sector, on) is the bench-side setter; the firmware's
    OPTKEYR/OPTCR/OPTSTRT sequence also works (programming is instant, not traced).

Attributes the wrappers read (keep their names): cr, sr, busy, busy_until, cut, trace,
    armed, option_bytes, memory, on_event; module constants KEY*, SR_*, CR_*, OPTCR_*,
    PSIZE_BYTES, FLASH_IRQ, MODES and the register offsets.

reset(): power-on or system reset; registers back to reset values, key lockout cleared,
    pending operation dropped. Option bytes, trace and arm are kept.
save() / load(state): a snapshot of everything, trace included. The trace only ever
    grows by append (reset_trace() and load() give it a new list), so save() keeps the
    list and its length instead of a copy (a campaign keeps a thousand snapshots of a
    trace of 131,000 operations); load() copies that many entries back, or, when the
    live trace is its own earlier copy of the same list that no snapshot refers to,
    shortens it to that length.
"""

# --- registers (RM0090 "Flash interface registers") ---------------------------
ACR = 0x00
KEYR = 0x04
OPTKEYR = 0x08
SR = 0x0C
CR = 0x10
OPTCR = 0x14

KEY1 = 0x45670123
KEY2 = 0xCDEF89AB
OPTKEY1 = 0x08192A3B
OPTKEY2 = 0x4C5D6E7F

# FLASH_ACR: LATENCY[2:0], PRFTEN, ICEN, DCEN, ICRST, DCRST.
ACR_WRITABLE = 0x00001F07

SR_EOP = 1 << 0
SR_OPERR = 1 << 1
SR_WRPERR = 1 << 4
SR_PGAERR = 1 << 5
SR_PGPERR = 1 << 6
SR_PGSERR = 1 << 7
SR_BSY = 1 << 16
SR_W1C = SR_EOP | SR_OPERR | SR_WRPERR | SR_PGAERR | SR_PGPERR | SR_PGSERR

CR_PG = 1 << 0
CR_SER = 1 << 1
CR_MER = 1 << 2
CR_SNB_SHIFT = 3
CR_SNB_MASK = 0xF << CR_SNB_SHIFT
CR_PSIZE_SHIFT = 8
CR_PSIZE_MASK = 0x3 << CR_PSIZE_SHIFT
CR_STRT = 1 << 16
CR_EOPIE = 1 << 24
CR_ERRIE = 1 << 25
CR_LOCK = 1 << 31
CR_RESET = CR_LOCK
CR_WRITABLE = (CR_PG | CR_SER | CR_MER | CR_SNB_MASK | CR_PSIZE_MASK | CR_STRT
               | CR_EOPIE | CR_ERRIE | CR_LOCK)

OPTCR_OPTLOCK = 1 << 0
OPTCR_OPTSTRT = 1 << 1
OPTCR_NWRP_SHIFT = 16
# BOR_LEV, WDG_SW, nRST_STOP, nRST_STDBY, RDP and nWRP[11:0]: the option byte fields.
OPTCR_OPTIONS = 0x0FFFFFEC
# Factory option bytes: RDP level 0 (0xAA), no sector write-protected (RM0090, the
# reset value of FLASH_OPTCR).
OPTCR_FACTORY = 0x0FFFAAEC
RDP_LEVEL0 = 0xAA
RDP_LEVEL2 = 0xCC

FLASH_IRQ = 4  # FLASH global interrupt (RM0090 vector table, position 4)

# PSIZE field value -> programming width in bytes.
PSIZE_BYTES = (1, 2, 4, 8)

# --- timings (STM32F405/407 datasheet DS8626, "Flash memory programming" table) -------
# Typical values at 25 degC. x64 parallelism needs an external VPP; the datasheet's x64
# erase figures are not used, the x32 ones stand in for them.
PROGRAM_NS = 16000                          # tprog, word programming: 16 us typ
ERASE_16K_NS = (400000000, 300000000, 250000000, 250000000)     # tERASE16KB x8/x16/x32
ERASE_64K_NS = (1200000000, 700000000, 550000000, 550000000)    # tERASE64KB
ERASE_128K_NS = (2000000000, 1300000000, 1000000000, 1000000000)  # tERASE128KB
MASS_ERASE_NS = (16000000000, 11000000000, 8000000000, 8000000000)  # tME

MODE_BEFORE = "before"
MODE_AFTER = "after"
MODE_TORN = "torn"
# Flash failures other than a power cut (docs/powercut.md, "Flash failures"): armed like
# a cut, at one operation, but the board stays powered and runs on.
FAULT_SILENT = "silent"          # a program reports success, some bits stay 1
FAULT_DROPPED = "dropped"        # the program or erase does not happen at all
FAULT_DISTURB = "disturb"        # a program also clears a bit of the next word
FAULT_WEAK_ERASE = "weak-erase"  # an erase leaves bits at 0 in a few words
FAULT_STUCK = "stuck"            # a bit is stuck at 0 from now on (erases leave it 0)
FAULT_MODES = (FAULT_SILENT, FAULT_DROPPED, FAULT_DISTURB, FAULT_WEAK_ERASE, FAULT_STUCK)
# Which operations each failure applies to (at any other it changes nothing).
FAULT_ON_PROGRAM = (FAULT_SILENT, FAULT_DROPPED, FAULT_DISTURB, FAULT_STUCK)
FAULT_ON_ERASE = (FAULT_DROPPED, FAULT_WEAK_ERASE, FAULT_STUCK)
MODES = (MODE_BEFORE, MODE_AFTER, MODE_TORN) + FAULT_MODES

OP_ERASE = "erase"
OP_PROGRAM = "program"

_M64 = 0xFFFFFFFFFFFFFFFF

# program_at_once(): the CR bits a program checks, and their only accepted values per
# store width (PG alone, unlocked, PSIZE matching the width).
_AT_ONCE_CR_MASK = CR_LOCK | CR_PG | CR_SER | CR_MER | CR_PSIZE_MASK
_AT_ONCE_CR = {1: CR_PG, 2: CR_PG | (1 << CR_PSIZE_SHIFT), 4: CR_PG | (2 << CR_PSIZE_SHIFT)}


class SplitMix64(object):
    """A tiny PRNG defined by its arithmetic, so CPython and IronPython draw the same
    numbers (their `random` modules differ); torn shapes depend only on the seed."""

    def __init__(self, seed):
        self.state = seed & _M64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & _M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def chance(self, p):
        """True with probability p (53 bits of resolution, like a float)."""
        return (self.next() >> 11) < int(p * (1 << 53))


def erase_time_ns(sector_size, psize):
    """Typical erase time of one sector of sector_size bytes at PSIZE field value psize."""
    if sector_size == 16 * 1024:
        return ERASE_16K_NS[psize]
    if sector_size == 64 * 1024:
        return ERASE_64K_NS[psize]
    # Sizes the datasheet does not list scale from the 128 KiB figure.
    return ERASE_128K_NS[psize] * sector_size // (128 * 1024)


def torn_program(old, value, width, progress, seed):
    """What a program of `value` over `old` leaves when power fails part way.

    Programming only clears bits; each bit that should clear has cleared with probability
    `progress` (drawn from `seed`), the others keep their old value. progress 0 leaves
    old, 1 leaves old & value."""
    rng = SplitMix64(seed ^ 0x50524F47)  # "PROG": programs and erases draw apart
    to_clear = old & ~value & ((1 << (8 * width)) - 1)
    cleared = 0
    bit = 0
    while to_clear >> bit:
        if (to_clear >> bit) & 1 and rng.chance(progress):
            cleared |= 1 << bit
        bit += 1
    return old & ~cleared


def torn_erase_words(nwords, progress, seed):
    """The shape of a torn sector erase: (erased word indices, partial index, partial mask).

    The erase reaches the sector's words in an order drawn from `seed` (flash does not
    promise address order); int(progress * nwords) of them are fully erased (0xFFFFFFFF),
    the next one in that order was being erased and has the bits of `partial mask` set
    (ORed into its old value), the others keep their old content. partial index is -1
    when every word was reached."""
    rng = SplitMix64(seed ^ 0x45524153)  # "ERAS"
    done = int(progress * nwords)
    if done > nwords:
        done = nwords
    wanted = done + 1 if done < nwords else nwords
    # A partial Fisher-Yates shuffle: only the first `wanted` positions are drawn.
    moved = {}
    order = []
    for i in range(wanted):
        j = i + rng.below(nwords - i)
        at_i = moved.get(i, i)
        at_j = moved.get(j, j)
        moved[j] = at_i
        order.append(at_j)
    if done < nwords:
        return order[:done], order[done], rng.next() & 0xFFFFFFFF
    return order, -1, 0


def _le(data):
    """A little-endian unsigned integer from bytes (no int.from_bytes on IronPython 2)."""
    value = 0
    for i, b in enumerate(bytearray(data)):
        value |= b << (8 * i)
    return value


def _le_bytes(value, n):
    return bytearray((value >> (8 * i)) & 0xFF for i in range(n))


def _popcount(x):
    return bin(x).count("1")


def _nth_bit(x, n):
    """The position of the n-th set bit of x (from bit 0)."""
    bit = 0
    while True:
        if (x >> bit) & 1:
            if n == 0:
                return bit
            n -= 1
        bit += 1


def _some_bits(x, rng):
    """A non-empty random subset of the set bits of x (0 when x is 0): one drawn for
    sure, each other with probability one half."""
    if not x:
        return 0
    picked = 1 << _nth_bit(x, rng.below(_popcount(x)))
    bit = 0
    while x >> bit:
        if (x >> bit) & 1 and rng.chance(0.5):
            picked |= 1 << bit
        bit += 1
    return picked


class FlashRules(object):
    """The flash interface of one STM32F4: registers, operations, trace and power cut."""

    def __init__(self, base, sector_sizes, memory=None):
        if not sector_sizes:
            raise ValueError("flash needs at least one sector")
        for size in sector_sizes:
            if size <= 0 or size % 4:
                raise ValueError("sector size %r is not a positive multiple of 4" % (size,))
        if len(sector_sizes) > 16:
            raise ValueError("SNB has 4 bits: at most 16 sectors, not %d" % len(sector_sizes))
        self.base = base
        self.sizes = list(sector_sizes)
        self.bases = []
        addr = base
        for size in self.sizes:
            self.bases.append(addr)
            addr += size
        self.end = addr
        self._last_sector = (0, 0, -1)
        self.memory = memory
        self.on_event = None
        self.trace = []
        self._owned = None      # (list, n): self.trace is a copy of list[:n] plus its own
        self.armed = None
        # Option bytes are non-volatile: they are not part of reset().
        self.option_bytes = OPTCR_FACTORY
        # Bits stuck at 0 (a flash failure): (byte address, mask); not part of reset().
        self.stuck = []
        self.reset()

    # --- geometry ---------------------------------------------------------------
    @property
    def sector_count(self):
        return len(self.sizes)

    def sector_base(self, sector):
        return self.bases[sector]

    def sector_size(self, sector):
        return self.sizes[sector]

    def sector_of(self, addr):
        if addr < self.base or addr >= self.end:
            return -1
        for i in range(len(self.sizes)):
            if addr < self.bases[i] + self.sizes[i]:
                return i
        return -1

    # --- reset and snapshots ------------------------------------------------------
    def reset(self):
        self.acr = 0
        self.sr = 0
        self.cr = CR_RESET
        self.optcr = self.option_bytes | OPTCR_OPTLOCK
        self.key_stage = 0      # 1 after KEY1 was written
        self.key_lockout = False
        self.optkey_stage = 0
        self.optkey_lockout = False
        self.busy = False
        self.busy_until = 0
        self.cut = False

    def save(self):
        self._owned = None      # this snapshot refers to the list: never shorten it
        return (self.acr, self.sr, self.cr, self.optcr, self.key_stage, self.key_lockout,
                self.optkey_stage, self.optkey_lockout, self.busy, self.busy_until,
                self.cut, self.option_bytes, self.armed, self.trace, len(self.trace),
                tuple(self.stuck))

    def load(self, state):
        (self.acr, self.sr, self.cr, self.optcr, self.key_stage, self.key_lockout,
         self.optkey_stage, self.optkey_lockout, self.busy, self.busy_until,
         self.cut, self.option_bytes, self.armed, trace, length, stuck) = state
        owned = self._owned
        if owned is not None and owned[0] is trace and length <= owned[1]:
            # The live list is our own copy of this one's first owned[1] entries (no
            # snapshot refers to it): shortening it costs what was added since, not
            # the whole trace (a campaign loads the same snapshot for many cuts).
            del self.trace[length:]
        else:
            self.trace = trace[:length]
        self._owned = (trace, length)
        self.stuck = list(stuck)

    # --- bench-side controls ------------------------------------------------------
    def set_write_protect(self, sector, on):
        """Protect (on) or unprotect a sector, as programmed option bytes would."""
        if sector < 0 or sector >= len(self.sizes):
            raise ValueError("no sector %r: the flash has %d" % (sector, len(self.sizes)))
        bit = 1 << (OPTCR_NWRP_SHIFT + sector)
        if on:
            self.option_bytes &= ~bit
            self.optcr &= ~bit
        else:
            self.option_bytes |= bit
            self.optcr |= bit

    def write_protected(self, sector):
        return not (self.option_bytes >> (OPTCR_NWRP_SHIFT + sector)) & 1

    def arm(self, op_index, mode=MODE_BEFORE, progress=0.5, seed=0):
        if op_index < 0:
            raise ValueError("power cut op_index must be >= 0, not %r" % (op_index,))
        if mode not in MODES:
            raise ValueError("power cut mode must be one of %s, not %r" % (MODES, mode))
        if not 0.0 <= progress <= 1.0:
            raise ValueError("power cut progress must be in 0.0..1.0, not %r" % (progress,))
        # The plain string from MODES, whatever string-like enum the caller passed.
        self.armed = (op_index, MODES[MODES.index(mode)], float(progress), seed)

    def disarm(self):
        self.armed = None

    def reset_trace(self):
        self.trace = []
        self._owned = None

    # --- time -----------------------------------------------------------------------
    def stall_ns(self, now):
        if self.busy and self.busy_until > now:
            return self.busy_until - now
        return 0

    def finish(self, now):
        """Complete the current operation if its time has come; True if it completed."""
        if not self.busy or now < self.busy_until:
            return False
        self.busy = False
        self.sr &= ~SR_BSY
        self.cr &= ~CR_STRT
        if self.cr & CR_EOPIE:
            self.sr |= SR_EOP
        return True

    def _drain(self):
        """An access that must wait for the current operation: the caller has stalled
        until busy_until, so the operation is over."""
        if self.busy:
            self.finish(self.busy_until)

    def irq_level(self):
        return bool((self.cr & CR_EOPIE and self.sr & SR_EOP)
                    or (self.cr & CR_ERRIE and self.sr & SR_OPERR))

    # --- registers ------------------------------------------------------------------
    def read_reg(self, offset, now):
        if offset == SR:
            return self.sr
        if offset == CR:
            return self.cr
        if offset == ACR:
            return self.acr
        if offset == OPTCR:
            return self.optcr
        if offset in (KEYR, OPTKEYR):
            return 0  # write-only
        return None

    def write_reg(self, offset, value, now, pc):
        """A 32-bit register write. Returns False for an offset the model does not know."""
        value &= 0xFFFFFFFF
        if self.cut:
            return True
        if offset == SR:
            self.sr &= ~(value & SR_W1C)
        elif offset == CR:
            self._write_cr(value, now, pc)
        elif offset == KEYR:
            self._write_keyr(value)
        elif offset == ACR:
            self.acr = value & ACR_WRITABLE
        elif offset == OPTKEYR:
            self._write_optkeyr(value)
        elif offset == OPTCR:
            self._write_optcr(value, now, pc)
        else:
            return False
        return True

    def _event(self, kind, detail):
        if self.on_event is not None:
            self.on_event(kind, detail)

    def _write_keyr(self, value):
        if self.key_lockout:
            self._event("bus-error", "FLASH_KEYR written after a wrong key sequence: "
                        "FLASH_CR stays locked until reset")
            return
        if not self.cr & CR_LOCK:
            # Writing a key while unlocked is a wrong sequence too; ST's own driver reads
            # LOCK before unlocking because of it.
            self._lock_out("FLASH_KEYR written while FLASH_CR was unlocked")
        elif self.key_stage == 0 and value == KEY1:
            self.key_stage = 1
        elif self.key_stage == 1 and value == KEY2:
            self.key_stage = 0
            self.cr &= ~CR_LOCK
        else:
            self._lock_out("wrong key 0x%08x written to FLASH_KEYR" % value)

    def _lock_out(self, why):
        self.key_stage = 0
        self.key_lockout = True
        self.cr |= CR_LOCK
        self._event("bus-error", why + ": FLASH_CR locked until reset (RM0090, unlocking"
                    " the Flash control register)")

    def _write_optkeyr(self, value):
        if self.optkey_lockout:
            self._event("bus-error", "FLASH_OPTKEYR written after a wrong key sequence")
            return
        if self.optkey_stage == 0 and value == OPTKEY1 and self.optcr & OPTCR_OPTLOCK:
            self.optkey_stage = 1
        elif self.optkey_stage == 1 and value == OPTKEY2:
            self.optkey_stage = 0
            self.optcr &= ~OPTCR_OPTLOCK
        else:
            self.optkey_stage = 0
            self.optkey_lockout = True
            self.optcr |= OPTCR_OPTLOCK
            self._event("bus-error", "wrong key 0x%08x written to FLASH_OPTKEYR: "
                        "FLASH_OPTCR locked until reset" % value)

    def read_protection(self):
        """RDP level from the option bytes: 0 (0xAA), 2 (0xCC) or 1 (anything else)."""
        rdp = (self.option_bytes >> 8) & 0xFF
        if rdp == RDP_LEVEL0:
            return 0
        if rdp == RDP_LEVEL2:
            return 2
        return 1

    def _write_optcr(self, value, now=0, pc=0):
        if self.optcr & OPTCR_OPTLOCK:
            return
        self.optcr = (value & (OPTCR_OPTIONS | OPTCR_OPTLOCK))
        if not value & OPTCR_OPTSTRT:
            return
        level = self.read_protection()
        new = self.optcr & OPTCR_OPTIONS
        if level == 2:
            # Level 2 is for good: the option bytes can no longer be changed (RM0090,
            # "Read protection").
            self.optcr = self.option_bytes | (self.optcr & OPTCR_OPTLOCK)
            self._event("flash", "OPTSTRT at read protection level 2: option bytes frozen")
            return
        self.option_bytes = new
        self._event("flash", "option bytes programmed to 0x%08x (instant, not traced)"
                    % self.option_bytes)
        if level == 1 and self.read_protection() == 0:
            # Level 1 -> 0 erases the whole user flash first (RM0090, "Read protection").
            self._event("flash", "read protection level 1 -> 0: mass erase of the flash")
            for s in range(len(self.sizes)):
                cut = self._record(OP_ERASE, self.bases[s], self.sizes[s], s, None, now, pc)
                if cut is None:
                    self._erase(s)
                else:
                    self._erase_cut(s, cut)
                    return

    def _write_cr(self, value, now, pc):
        if self.cr & CR_LOCK:
            return  # a locked FLASH_CR ignores writes; only the key sequence opens it
        self._drain()
        # LOCK can only be set by software; STRT only starts, hardware clears it.
        self.cr = (value & CR_WRITABLE) | (self.cr & CR_LOCK)
        if value & CR_STRT:
            self._start_erase(now, pc)

    # --- operations -----------------------------------------------------------------
    def _psize(self):
        return (self.cr & CR_PSIZE_MASK) >> CR_PSIZE_SHIFT

    def _refuse(self, flags):
        """An operation that cannot run: flags set, nothing changes in flash."""
        self._event("flash-refused", "SR error flags 0x%02x (CR 0x%08x)" % (flags, self.cr))
        if self.cr & CR_ERRIE and flags & (SR_WRPERR | SR_PGAERR | SR_PGPERR):
            # OPERR marks parallelism, alignment and protection errors (RM0090 FLASH_SR).
            flags |= SR_OPERR
        self.sr |= flags

    def _begin(self, duration, now):
        self.busy = True
        self.busy_until = now + duration
        self.sr |= SR_BSY

    def _record(self, kind, addr, size, sector, value, now, pc):
        """Trace one operation; returns the armed cut (mode, progress, seed) if power
        fails at it, else None."""
        index = len(self.trace)
        self.trace.append((index, kind, addr, size, sector, value, now, pc))
        armed = self.armed
        if armed is None or armed[0] != index:
            return None
        self.armed = None
        what = "%s at 0x%08x" % (kind, addr)
        if armed[1] in FAULT_MODES:
            applies = armed[1] in (FAULT_ON_ERASE if kind == OP_ERASE else FAULT_ON_PROGRAM)
            self._event("flash", "flash failure %s at flash operation %d (%s, sector %d) "
                        "seed %d%s" % (armed[1], index, what, sector, armed[3],
                                       "" if applies else ": does not apply to an " + kind))
            return armed[1:] if applies else None
        self.cut = True
        self._event("flash", "power cut %s flash operation %d (%s, sector %d)%s"
                    % ("during" if armed[1] == MODE_TORN else armed[1], index, what, sector,
                       " progress %g seed %d" % (armed[2], armed[3])
                       if armed[1] == MODE_TORN else ""))
        return armed[1:]

    def _start_erase(self, now, pc):
        cr = self.cr
        psize = self._psize()
        if cr & CR_SER and cr & CR_MER:
            # "neither sector nor mass erase can be performed" (RM0090 "Mass erase")
            self.cr &= ~CR_STRT
            self._refuse(SR_PGSERR)
            return
        if cr & CR_MER:
            sectors = list(range(len(self.sizes)))
            duration = MASS_ERASE_NS[psize]
        elif cr & CR_SER:
            snb = (cr & CR_SNB_MASK) >> CR_SNB_SHIFT
            if snb >= len(self.sizes):
                self.cr &= ~CR_STRT
                self._refuse(SR_PGSERR)
                self._event("flash", "erase of sector %d: the flash has %d sectors"
                            % (snb, len(self.sizes)))
                return
            sectors = [snb]
            duration = erase_time_ns(self.sizes[snb], psize)
        else:
            self.cr &= ~CR_STRT
            self._refuse(SR_PGSERR)
            return
        for s in sectors:
            if self.write_protected(s):
                self.cr &= ~CR_STRT
                self._refuse(SR_WRPERR)
                return
        # PG with SER/MER: "the erase operation is performed first" (RM0090 "Programming").
        self._begin(duration, now)
        step = duration // len(sectors)
        for i, s in enumerate(sectors):
            cut = self._record(OP_ERASE, self.bases[s], self.sizes[s], s, None,
                               now + i * step, pc)
            if cut is None:
                self._erase(s)
            elif cut[0] in FAULT_MODES:
                self._erase_fault(s, cut[0], cut[2])
            else:
                self._erase_cut(s, cut)
                return

    def _erase(self, sector):
        self.memory.write(self.bases[sector], b"\xff" * self.sizes[sector])
        self._keep_stuck(sector)

    def _keep_stuck(self, sector):
        """Bits stuck at 0 in `sector` stay 0 whatever an erase did."""
        lo = self.bases[sector]
        hi = lo + self.sizes[sector]
        for addr, mask in self.stuck:
            if lo <= addr < hi:
                self._clear_bits(addr, mask)

    def _erase_fault(self, sector, mode, seed):
        """An erase that fails without a power cut (see FAULT_MODES)."""
        if mode == FAULT_DROPPED:
            return
        base, size = self.bases[sector], self.sizes[sector]
        before = bytearray(self.memory.read(base, size))
        rng = SplitMix64(seed ^ 0x46415553)  # "FAUS"
        self._erase(sector)
        if mode == FAULT_STUCK:
            at = 4 * rng.below(size // 4) + rng.below(4)
            self._stick(base + at, 1 << rng.below(8))
            return
        # weak-erase: up to four words that held 0 bits keep some of them.
        dirty = [w for w in range(size // 4) if before[4 * w:4 * w + 4] != b"\xff\xff\xff\xff"]
        after = bytearray(self.memory.read(base, size))
        for _ in range(min(4, len(dirty))):
            w = dirty.pop(rng.below(len(dirty)))
            kept = _some_bits(~_le(before[4 * w:4 * w + 4]) & 0xFFFFFFFF, rng)
            after[4 * w:4 * w + 4] = _le_bytes(0xFFFFFFFF & ~kept, 4)
        self.memory.write(base, bytes(after))

    def _stick(self, addr, mask):
        self.stuck.append((addr, mask))
        self._clear_bits(addr, mask)

    def _clear_bits(self, addr, mask):
        byte = bytearray(self.memory.read(addr, 1))
        byte[0] &= ~mask & 0xFF
        self.memory.write(addr, bytes(byte))

    def _program_fault(self, addr, width, value, old, sector, mode, seed):
        """What a program that fails without a power cut leaves at addr (see FAULT_MODES)."""
        rng = SplitMix64(seed ^ 0x46415550)  # "FAUP"
        bits = 8 * width
        done = old & value
        if mode == FAULT_DROPPED:
            return old
        if mode == FAULT_SILENT:
            return done | _some_bits(old & ~value & ((1 << bits) - 1), rng)
        if mode == FAULT_STUCK:
            ones = done or (1 << bits) - 1
            bit = _nth_bit(ones, rng.below(_popcount(ones)))
            self.stuck.append((addr + bit // 8, 1 << (bit % 8)))
            return done & ~(1 << bit)
        # disturb: the next word (the previous one at the end of the sector) loses a bit.
        lo = self.bases[sector]
        hi = lo + self.sizes[sector]
        near = addr + width if addr + 2 * width <= hi else addr - width
        if near >= lo:
            word = _le(self.memory.read(near, width))
            if word:
                bit = _nth_bit(word, rng.below(_popcount(word)))
                self.memory.write(near, bytes(_le_bytes(word & ~(1 << bit), width)))
        return done

    def _erase_cut(self, sector, cut):
        mode, progress, seed = cut
        if mode == MODE_AFTER:
            self._erase(sector)
        elif mode == MODE_TORN:
            base, size = self.bases[sector], self.sizes[sector]
            content = bytearray(self.memory.read(base, size))
            erased, partial, mask = torn_erase_words(size // 4, progress, seed)
            ones = b"\xff\xff\xff\xff"
            for w in erased:
                content[4 * w:4 * w + 4] = ones
            if partial >= 0:
                at = 4 * partial
                for i in range(4):
                    content[at + i] |= (mask >> (8 * i)) & 0xFF
            self.memory.write(base, bytes(content))

    def program_at_once(self, addr, width, value, old, now, pc):
        """program() for a caller that stalls the CPU for the whole program time (code
        fetched from flash waits for it): the operation is over when this returns.

        Only the common case is handled here (idle, right sequence, PSIZE, alignment,
        unprotected sector of the last program, no cut armed at it); for anything else
        it returns None having changed nothing, and the caller uses program(). When it
        answers, the state is exactly that of program() then finish(busy_until)."""
        lo, hi, sector = self._last_sector
        armed = self.armed
        trace = self.trace
        if (self.busy or self.cut or addr % width
                or not lo <= addr < addr + width <= hi
                or self.cr & _AT_ONCE_CR_MASK != _AT_ONCE_CR.get(width)
                or not (self.option_bytes >> (OPTCR_NWRP_SHIFT + sector)) & 1
                or (armed is not None and armed[0] == len(trace))):
            return None
        trace.append((len(trace), OP_PROGRAM, addr, width, sector, value, now, pc))
        # BSY rose and fell within the call; STRT and EOP as finish() leaves them.
        self.busy_until = now + PROGRAM_NS
        self.cr &= ~CR_STRT
        if self.cr & CR_EOPIE:
            self.sr |= SR_EOP
        return old & value

    def program(self, addr, width, value, old, now, pc):
        """A CPU store into flash; returns the value flash holds at addr afterwards."""
        if self.cut:
            return old
        if self.busy:
            self._drain()
        cr = self.cr
        lo, hi, sector = self._last_sector
        if not lo <= addr < addr + width <= hi:
            # Stores come in runs through one sector: remember the last one found.
            sector = self.sector_of(addr)
            if sector < 0 or self.sector_of(addr + width - 1) != sector:
                raise ValueError("program at 0x%08x (%d bytes) is outside flash"
                                 % (addr, width))
            lo = self.bases[sector]
            self._last_sector = (lo, lo + self.sizes[sector], sector)
        flags = 0
        if width != PSIZE_BYTES[(cr & CR_PSIZE_MASK) >> CR_PSIZE_SHIFT]:
            flags |= SR_PGPERR
        if addr % width:
            # Unaligned data may leave its 128-bit row; the bench refuses any unaligned
            # program, as the core would split it into accesses PSIZE refuses anyway.
            flags |= SR_PGAERR
        if cr & (CR_LOCK | CR_PG | CR_SER | CR_MER) != CR_PG:
            # Locked, PG not set, or PG mixed with an erase request (RM0090 FLASH_SR). The
            # width is checked too: a stray word store after reset (PSIZE x8) is reported
            # on real parts as PGSERR | PGPERR (SR = 0xC0).
            self._refuse(flags | SR_PGSERR)
            return old
        if not (self.option_bytes >> (OPTCR_NWRP_SHIFT + sector)) & 1:
            flags |= SR_WRPERR
        if flags:
            self._refuse(flags)
            return old
        # The hot path: _begin() and _record() inlined.
        self.busy = True
        self.busy_until = now + PROGRAM_NS
        self.sr |= SR_BSY
        armed = self.armed
        if armed is None or armed[0] != len(self.trace):
            self.trace.append((len(self.trace), OP_PROGRAM, addr, width, sector, value, now, pc))
            return old & value
        cut = self._record(OP_PROGRAM, addr, width, sector, value, now, pc)
        if cut is None:     # a flash failure that does not apply to a program
            return old & value
        mode, progress, seed = cut
        if mode in FAULT_MODES:
            return self._program_fault(addr, width, value, old, sector, mode, seed)
        if mode == MODE_BEFORE:
            return old
        if mode == MODE_AFTER:
            return old & value
        return torn_program(old, value, width, progress, seed)
