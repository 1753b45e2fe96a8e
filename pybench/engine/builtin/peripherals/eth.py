"""The STM32F407's Ethernet MAC with its DMA (Synopsys GMAC, RM0090 chapter 33).

What the firmware sees: the MAC registers (0x000..), the MMC counters (0x100..) and the
DMA registers (0x1000..); descriptor lists in SRAM that the DMA walks, normal 4-word
descriptors or enhanced 8-word ones (DMABMR.EDFE), chained (TCH/RCH) or in a ring
(TER/RER, DSL); the SMI/MDIO port to the PHY; one interrupt line (IRQ 61) as a level.

The DMA is instantaneous in virtual time: a transmit poll sends every ready frame at
once, and a frame from the wire lands in the receive descriptors as soon as the DMA can
take it. What the firmware can observe (status bits, process states, descriptor write
back, missed-frame counters) follows the reference manual.
"""

from __future__ import annotations

import struct
import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from pybench.engine.builtin.peripheral import Bus, Peripheral

ETH_IRQ = 61

# --- MAC registers -------------------------------------------------------------------
MACCR, MACFFR, MACHTHR, MACHTLR = 0x00, 0x04, 0x08, 0x0C
MACMIIAR, MACMIIDR, MACFCR, MACVLANTR = 0x10, 0x14, 0x18, 0x1C
MACRWUFFR, MACPMTCSR, MACDBGR, MACSR, MACIMR = 0x28, 0x2C, 0x34, 0x38, 0x3C
MACA0HR, MACA0LR = 0x40, 0x44
# --- MMC ------------------------------------------------------------------------------
MMCCR, MMCRIR, MMCTIR, MMCRIMR, MMCTIMR = 0x100, 0x104, 0x108, 0x10C, 0x110
MMCTGFSCCR, MMCTGFMSCCR, MMCTGFCR = 0x14C, 0x150, 0x168
MMCRFCECR, MMCRFAECR, MMCRGUFCR = 0x194, 0x198, 0x1C4
# --- DMA ------------------------------------------------------------------------------
DMABMR, DMATPDR, DMARPDR, DMARDLAR, DMATDLAR = 0x1000, 0x1004, 0x1008, 0x100C, 0x1010
DMASR, DMAOMR, DMAIER, DMAMFBOCR, DMARSWTR = 0x1014, 0x1018, 0x101C, 0x1020, 0x1024
DMACHTDR, DMACHRDR, DMACHTBAR, DMACHRBAR = 0x1048, 0x104C, 0x1050, 0x1054

MACCR_RE, MACCR_TE, MACCR_LM = 1 << 2, 1 << 3, 1 << 12
MACFFR_PM, MACFFR_HU, MACFFR_HM, MACFFR_DAIF = 1 << 0, 1 << 1, 1 << 2, 1 << 3
MACFFR_PAM, MACFFR_BFD, MACFFR_HPF, MACFFR_RA = 1 << 4, 1 << 5, 1 << 10, 1 << 31
MACMIIAR_MB, MACMIIAR_MW = 1 << 0, 1 << 1
MACAHR_AE = 1 << 31

MMCCR_CR, MMCCR_ROR, MMCCR_MCF = 1 << 0, 1 << 2, 1 << 3

DMABMR_SR, DMABMR_EDFE = 1 << 0, 1 << 7
DMAOMR_SR, DMAOMR_ST, DMAOMR_FTF, DMAOMR_DFRF = 1 << 1, 1 << 13, 1 << 20, 1 << 24

SR_TS, SR_TPSS, SR_TBUS, SR_TJTS, SR_ROS, SR_TUS = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5
SR_RS, SR_RBUS, SR_RPSS, SR_RWTS, SR_ETS = 1 << 6, 1 << 7, 1 << 8, 1 << 9, 1 << 10
SR_FBES, SR_ERS, SR_AIS, SR_NIS = 1 << 13, 1 << 14, 1 << 15, 1 << 16
SR_W1C = 0x0001E7FF          # status bits 0-10 and 13-16; the state fields are read-only
SR_NORMAL = SR_TS | SR_TBUS | SR_RS | SR_ERS
SR_ABNORMAL = (SR_TPSS | SR_TJTS | SR_ROS | SR_TUS | SR_RBUS | SR_RPSS | SR_RWTS | SR_ETS
               | SR_FBES)
IER_AISE, IER_NISE = 1 << 15, 1 << 16
TPS_SHIFT, RPS_SHIFT = 20, 17
TPS_STOPPED, TPS_SUSPENDED = 0b000, 0b110
RPS_STOPPED, RPS_WAITING, RPS_SUSPENDED = 0b000, 0b011, 0b100

# --- descriptors ----------------------------------------------------------------------
OWN = 1 << 31
TDES0_IC, TDES0_LS, TDES0_FS, TDES0_DP = 1 << 30, 1 << 29, 1 << 28, 1 << 26
TDES0_CIC_SHIFT, TDES0_TER, TDES0_TCH = 22, 1 << 21, 1 << 20
RDES0_ES, RDES0_DE, RDES0_VLAN, RDES0_FS, RDES0_LS, RDES0_FT = (
    1 << 15, 1 << 14, 1 << 10, 1 << 9, 1 << 8, 1 << 5)
RDES0_FL_SHIFT = 16
RDES1_DIC, RDES1_RER, RDES1_RCH = 1 << 31, 1 << 15, 1 << 14
BUF_SIZE_MASK = 0x1FFF

FCS_LEN = 4
MIN_FRAME = 60               # without FCS: shorter frames are padded on the wire
RX_FIFO_FRAMES = 4           # the 2 KiB receive FIFO holds a few frames, not more
MAX_FRAME = 2000             # longer frames trip the receive watchdog (MACCR.WD clear)
MDIO_FRAME_BITS = 64         # preamble, start, op, addresses, turnaround, data
HCLK_HZ = 168_000_000
# MDC = HCLK / divider, by MACMIIAR.CR (RM0090 33.8.1); unknown codes take the slowest.
_MDC_DIVIDERS = {0b000: 42, 0b001: 62, 0b010: 16, 0b011: 26, 0b100: 102}

_RESET_VALUES = {
    MACCR: 0x00008000, MACA0HR: 0x8000FFFF, MACA0LR: 0xFFFFFFFF,
    0x48: 0x0000FFFF, 0x4C: 0xFFFFFFFF, 0x50: 0x0000FFFF, 0x54: 0xFFFFFFFF,
    0x58: 0x0000FFFF, 0x5C: 0xFFFFFFFF, DMABMR: 0x00002100,
}

# Writable bits of the plain read/write registers.
_WRITABLE = {
    MACCR: 0x02CF7EFC, MACFFR: 0x800007FF, MACHTHR: 0xFFFFFFFF, MACHTLR: 0xFFFFFFFF,
    MACMIIAR: 0x0000FFDF, MACMIIDR: 0x0000FFFF, MACFCR: 0xFFFF00BE, MACVLANTR: 0x0001FFFF,
    MACPMTCSR: 0x80000207, MACIMR: 0x00000208,
    MACA0HR: 0x0000FFFF, MACA0LR: 0xFFFFFFFF,
    0x48: 0xFF00FFFF, 0x4C: 0xFFFFFFFF, 0x50: 0xFF00FFFF, 0x54: 0xFFFFFFFF,
    0x58: 0xFF00FFFF, 0x5C: 0xFFFFFFFF,
    MMCCR: 0x0000003F, MMCRIMR: 0x00020060, MMCTIMR: 0x0020C000,
    DMABMR: 0x03FFFFFF, DMARDLAR: 0xFFFFFFFC, DMATDLAR: 0xFFFFFFFC,
    DMAOMR: 0x0731E0DE, DMAIER: 0x0001E7FF, DMARSWTR: 0x000000FF,
}
_READ_ONLY_ZERO = (MACRWUFFR, MACSR, MMCRIR, MMCTIR, MMCTGFSCCR, MMCTGFMSCCR,
                   MMCRFCECR, MMCRFAECR)
_COUNTERS = (MMCTGFCR, MMCRGUFCR)


class MdioDevice(Protocol):
    """What the MAC needs of a PHY on its MDIO bus."""

    def mdio_read(self, reg: int) -> int: ...

    def mdio_write(self, reg: int, value: int) -> None: ...

    @property
    def link(self) -> bool: ...


@dataclass(frozen=True)
class _Desc:
    addr: int
    w0: int
    w1: int
    w2: int
    w3: int


def mac_hash_index(dest: bytes) -> int:
    """Bit of the 64-bit hash table (HTHR:HTLR) a destination address selects.

    The MAC takes the upper 6 bits of the CRC-32 of the address, complemented and bit
    reversed (RM0090 33.5.2); zlib's CRC already has the final complement.
    """
    crc = zlib.crc32(dest) & 0xFFFFFFFF
    rev = int(f"{crc:032b}"[::-1], 2)
    return rev >> 26


def _ones_complement_sum(data: bytes, start: int = 0) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = start
    for (word,) in struct.iter_unpack("!H", data):
        total += word
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def insert_checksums(frame: bytes, cic: int) -> bytes:
    """Checksum insertion on transmit (TDES0.CIC) for IPv4 frames; others pass as they are.

    CIC 1: IPv4 header checksum. 2: also TCP/UDP/ICMP, the pseudo-header sum being
    already in the checksum field. 3: all of it, the pseudo-header computed here.
    """
    if cic == 0 or len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    out = bytearray(frame)
    ihl = (out[14] & 0x0F) * 4
    if out[14] >> 4 != 4 or ihl < 20 or len(out) < 14 + ihl:
        return frame
    out[24:26] = b"\x00\x00"
    out[24:26] = struct.pack("!H", ~_ones_complement_sum(bytes(out[14:14 + ihl])) & 0xFFFF)
    if cic == 1:
        return bytes(out)
    total_len = struct.unpack_from("!H", out, 16)[0]
    proto = out[23]
    payload_at = 14 + ihl
    payload_end = min(len(out), 14 + total_len)
    field_at = {1: 2, 6: 16, 17: 6}.get(proto)
    frag = struct.unpack_from("!H", out, 20)[0] & 0x3FFF
    if field_at is None or frag or payload_end - payload_at < field_at + 2:
        return bytes(out)
    at = payload_at + field_at
    if cic == 3 or proto == 1:
        out[at:at + 2] = b"\x00\x00"
    start = 0
    if cic == 3 and proto != 1:
        pseudo = bytes(out[26:34]) + struct.pack("!BBH", 0, proto, payload_end - payload_at)
        start = _ones_complement_sum(pseudo)
    csum = ~_ones_complement_sum(bytes(out[payload_at:payload_end]), start) & 0xFFFF
    if proto == 17 and csum == 0:
        csum = 0xFFFF
    out[at:at + 2] = struct.pack("!H", csum)
    return bytes(out)


class EthernetMac(Peripheral):
    """Synopsys Ethernet MAC 10/100 with its DMA, as on the STM32F407."""

    repl_types = ("Network.SynopsysEthernetMAC",)
    #: MAC, MMC, PTP and DMA registers (the .repl line gives no size).
    default_size = 0x1400

    def __init__(self, name: str, base: int, size: int, bus: Bus, props: dict[str, Any]):
        super().__init__(name, base, size or self.default_size, bus, props)
        self.irq = int(props.get("irq", ETH_IRQ))
        self._phys: dict[int, MdioDevice] = {}
        self._irq_level = False
        self._mode_told: set[tuple[int, bool]] = set()
        self.reset()

    # --- wiring ---------------------------------------------------------------------
    def attach(self, child: Any, address: int) -> None:
        """A PHY on the MDIO bus at `address` (the .repl's "@ ethernet N")."""
        if not 0 <= address < 32:
            raise ValueError(f"{self.name}: PHY address {address} is not 0..31")
        self._phys[address] = child

    # --- state ----------------------------------------------------------------------
    def reset(self) -> None:
        self.regs: dict[int, int] = {off: 0 for off in _WRITABLE}
        self.regs.update(_RESET_VALUES)
        self.counters = dict.fromkeys(_COUNTERS, 0)
        self.dmasr = 0
        self.tps = TPS_STOPPED
        self.rps = RPS_STOPPED
        self.cur_tx = 0
        self.cur_rx = 0
        self.cur_tx_buf = 0
        self.cur_rx_buf = 0
        self.missed_ctrl = 0      # frames lost for want of a receive descriptor (MFC)
        self.missed_fifo = 0      # frames lost to a full receive FIFO (MFA)
        self.mdio_done_ns = 0     # MACMIIAR.MB reads 1 until then
        self.rx_fifo: deque[bytes] = deque()
        self._update_irq()

    def save(self) -> Any:
        return (tuple(sorted(self.regs.items())), tuple(sorted(self.counters.items())),
                self.dmasr, self.tps, self.rps, self.cur_tx, self.cur_rx, self.cur_tx_buf,
                self.cur_rx_buf, self.missed_ctrl, self.missed_fifo, self.mdio_done_ns,
                tuple(self.rx_fifo), self._irq_level)

    def load(self, state: Any) -> None:
        (regs, counters, self.dmasr, self.tps, self.rps, self.cur_tx, self.cur_rx,
         self.cur_tx_buf, self.cur_rx_buf, self.missed_ctrl, self.missed_fifo,
         self.mdio_done_ns, fifo, level) = state
        self.regs = dict(regs)
        self.counters = dict(counters)
        self.rx_fifo = deque(fifo)
        self._irq_level = level
        self.bus.set_irq(self.irq, level)

    def stable_read(self, offset: int) -> bool:
        # DMASR changes only with frames and register writes (the polled driver's loop).
        return offset == DMASR

    # --- register access ------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        if offset == DMASR and size == 4:
            # The register a polled driver reads every few hundred instructions.
            return self.dmasr | (self.tps << TPS_SHIFT) | (self.rps << RPS_SHIFT)
        aligned, shift = offset & ~3, (offset & 3) * 8
        value = self._read_reg(aligned)
        return (value >> shift) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        aligned, shift = offset & ~3, (offset & 3) * 8
        lanes = (((1 << (8 * size)) - 1) << shift) & 0xFFFFFFFF
        self._write_reg(aligned, (value << shift) & lanes, lanes)

    def _read_reg(self, off: int) -> int:
        if off == MACMIIAR:
            busy = MACMIIAR_MB if self.bus.now_ns < self.mdio_done_ns else 0
            return (self.regs[MACMIIAR] & ~MACMIIAR_MB) | busy
        if off == MACDBGR:
            return (1 << 8) if self.rx_fifo else 0   # RFFL: below the flow-control threshold
        if off == DMASR:
            return self.dmasr | (self.tps << TPS_SHIFT) | (self.rps << RPS_SHIFT)
        if off == DMAMFBOCR:
            value = (min(self.missed_ctrl, 0xFFFF) | (self.missed_ctrl > 0xFFFF) << 16
                     | min(self.missed_fifo, 0x7FF) << 17 | (self.missed_fifo > 0x7FF) << 28)
            self.missed_ctrl = self.missed_fifo = 0
            return value
        if off in (DMATPDR, DMARPDR):
            return 0
        if off == DMACHTDR:
            return self.cur_tx
        if off == DMACHRDR:
            return self.cur_rx
        if off == DMACHTBAR:
            return self.cur_tx_buf
        if off == DMACHRBAR:
            return self.cur_rx_buf
        if off in self.counters:
            value = self.counters[off]
            if self.regs[MMCCR] & MMCCR_ROR:
                self.counters[off] = 0
            return value
        if off in _READ_ONLY_ZERO:
            return 0
        if off in self.regs:
            return self.regs[off]
        self.unknown(off, "read")
        return 0

    def _write_reg(self, off: int, value: int, lanes: int) -> None:
        if off == DMASR:
            self.dmasr &= ~(value & SR_W1C)
            self._update_irq()
            return
        if off == DMATPDR:
            if self.tps == TPS_SUSPENDED:
                self._tx_poll()
            return
        if off == DMARPDR:
            if self.rps == RPS_SUSPENDED:
                self._rx_fetch()
                self._rx_drain()
            return
        if off in _READ_ONLY_ZERO or off in self.counters or off in (MACDBGR, DMAMFBOCR,
                                                                    DMACHTDR, DMACHRDR,
                                                                    DMACHTBAR, DMACHRBAR):
            return
        if off not in _WRITABLE:
            self.unknown(off, "write")
            return
        old = self.regs[off]
        mask = _WRITABLE[off] & lanes
        new = (old & ~mask) | (value & mask)
        self.regs[off] = new
        self._after_write(off, old, new)

    def _after_write(self, off: int, old: int, new: int) -> None:
        if off == MACCR:
            rose = new & ~old
            if rose & MACCR_TE and self.tps == TPS_SUSPENDED:
                self._tx_poll()
            if rose & MACCR_RE:
                self._rx_drain()
        elif off == MACMIIAR and new & MACMIIAR_MB:
            self._mdio_transaction(new)
        elif off == MMCCR and new & MMCCR_CR:
            self.counters = dict.fromkeys(_COUNTERS, 0)
            self.regs[MMCCR] = new & ~MMCCR_CR
        elif off == DMABMR and new & DMABMR_SR:
            self._soft_reset()
        elif off == DMARDLAR:
            self.cur_rx = new
        elif off == DMATDLAR:
            self.cur_tx = new
        elif off == DMAOMR:
            self._omr_changed(old, new)
        elif off == DMAIER:
            self._update_irq()

    def _soft_reset(self) -> None:
        """DMABMR.SR: every MAC and DMA register to its reset value; SR then reads 0."""
        phys, level = self._phys, self._irq_level
        self.reset()
        self._phys = phys
        if level != self._irq_level:
            self.bus.set_irq(self.irq, self._irq_level)

    def _omr_changed(self, old: int, new: int) -> None:
        if new & DMAOMR_FTF:
            self.regs[DMAOMR] = new & ~DMAOMR_FTF   # the transmit FIFO is always empty
        if new & DMAOMR_ST and not old & DMAOMR_ST:
            self.tps = TPS_SUSPENDED
            self._tx_poll()
        elif old & DMAOMR_ST and not new & DMAOMR_ST:
            self.tps = TPS_STOPPED
            self.dmasr |= SR_TPSS
        if new & DMAOMR_SR and not old & DMAOMR_SR:
            self._rx_fetch()
            self._rx_drain()
        elif old & DMAOMR_SR and not new & DMAOMR_SR:
            self.rps = RPS_STOPPED
            self.dmasr |= SR_RPSS
        self._update_irq()

    # --- interrupt ------------------------------------------------------------------
    def _update_irq(self) -> None:
        ier = self.regs[DMAIER]
        if self.dmasr & ier & SR_NORMAL:
            self.dmasr |= SR_NIS
        if self.dmasr & ier & SR_ABNORMAL:
            self.dmasr |= SR_AIS
        level = bool(self.dmasr & ier & (SR_NIS | SR_AIS))
        if level != self._irq_level:
            self._irq_level = level
            self.bus.set_irq(self.irq, level)

    # --- MDIO -----------------------------------------------------------------------
    def _mdio_transaction(self, miiar: int) -> None:
        pa, reg = (miiar >> 11) & 0x1F, (miiar >> 6) & 0x1F
        phy = self._phys.get(pa)
        if miiar & MACMIIAR_MW:
            if phy is not None:
                phy.mdio_write(reg, self.regs[MACMIIDR] & 0xFFFF)
        else:
            # Nobody drives MDIO at an empty address: the pull-up reads all ones.
            self.regs[MACMIIDR] = phy.mdio_read(reg) & 0xFFFF if phy is not None else 0xFFFF
        divider = _MDC_DIVIDERS.get((miiar >> 2) & 7, 102)
        self.mdio_done_ns = self.bus.now_ns + MDIO_FRAME_BITS * divider * 10**9 // HCLK_HZ

    def _link_up(self) -> bool:
        if not self._phys:
            return True
        return all(phy.link for phy in self._phys.values()) and self._interface_matches()

    def _interface_matches(self) -> bool:
        """SYSCFG_PMC.MII_RMII_SEL selects the interface the PHY is wired for: frames
        flow only then (RM0090 33.4.4; on a board the other choice carries no frame)."""
        peer = getattr(self.bus, "peer", None)
        if peer is None:
            return True
        from pybench.engine.builtin.peripherals.syscfg import Syscfg

        syscfg = peer(Syscfg)
        if syscfg is None:
            return True
        for address, phy in self._phys.items():
            wired = getattr(phy, "rmii", syscfg.rmii)
            if wired != syscfg.rmii:
                key = (address, syscfg.rmii)
                if key not in self._mode_told:
                    self._mode_told.add(key)
                    mode = {True: "RMII", False: "MII"}
                    self.bus.event("ethernet", f"{self.name}: SYSCFG_PMC selects"
                                   f" {mode[syscfg.rmii]} but the PHY at address {address}"
                                   f" ({getattr(getattr(phy, 'vendor', None), 'name', 'PHY')})"
                                   f" is wired for {mode[wired]}: no frames pass")
                return False
        return True

    # --- descriptors ----------------------------------------------------------------
    def _read_desc(self, addr: int) -> _Desc:
        w0, w1, w2, w3 = struct.unpack("<4I", self.bus.read_mem(addr, 16))
        return _Desc(addr, w0, w1, w2, w3)

    def _write_word(self, addr: int, value: int) -> None:
        self.bus.write_mem(addr, struct.pack("<I", value & 0xFFFFFFFF))

    def _desc_stride(self) -> int:
        """Bytes from one ring descriptor to the next: its size plus DSL words."""
        bmr = self.regs[DMABMR]
        size = 32 if bmr & DMABMR_EDFE else 16
        return size + ((bmr >> 2) & 0x1F) * 4

    # --- transmit -------------------------------------------------------------------
    def _tx_poll(self) -> None:
        """Send every frame whose descriptors the DMA owns; suspend at the first it doesn't."""
        while self.regs[DMAOMR] & DMAOMR_ST:
            if not self.regs[MACCR] & MACCR_TE:
                return   # stays suspended: the MAC transmitter is off; TE rising resumes
            descs = self._tx_gather()
            if descs is None:
                self.tps = TPS_SUSPENDED
                self.dmasr |= SR_TBUS
                break
            self._tx_send(descs)
        self._update_irq()

    def _tx_next(self, d: _Desc) -> int:
        if d.w0 & TDES0_TCH:
            return d.w3
        if d.w0 & TDES0_TER:
            return self.regs[DMATDLAR]
        return d.addr + self._desc_stride()

    def _tx_gather(self) -> list[_Desc] | None:
        """The descriptors of the next frame, FS to LS, or None if one is not ready."""
        descs: list[_Desc] = []
        addr = self.cur_tx
        for _ in range(4096):
            d = self._read_desc(addr)
            if not d.w0 & OWN:
                return None
            descs.append(d)
            if d.w0 & TDES0_LS:
                return descs
            addr = self._tx_next(d)
        self.bus.event("fault", f"{self.name}: transmit frame without LS in 4096 descriptors")
        return None

    def _tx_send(self, descs: list[_Desc]) -> None:
        parts = []
        for d in descs:
            parts.append(self.bus.read_mem(d.w2, d.w1 & BUF_SIZE_MASK))
            self.cur_tx_buf = d.w2
            size2 = (d.w1 >> 16) & BUF_SIZE_MASK
            if not d.w0 & TDES0_TCH and size2:
                parts.append(self.bus.read_mem(d.w3, size2))
                self.cur_tx_buf = d.w3
        first, last = descs[0], descs[-1]
        frame = insert_checksums(b"".join(parts), (first.w0 >> TDES0_CIC_SHIFT) & 3)
        if not first.w0 & TDES0_DP:
            frame = frame.ljust(MIN_FRAME, b"\0")     # automatic padding (TDES0.DP clear)
        if self._link_up():
            if self.regs[MACCR] & MACCR_LM:
                self.receive_frame(frame)
            else:
                self.bus.frame_out(frame)
            self._count(MMCTGFCR)
        for d in descs:
            # Write back: OWN cleared, status (all good: no errors on this wire) in LS.
            self._write_word(d.addr, d.w0 & ~OWN & 0xFFFF0000 if d is last else d.w0 & ~OWN)
        self.cur_tx = self._tx_next(last)
        if last.w0 & TDES0_IC:
            self.dmasr |= SR_TS

    # --- receive --------------------------------------------------------------------
    def receive_frame(self, frame: bytes) -> None:
        """A frame from the wire (no FCS): filter, queue in the RX FIFO, DMA it when possible."""
        if not self._link_up() or not self.regs[MACCR] & MACCR_RE:
            return
        if len(frame) < 14 or len(frame) > MAX_FRAME or not self._accept(frame):
            return
        if self.rps == RPS_SUSPENDED and self.regs[DMAOMR] & DMAOMR_SR:
            # A new frame makes the suspended DMA fetch the descriptor again (RM0090 33.6.8).
            self._rx_fetch()
            if self.rps == RPS_SUSPENDED and not self.regs[DMAOMR] & DMAOMR_DFRF:
                self.missed_ctrl += 1      # flushed: no descriptor for it
                self._update_irq()
                return
        if len(self.rx_fifo) >= RX_FIFO_FRAMES:
            self.missed_fifo += 1
            self.dmasr |= SR_ROS
            self._update_irq()
            return
        # The sending NIC pads short frames (an ARP is 42 bytes) to the 64-byte minimum.
        frame = frame.ljust(MIN_FRAME, b"\0")
        fcs = struct.pack("<I", zlib.crc32(frame) & 0xFFFFFFFF)
        self.rx_fifo.append(frame + fcs)
        self._rx_drain()

    def _accept(self, frame: bytes) -> bool:
        """The MAC's destination address filter (MACFFR, MACA0..3, hash table)."""
        ffr = self.regs[MACFFR]
        if ffr & (MACFFR_PM | MACFFR_RA):
            return True
        dest = frame[:6]
        if dest == b"\xff" * 6:
            return not ffr & MACFFR_BFD
        multicast = bool(dest[0] & 1)
        if multicast:
            if ffr & MACFFR_PAM:
                return True
            hashed = ffr & MACFFR_HM
        else:
            hashed = ffr & MACFFR_HU
        perfect = not multicast and self._perfect_match(dest)
        if hashed:
            bit = mac_hash_index(dest)
            table = self.regs[MACHTHR] << 32 | self.regs[MACHTLR]
            hit = bool(table >> bit & 1) or (bool(ffr & MACFFR_HPF) and perfect)
        else:
            hit = perfect
        return hit != bool(ffr & MACFFR_DAIF)

    def _perfect_match(self, dest: bytes) -> bool:
        for i in range(4):
            high, low = self.regs[MACA0HR + 8 * i], self.regs[MACA0LR + 8 * i]
            if i and (not high & MACAHR_AE or high & (1 << 30)):
                continue   # disabled, or a source address filter (SA)
            mbc = (high >> 24) & 0x3F if i else 0
            addr = struct.pack("<IH", low, high & 0xFFFF)
            if all(mbc >> k & 1 or addr[k] == dest[k] for k in range(6)):
                return True
        return False

    def _rx_fetch(self) -> None:
        """Fetch the current receive descriptor: run if the DMA owns it, else suspend."""
        if not self.regs[DMAOMR] & DMAOMR_SR:
            return
        if self._read_desc(self.cur_rx).w0 & OWN:
            self.rps = RPS_WAITING
        else:
            self.rps = RPS_SUSPENDED
            self.dmasr |= SR_RBUS
        self._update_irq()

    def _rx_next(self, d: _Desc) -> int:
        if d.w1 & RDES1_RCH:
            return d.w3
        if d.w1 & RDES1_RER:
            return self.regs[DMARDLAR]
        return d.addr + self._desc_stride()

    def _rx_drain(self) -> None:
        while (self.rx_fifo and self.rps == RPS_WAITING and self.regs[MACCR] & MACCR_RE
               and self.regs[DMAOMR] & DMAOMR_SR):
            self._rx_store(self.rx_fifo.popleft())
            self._rx_fetch()
        self._update_irq()

    def _rx_store(self, frame: bytes) -> None:
        """Write one frame (with FCS) into descriptors from the current one on."""
        pos, first, addr = 0, True, self.cur_rx
        first_addr = addr
        last_desc: _Desc | None = None
        while True:
            d = self._read_desc(addr)
            if not d.w0 & OWN:
                # The frame does not fit the descriptors the DMA owns: truncated (DE).
                assert last_desc is not None
                self._write_word(last_desc.addr, RDES0_ES | RDES0_DE | RDES0_LS
                                 | (pos << RDES0_FL_SHIFT)
                                 | (RDES0_FS if last_desc.addr == first_addr else 0))
                break
            chunk = frame[pos:pos + (d.w1 & BUF_SIZE_MASK)]
            if chunk:
                self.bus.write_mem(d.w2, chunk)
                self.cur_rx_buf = d.w2
            pos += len(chunk)
            size2 = 0 if d.w1 & RDES1_RCH else (d.w1 >> 16) & BUF_SIZE_MASK
            if size2 and pos < len(frame):
                chunk = frame[pos:pos + size2]
                self.bus.write_mem(d.w3, chunk)
                self.cur_rx_buf = d.w3
                pos += len(chunk)
            status = RDES0_FS if first else 0
            first = False
            addr = self._rx_next(d)
            if pos >= len(frame):
                status |= RDES0_LS | (len(frame) << RDES0_FL_SHIFT)
                ethertype = int.from_bytes(frame[12:14], "big")
                status |= RDES0_FT if ethertype >= 0x600 else 0
                status |= RDES0_VLAN if ethertype == 0x8100 else 0
                self._write_word(d.addr, status)
                last_desc = d
                break
            self._write_word(d.addr, status)
            last_desc = d
        self.cur_rx = addr
        if not frame[0] & 1:
            self._count(MMCRGUFCR)
        if not last_desc.w1 & RDES1_DIC:
            self.dmasr |= SR_RS

    def _count(self, counter: int) -> None:
        if not self.regs[MMCCR] & MMCCR_MCF:
            self.counters[counter] = (self.counters[counter] + 1) & 0xFFFFFFFF
