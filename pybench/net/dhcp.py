"""A DHCPv4 server (RFC 2131) in virtual time, on scapy's BOOTP and DHCP layers.

The bench serves addresses to a device that asks for one: DISCOVER gets an OFFER,
REQUEST an ACK (or a NAK for an address the device may not have), renewals extend the
lease, RELEASE and DECLINE are honoured, INFORM gets the options alone. Every reply
carries the server identifier, the lease time with T1 and T2, the netmask and, when
configured, the router and name servers.

Pure state like the host: handle() takes a frame and the virtual time and returns the
frames to send; no socket, no clock. Addresses are handed out deterministically (a
reservation for the MAC, else the address the MAC had, else the address it asks for when
free, else the lowest free address of the pool), so the same sequence of requests gets
the same addresses. The host (pybench/net/host.py) and the TAP bridge
(pybench/net/tap.py) each put one on the wire.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet

SERVER_PORT, CLIENT_PORT = 67, 68
BROADCAST_IP = "255.255.255.255"
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
SECOND = 1_000_000_000
BOOTREQUEST, BOOTREPLY = 1, 2
FLAG_BROADCAST = 0x8000


def _address(what: str, value: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError(f"{what} {value!r}: not an IPv4 address") from None


@dataclass(frozen=True)
class DhcpConfig:
    """What the server hands out. Times in (virtual) seconds."""

    pool: tuple[str, str]                        # first and last address handed out
    netmask: str = "255.255.255.0"
    router: str | None = None
    dns: tuple[str, ...] = ()
    lease_s: int = 3600
    renewal_s: int | None = None                 # T1; None: half the lease
    rebinding_s: int | None = None               # T2; None: 7/8 of the lease
    reserved: tuple[tuple[str, str], ...] = ()   # (MAC, address) given to that MAC only
    offer_hold_s: int = 60                       # how long an offered address stays held

    def __post_init__(self) -> None:
        first, last = (_address("pool", a) for a in self.pool)
        if first > last:
            raise ValueError(f"pool {self.pool[0]}..{self.pool[1]}: first after last")
        try:
            ipaddress.IPv4Network(f"0.0.0.0/{self.netmask}")
        except ValueError:
            raise ValueError(f"netmask {self.netmask!r}: not a netmask") from None
        net = self.network
        for what, value in (("pool", self.pool[0]), ("pool", self.pool[1]),
                            *(("reserved", a) for _, a in self.reserved),
                            *((("router", self.router),) if self.router else ())):
            if _address(what, value) not in net:
                raise ValueError(f"{what} {value}: not in {net} (pool {self.pool[0]} with "
                                 f"netmask {self.netmask})")
        for ns in self.dns:
            _address("dns", ns)
        t1, t2 = self.t1_s, self.t2_s
        if not 0 < t1 < t2 < self.lease_s:
            raise ValueError(f"lease times: need 0 < renewal ({t1} s) < rebinding ({t2} s) "
                             f"< lease ({self.lease_s} s)")

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{self.pool[0]}/{self.netmask}", strict=False)

    @property
    def t1_s(self) -> int:
        return self.renewal_s if self.renewal_s is not None else self.lease_s // 2

    @property
    def t2_s(self) -> int:
        return self.rebinding_s if self.rebinding_s is not None else self.lease_s * 7 // 8


@dataclass
class Lease:
    mac: str
    ip: str
    expires_ns: int
    bound: bool                                   # False: only offered so far


@dataclass
class DhcpServer:
    """Serves `config` as `server_ip`/`server_mac`; see the module docstring."""

    config: DhcpConfig
    server_ip: str
    server_mac: str
    leases: dict[str, Lease] = field(default_factory=dict)      # by client MAC
    declined: set[str] = field(default_factory=set)
    log: list[str] = field(default_factory=list)                # one line per reply

    def __post_init__(self) -> None:
        ip = _address("server address", self.server_ip)
        if ip not in self.config.network:
            raise ValueError(f"server address {self.server_ip}: not in {self.config.network}")
        first, last = (ipaddress.IPv4Address(a) for a in self.config.pool)
        if first <= ip <= last:
            raise ValueError(f"server address {self.server_ip}: inside the pool "
                             f"{self.config.pool[0]}..{self.config.pool[1]}")
        self.server_mac = self.server_mac.lower()

    # --- what the owner calls ------------------------------------------------------------
    def address_of(self, mac: str, now_ns: int) -> str | None:
        """The address bound to this MAC now, or None."""
        lease = self.leases.get(mac.lower())
        if lease is None or not lease.bound or lease.expires_ns <= now_ns:
            return None
        return lease.ip

    def handle(self, frame: Packet, now_ns: int) -> list[Packet]:
        """The replies to one frame (none for what is not a DHCP request to a server)."""
        if not wants_server(frame):
            return []
        bootp = frame[BOOTP]
        if bootp.op != BOOTREQUEST or bootp.htype != 1 or bootp.hlen != 6:
            return []
        options = dhcp_options(frame)
        kind = options.get("message-type")
        mac = mac_of(bootp)
        handler = {1: self._discover, 3: self._request, 4: self._decline, 7: self._release,
                   8: self._inform}.get(kind if isinstance(kind, int) else -1)
        if handler is None:
            return []
        return handler(bootp, options, mac, now_ns)

    # --- messages ----------------------------------------------------------------------------
    def _discover(self, req: BOOTP, options: dict[str, object], mac: str,
                  now_ns: int) -> list[Packet]:
        ip = self._choose(mac, options.get("requested_addr"), now_ns)
        if ip is None:
            self.log.append(f"DISCOVER from {mac}: pool exhausted, no offer")
            return []
        lease = self.leases.get(mac)
        if lease is None or lease.ip != ip or not lease.bound:
            self.leases[mac] = Lease(mac, ip, now_ns + self.config.offer_hold_s * SECOND,
                                     bound=False)
        return [self._reply(req, "offer", ip)]

    def _request(self, req: BOOTP, options: dict[str, object], mac: str,
                 now_ns: int) -> list[Packet]:
        server_id = options.get("server_id")
        requested = options.get("requested_addr")
        lease = self.leases.get(mac)
        if server_id is not None:
            # SELECTING: the answer to an offer, ours or another server's.
            if server_id != self.server_ip:
                if lease is not None and not lease.bound:
                    del self.leases[mac]
                return []
            if lease is None or requested != lease.ip:
                return [self._nak(req, f"{requested} was not offered to {mac}")]
            return [self._bind(req, mac, lease.ip, now_ns)]
        if requested is not None:
            # INIT-REBOOT: the client asks for the address it remembers.
            assert isinstance(requested, str)
            if not self._in_network(requested):
                return [self._nak(req, f"{requested} is not on {self.config.network}")]
            if lease is not None and lease.ip != requested:
                return [self._nak(req, f"{mac} has {lease.ip}, not {requested}")]
            if not self._may_have(requested, mac, now_ns):
                return [self._nak(req, f"{requested} is not free for {mac}")]
            return [self._bind(req, mac, requested, now_ns)]
        # RENEWING (unicast) or REBINDING (broadcast): the client is using ciaddr.
        ciaddr = str(req.ciaddr)
        if lease is None or lease.ip != ciaddr or not lease.bound:
            if lease is None and self._may_have(ciaddr, mac, now_ns):
                return [self._bind(req, mac, ciaddr, now_ns)]
            return [self._nak(req, f"no lease of {ciaddr} for {mac}")]
        if lease.expires_ns <= now_ns and not self._may_have(ciaddr, mac, now_ns):
            return [self._nak(req, f"the lease of {ciaddr} ran out and the address is taken")]
        return [self._bind(req, mac, ciaddr, now_ns)]

    def _release(self, req: BOOTP, options: dict[str, object], mac: str,
                 now_ns: int) -> list[Packet]:
        lease = self.leases.get(mac)
        if lease is not None and lease.ip == str(req.ciaddr):
            del self.leases[mac]
            self.log.append(f"RELEASE of {lease.ip} by {mac}")
        return []

    def _decline(self, req: BOOTP, options: dict[str, object], mac: str,
                 now_ns: int) -> list[Packet]:
        requested = options.get("requested_addr")
        lease = self.leases.get(mac)
        if isinstance(requested, str) and lease is not None and lease.ip == requested:
            # The device found the address in use (its ARP probe was answered).
            self.declined.add(requested)
            del self.leases[mac]
            self.log.append(f"DECLINE of {requested} by {mac}")
        return []

    def _inform(self, req: BOOTP, options: dict[str, object], mac: str,
                now_ns: int) -> list[Packet]:
        return [self._reply(req, "ack", "0.0.0.0", lease=False)]

    # --- addresses -----------------------------------------------------------------------------
    def _in_network(self, ip: str) -> bool:
        try:
            return ipaddress.IPv4Address(ip) in self.config.network
        except ValueError:
            return False

    def _in_pool(self, ip: str) -> bool:
        first, last = (ipaddress.IPv4Address(a) for a in self.config.pool)
        try:
            return first <= ipaddress.IPv4Address(ip) <= last
        except ValueError:
            return False

    def _reserved_for(self, ip: str) -> str | None:
        return next((m.lower() for m, a in self.config.reserved if a == ip), None)

    def _may_have(self, ip: str, mac: str, now_ns: int) -> bool:
        """`mac` may hold `ip` now: ours to give, and nobody else holds it."""
        reserved = self._reserved_for(ip)
        if reserved is not None:
            return reserved == mac
        if not self._in_pool(ip) or ip in self.declined or ip == self.server_ip:
            return False
        return not any(lease.ip == ip and lease.mac != mac and lease.expires_ns > now_ns
                       for lease in self.leases.values())

    def _choose(self, mac: str, requested: object, now_ns: int) -> str | None:
        reserved = next((a for m, a in self.config.reserved if m.lower() == mac), None)
        if reserved is not None:
            return reserved
        lease = self.leases.get(mac)
        if lease is not None and self._may_have(lease.ip, mac, now_ns):
            return lease.ip
        if isinstance(requested, str) and self._may_have(requested, mac, now_ns):
            return requested
        first, last = (int(ipaddress.IPv4Address(a)) for a in self.config.pool)
        for n in range(first, last + 1):
            ip = str(ipaddress.IPv4Address(n))
            if self._may_have(ip, mac, now_ns):
                return ip
        return None

    def _bind(self, req: BOOTP, mac: str, ip: str, now_ns: int) -> Packet:
        self.leases[mac] = Lease(mac, ip, now_ns + self.config.lease_s * SECOND, bound=True)
        return self._reply(req, "ack", ip)

    # --- frames out -----------------------------------------------------------------------------
    def _nak(self, req: BOOTP, why: str) -> Packet:
        self.log.append(f"NAK to {mac_of(req)}: {why}")
        bootp = BOOTP(op=BOOTREPLY, xid=req.xid, flags=req.flags, giaddr=req.giaddr,
                      chaddr=req.chaddr)
        options = [("message-type", "nak"), ("server_id", self.server_ip),
                   ("error_message", why.encode()), "end"]
        # RFC 2131 4.3.2: a NAK is broadcast, the client may have no usable address.
        return (Ether(src=self.server_mac, dst=BROADCAST_MAC)
                / IP(src=self.server_ip, dst=BROADCAST_IP)
                / UDP(sport=SERVER_PORT, dport=CLIENT_PORT) / bootp / DHCP(options=options))

    def _reply(self, req: BOOTP, kind: str, yiaddr: str, lease: bool = True) -> Packet:
        cfg = self.config
        options: list[object] = [("message-type", kind), ("server_id", self.server_ip)]
        if lease:
            options += [("lease_time", cfg.lease_s), ("renewal_time", cfg.t1_s),
                        ("rebinding_time", cfg.t2_s)]
        options.append(("subnet_mask", cfg.netmask))
        if cfg.router:
            options.append(("router", cfg.router))
        if cfg.dns:
            options.append(("name_server", *cfg.dns))
        options.append("end")
        bootp = BOOTP(op=BOOTREPLY, xid=req.xid, flags=req.flags, ciaddr=req.ciaddr,
                      yiaddr=yiaddr, siaddr=self.server_ip, giaddr=req.giaddr,
                      chaddr=req.chaddr)
        mac = mac_of(req)
        ciaddr = str(req.ciaddr)
        # RFC 2131 4.1: to ciaddr when the client has one; broadcast when it asks for it;
        # else to the offered address at the client's MAC (no ARP needed).
        if ciaddr != "0.0.0.0":
            dst_ip, dst_mac = ciaddr, mac
        elif req.flags & FLAG_BROADCAST:
            dst_ip, dst_mac = BROADCAST_IP, BROADCAST_MAC
        else:
            dst_ip, dst_mac = yiaddr, mac
        self.log.append(f"{kind.upper()} {yiaddr} to {mac}")
        return (Ether(src=self.server_mac, dst=dst_mac) / IP(src=self.server_ip, dst=dst_ip)
                / UDP(sport=SERVER_PORT, dport=CLIENT_PORT) / bootp / DHCP(options=options))


def wants_server(frame: Packet) -> bool:
    """A DHCP/BOOTP frame to a server (UDP port 67)."""
    return UDP in frame and frame[UDP].dport == SERVER_PORT and BOOTP in frame \
        and DHCP in frame


def mac_of(bootp: BOOTP) -> str:
    return ":".join(f"{b:02x}" for b in bytes(bootp.chaddr)[:6])


def dhcp_options(frame: Packet) -> dict[str, object]:
    """The DHCP options by name; message-type as its number, addresses as strings."""
    out: dict[str, object] = {}
    for option in frame[DHCP].options:
        if isinstance(option, tuple) and len(option) >= 2:
            name, value = option[0], option[1]
            out[str(name)] = value if len(option) == 2 else tuple(option[1:])
    return out
