/* dhcp.c - the DHCPv4 client of dhcp.h. */
#include "dhcp.h"

#include <string.h>

#include "byteorder.h"

#define BOOTREQUEST     1u
#define BOOTREPLY       2u
#define DHCP_MAGIC      0x63825363u
#define OPTIONS_AT      240u    /* fixed BOOTP fields (236) and the magic cookie */
#define BOOTP_MIN_LEN   300u    /* what BOOTP relays and old servers expect at least */
#define FLAG_BROADCAST  0x8000u

enum {
    OPT_PAD = 0, OPT_SUBNET = 1, OPT_ROUTER = 3, OPT_REQUESTED_IP = 50, OPT_LEASE = 51,
    OPT_MSG_TYPE = 53, OPT_SERVER_ID = 54, OPT_PARAMS = 55, OPT_T1 = 58, OPT_T2 = 59,
    OPT_CLIENT_ID = 61, OPT_END = 255
};
enum { DISCOVER = 1, OFFER = 2, REQUEST = 3, ACK = 5, NAK = 6 };

struct reply {
    uint8_t type;
    uint32_t yiaddr, server, netmask, router, lease_s, t1_s, t2_s;
};

static struct {
    enum dhcp_state state;
    uint8_t mac[6];
    uint32_t xid, xid_count;
    uint32_t offered, server;     /* SELECTING -> REQUESTING: the offer taken */
    struct dhcp_lease lease;
    uint32_t sent_ms;             /* the last REQUEST: leases count from it */
    uint32_t next_ms, wait_ms;    /* retransmission */
    unsigned tries;
    uint32_t t1_at, t2_at, end_at;
    dhcp_send_fn send;
    dhcp_bound_fn bound;
} d;

static uint8_t pkt[OPTIONS_AT + 64];

static int due(uint32_t now_ms, uint32_t at_ms)
{
    return (int32_t)(now_ms - at_ms) >= 0;
}

static void new_xid(void)
{
    /* Different per device (MAC) and per exchange; no randomness needed on a bench. */
    d.xid = ((uint32_t)d.mac[2] << 24 | (uint32_t)d.mac[3] << 16 | (uint32_t)d.mac[4] << 8 |
             d.mac[5]) ^ (0x9E3779B9u * ++d.xid_count);
}

/* One BOOTREQUEST carrying DHCP message `type`; 0 fields are left out. */
static void send_msg(uint8_t type, uint32_t dst, uint32_t ciaddr, uint32_t requested,
                     uint32_t server_id, int broadcast)
{
    static const uint8_t params[] = { OPT_SUBNET, OPT_ROUTER, OPT_LEASE, OPT_T1, OPT_T2 };
    uint8_t *o = pkt + OPTIONS_AT;
    size_t len;

    memset(pkt, 0, sizeof pkt);
    pkt[0] = BOOTREQUEST;
    pkt[1] = 1;   /* Ethernet */
    pkt[2] = 6;
    put_be32(pkt + 4, d.xid);
    put_be16(pkt + 10, broadcast ? FLAG_BROADCAST : 0);
    put_be32(pkt + 12, ciaddr);
    memcpy(pkt + 28, d.mac, 6);
    put_be32(pkt + 236, DHCP_MAGIC);
    *o++ = OPT_MSG_TYPE; *o++ = 1; *o++ = type;
    *o++ = OPT_CLIENT_ID; *o++ = 7; *o++ = 1;
    memcpy(o, d.mac, 6);
    o += 6;
    if (requested) {
        *o++ = OPT_REQUESTED_IP; *o++ = 4;
        put_be32(o, requested);
        o += 4;
    }
    if (server_id) {
        *o++ = OPT_SERVER_ID; *o++ = 4;
        put_be32(o, server_id);
        o += 4;
    }
    *o++ = OPT_PARAMS; *o++ = (uint8_t)sizeof params;
    memcpy(o, params, sizeof params);
    o += sizeof params;
    *o++ = OPT_END;
    len = (size_t)(o - pkt);
    if (len < BOOTP_MIN_LEN)
        len = BOOTP_MIN_LEN;   /* the padding is the zeroes of the memset */
    d.send(dst, pkt, len);
}

static void discover(uint32_t now_ms)
{
    new_xid();
    d.state = DHCP_SELECTING;
    d.wait_ms = DHCP_DISCOVER_FIRST_MS;
    d.next_ms = now_ms + d.wait_ms;
    send_msg(DISCOVER, 0xFFFFFFFFu, 0, 0, 0, 1);
}

static void request_offer(uint32_t now_ms)
{
    d.sent_ms = now_ms;
    d.next_ms = now_ms + DHCP_DISCOVER_FIRST_MS * (1u << d.tries);
    d.tries++;
    send_msg(REQUEST, 0xFFFFFFFFu, 0, d.offered, d.server, 1);
}

/* RENEWING: unicast to the server that gave the lease; REBINDING: broadcast. */
static void request_renewal(uint32_t now_ms)
{
    int renewing = d.state == DHCP_RENEWING;

    d.sent_ms = now_ms;
    d.next_ms = now_ms + DHCP_RENEW_RETRY_MS;
    send_msg(REQUEST, renewing ? d.lease.server : 0xFFFFFFFFu, d.lease.ip, 0, 0, 0);
}

static void start_over(uint32_t now_ms)
{
    int had_address = d.state >= DHCP_BOUND;

    memset(&d.lease, 0, sizeof d.lease);
    d.tries = 0;
    if (had_address && d.bound != NULL)
        d.bound(NULL);
    discover(now_ms);
}

static uint32_t capped(uint32_t s)
{
    return s > DHCP_LEASE_MAX_S ? DHCP_LEASE_MAX_S : s;
}

static void bind(const struct reply *r)
{
    uint32_t lease = capped(r->lease_s ? r->lease_s : (d.lease.lease_s ? d.lease.lease_s : 3600u));

    d.lease.ip = r->yiaddr;
    d.lease.netmask = r->netmask ? r->netmask : 0xFFFFFF00u;
    d.lease.gateway = r->router;
    d.lease.server = r->server ? r->server : d.server;
    d.lease.lease_s = lease;
    d.lease.t1_s = r->t1_s && capped(r->t1_s) < lease ? capped(r->t1_s) : lease / 2u;
    d.lease.t2_s = r->t2_s && capped(r->t2_s) < lease && capped(r->t2_s) > d.lease.t1_s ?
                   capped(r->t2_s) : lease - lease / 8u;
    if (d.lease.t2_s <= d.lease.t1_s)
        d.lease.t2_s = d.lease.t1_s + (lease - d.lease.t1_s) / 2u;
    d.t1_at = d.sent_ms + d.lease.t1_s * 1000u;
    d.t2_at = d.sent_ms + d.lease.t2_s * 1000u;
    d.end_at = d.sent_ms + lease * 1000u;
    d.state = DHCP_BOUND;
    d.tries = 0;
    if (d.bound != NULL)
        d.bound(&d.lease);
}

static uint32_t opt32(const uint8_t *v, uint8_t n)
{
    return n >= 4 ? get_be32(v) : 0;
}

/* 0 and the fields of a reply to our current exchange, or -1. */
static int parse(const uint8_t *p, size_t len, struct reply *r)
{
    size_t i = OPTIONS_AT;

    if (len < OPTIONS_AT || p[0] != BOOTREPLY || p[1] != 1 || p[2] != 6 ||
        get_be32(p + 4) != d.xid || memcmp(p + 28, d.mac, 6) != 0 ||
        get_be32(p + 236) != DHCP_MAGIC)
        return -1;
    memset(r, 0, sizeof *r);
    r->yiaddr = get_be32(p + 16);
    while (i < len && p[i] != OPT_END) {
        uint8_t code = p[i], n;
        const uint8_t *v;

        if (code == OPT_PAD) {
            i++;
            continue;
        }
        if (i + 2 > len || i + 2 + p[i + 1] > len)
            return -1;
        n = p[i + 1];
        v = p + i + 2;
        switch (code) {
        case OPT_MSG_TYPE: r->type = n >= 1 ? v[0] : 0; break;
        case OPT_SERVER_ID: r->server = opt32(v, n); break;
        case OPT_SUBNET: r->netmask = opt32(v, n); break;
        case OPT_ROUTER: r->router = opt32(v, n); break;
        case OPT_LEASE: r->lease_s = opt32(v, n); break;
        case OPT_T1: r->t1_s = opt32(v, n); break;
        case OPT_T2: r->t2_s = opt32(v, n); break;
        default: break;
        }
        i += 2u + n;
    }
    return r->type ? 0 : -1;
}

void dhcp_input(const uint8_t *data, size_t len, uint32_t now_ms)
{
    struct reply r;

    if (d.send == NULL || parse(data, len, &r) != 0)
        return;
    if (d.state == DHCP_SELECTING) {
        if (r.type == OFFER && r.yiaddr != 0 && r.server != 0) {
            d.offered = r.yiaddr;
            d.server = r.server;
            d.state = DHCP_REQUESTING;
            d.tries = 0;
            request_offer(now_ms);
        }
    } else if (d.state == DHCP_REQUESTING || d.state == DHCP_RENEWING ||
               d.state == DHCP_REBINDING) {
        if (r.type == ACK && r.yiaddr != 0)
            bind(&r);
        else if (r.type == NAK)
            start_over(now_ms);
    }
}

void dhcp_poll(uint32_t now_ms)
{
    switch (d.state) {
    case DHCP_INIT:
        if (d.send != NULL)
            discover(now_ms);
        break;
    case DHCP_SELECTING:
        if (due(now_ms, d.next_ms)) {
            d.wait_ms = d.wait_ms * 2u > DHCP_DISCOVER_MAX_MS ? DHCP_DISCOVER_MAX_MS
                                                              : d.wait_ms * 2u;
            d.next_ms = now_ms + d.wait_ms;
            send_msg(DISCOVER, 0xFFFFFFFFu, 0, 0, 0, 1);
        }
        break;
    case DHCP_REQUESTING:
        if (due(now_ms, d.next_ms)) {
            if (d.tries >= DHCP_REQUEST_RETRIES)
                start_over(now_ms);
            else
                request_offer(now_ms);
        }
        break;
    case DHCP_BOUND:
        if (due(now_ms, d.t1_at)) {
            new_xid();
            d.state = DHCP_RENEWING;
            request_renewal(now_ms);
        }
        break;
    case DHCP_RENEWING:
    case DHCP_REBINDING:
        if (due(now_ms, d.end_at)) {
            start_over(now_ms);
        } else if (d.state == DHCP_RENEWING && due(now_ms, d.t2_at)) {
            d.state = DHCP_REBINDING;
            request_renewal(now_ms);
        } else if (due(now_ms, d.next_ms)) {
            request_renewal(now_ms);
        }
        break;
    }
}

void dhcp_start(const uint8_t mac[6], dhcp_send_fn send, dhcp_bound_fn bound, uint32_t now_ms)
{
    memset(&d, 0, sizeof d);
    memcpy(d.mac, mac, 6);
    d.send = send;
    d.bound = bound;
    discover(now_ms);
}

enum dhcp_state dhcp_state(void)
{
    return d.state;
}

const char *dhcp_state_name(enum dhcp_state s)
{
    switch (s) {
    case DHCP_INIT: return "init";
    case DHCP_SELECTING: return "selecting";
    case DHCP_REQUESTING: return "requesting";
    case DHCP_BOUND: return "bound";
    case DHCP_RENEWING: return "renewing";
    case DHCP_REBINDING: return "rebinding";
    default: return "?";
    }
}
