/*
 * test_dhcp.c - the DHCP client's state machine (app/dhcp.c): DISCOVER and its
 * retransmissions, OFFER -> REQUEST, ACK -> bound, renewal at T1 (unicast), rebinding at
 * T2 (broadcast), the end of a lease, NAK, replies that are not ours.
 */
#include <string.h>

#include "byteorder.h"
#include "check.h"
#include "dhcp.h"

#define SERVER   0x0A000001u   /* 10.0.0.1 */
#define OFFERED  0x0A000032u   /* 10.0.0.50 */
#define BCAST    0xFFFFFFFFu

static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0xF4, 0x07, 0x02 };

struct sent {
    uint32_t dst;
    uint8_t data[600];
    size_t len;
};

static struct sent sent[64];
static size_t nsent;
static struct dhcp_lease bound_lease;
static int bound_calls, lost_calls;

static void capture(uint32_t dst, const uint8_t *data, size_t len)
{
    if (nsent < 64 && len <= sizeof sent[0].data) {
        sent[nsent].dst = dst;
        memcpy(sent[nsent].data, data, len);
        sent[nsent].len = len;
        nsent++;
    }
}

static void on_bound(const struct dhcp_lease *l)
{
    if (l == NULL) {
        lost_calls++;
        return;
    }
    bound_calls++;
    bound_lease = *l;
}

/* The value of option `code` in a captured message, or NULL; its length in *n. */
static const uint8_t *option(const struct sent *s, uint8_t code, uint8_t *n)
{
    size_t i = 240;

    while (i + 1 < s->len && s->data[i] != 255) {
        if (s->data[i] == 0) {
            i++;
            continue;
        }
        if (s->data[i] == code) {
            *n = s->data[i + 1];
            return s->data + i + 2;
        }
        i += 2u + s->data[i + 1];
    }
    return NULL;
}

static int msg_type(const struct sent *s)
{
    uint8_t n;
    const uint8_t *v = option(s, 53, &n);

    return v && n == 1 ? v[0] : -1;
}

static uint32_t opt_ip(const struct sent *s, uint8_t code)
{
    uint8_t n;
    const uint8_t *v = option(s, code, &n);

    return v && n == 4 ? get_be32(v) : 0;
}

static const struct sent *last(void)
{
    return nsent ? &sent[nsent - 1] : NULL;
}

/* A server's reply to the last message sent (its xid), with the given options. */
static size_t reply(uint8_t *p, uint8_t type, uint32_t yiaddr, uint32_t lease, uint32_t t1,
                    uint32_t t2)
{
    uint8_t *o = p + 240;

    memset(p, 0, 548);
    p[0] = 2;
    p[1] = 1;
    p[2] = 6;
    memcpy(p + 4, last()->data + 4, 4);   /* xid */
    put_be32(p + 16, yiaddr);
    memcpy(p + 28, mac, 6);
    put_be32(p + 236, 0x63825363u);
    *o++ = 53; *o++ = 1; *o++ = type;
    *o++ = 54; *o++ = 4; put_be32(o, SERVER); o += 4;
    if (type != 6) {
        *o++ = 1; *o++ = 4; put_be32(o, 0xFFFFFF00u); o += 4;
        *o++ = 3; *o++ = 4; put_be32(o, SERVER); o += 4;
        *o++ = 0;   /* a pad in the middle */
        if (lease) { *o++ = 51; *o++ = 4; put_be32(o, lease); o += 4; }
        if (t1) { *o++ = 58; *o++ = 4; put_be32(o, t1); o += 4; }
        if (t2) { *o++ = 59; *o++ = 4; put_be32(o, t2); o += 4; }
    }
    *o++ = 255;
    return (size_t)(o - p);
}

static void start(uint32_t now)
{
    nsent = 0;
    bound_calls = lost_calls = 0;
    memset(&bound_lease, 0, sizeof bound_lease);
    dhcp_start(mac, capture, on_bound, now);
}

static void test_discover_and_retransmissions(void)
{
    uint32_t xid, now = 1000, waits[] = { 2000, 4000, 8000, 16000, 16000 };
    size_t i;

    start(now);
    CHECK_EQ(nsent, 1);
    CHECK_EQ(dhcp_state(), DHCP_SELECTING);
    CHECK_EQ(last()->dst, BCAST);
    CHECK(last()->len >= 300);
    CHECK_EQ(last()->data[0], 1);
    CHECK_EQ(get_be16(last()->data + 10), 0x8000);   /* broadcast flag */
    CHECK_MEM(last()->data + 28, mac, 6);
    CHECK_EQ(get_be32(last()->data + 236), 0x63825363u);
    CHECK_EQ(msg_type(last()), 1);
    xid = get_be32(last()->data + 4);
    for (i = 0; i < sizeof waits / sizeof waits[0]; i++) {
        dhcp_poll(now + waits[i] - 1);
        CHECK_EQ(nsent, i + 1);
        now += waits[i];
        dhcp_poll(now);
        CHECK_EQ(nsent, i + 2);
        CHECK_EQ(msg_type(last()), 1);
        CHECK_EQ(get_be32(last()->data + 4), xid);
    }
}

static void test_lease_life(void)
{
    uint8_t p[548];
    size_t n;
    uint32_t now = 500, t0;

    start(now);
    /* Not ours: another xid, another MAC, a truncated option list. */
    n = reply(p, 2, OFFERED, 0, 0, 0);
    p[4] ^= 1;
    dhcp_input(p, n, now);
    n = reply(p, 2, OFFERED, 0, 0, 0);
    p[33] ^= 1;
    dhcp_input(p, n, now);
    n = reply(p, 2, OFFERED, 0, 0, 0);
    p[241] = 200;   /* the first option's length runs past the end */
    dhcp_input(p, 244, now);
    dhcp_input(p, 100, now);
    CHECK_EQ(dhcp_state(), DHCP_SELECTING);
    CHECK_EQ(nsent, 1);

    /* OFFER -> REQUEST (broadcast, requested address and server id). */
    now += 300;
    n = reply(p, 2, OFFERED, 100, 0, 0);
    dhcp_input(p, n, now);
    CHECK_EQ(dhcp_state(), DHCP_REQUESTING);
    CHECK_EQ(nsent, 2);
    CHECK_EQ(msg_type(last()), 3);
    CHECK_EQ(last()->dst, BCAST);
    CHECK_EQ(opt_ip(last(), 50), OFFERED);
    CHECK_EQ(opt_ip(last(), 54), SERVER);
    CHECK_EQ(get_be32(last()->data + 12), 0);
    t0 = now;

    /* ACK: lease 100 s, T1 and T2 by default 50 s and 87.5 s. */
    n = reply(p, 5, OFFERED, 100, 0, 0);
    dhcp_input(p, n, now + 20);
    CHECK_EQ(dhcp_state(), DHCP_BOUND);
    CHECK_EQ(bound_calls, 1);
    CHECK_EQ(bound_lease.ip, OFFERED);
    CHECK_EQ(bound_lease.netmask, 0xFFFFFF00u);
    CHECK_EQ(bound_lease.gateway, SERVER);
    CHECK_EQ(bound_lease.server, SERVER);
    CHECK_EQ(bound_lease.lease_s, 100);
    CHECK_EQ(bound_lease.t1_s, 50);
    CHECK_EQ(bound_lease.t2_s, 88);   /* 100 - 100/8 */

    /* T1 counts from the REQUEST: then a unicast REQUEST with ciaddr, no 50/54. */
    dhcp_poll(t0 + 49999);
    CHECK_EQ(nsent, 2);
    dhcp_poll(t0 + 50000);
    CHECK_EQ(dhcp_state(), DHCP_RENEWING);
    CHECK_EQ(nsent, 3);
    CHECK_EQ(msg_type(last()), 3);
    CHECK_EQ(last()->dst, SERVER);
    CHECK_EQ(get_be32(last()->data + 12), OFFERED);
    CHECK_EQ(opt_ip(last(), 50), 0);
    CHECK_EQ(opt_ip(last(), 54), 0);

    /* The renewal is acknowledged, with explicit T1/T2 this time. */
    now = t0 + 50100;
    n = reply(p, 5, OFFERED, 100, 30, 60);
    dhcp_input(p, n, now);
    CHECK_EQ(dhcp_state(), DHCP_BOUND);
    CHECK_EQ(bound_calls, 2);
    CHECK_EQ(bound_lease.t1_s, 30);
    CHECK_EQ(bound_lease.t2_s, 60);
    t0 += 50000;   /* the renewal REQUEST's time */

    /* Unanswered: REQUEST every 4 s to the server, broadcast from T2, lost at the end. */
    dhcp_poll(t0 + 30000);
    CHECK_EQ(dhcp_state(), DHCP_RENEWING);
    CHECK_EQ(nsent, 4);
    dhcp_poll(t0 + 33999);
    CHECK_EQ(nsent, 4);
    dhcp_poll(t0 + 34000);
    CHECK_EQ(nsent, 5);
    CHECK_EQ(last()->dst, SERVER);
    dhcp_poll(t0 + 60000);
    CHECK_EQ(dhcp_state(), DHCP_REBINDING);
    CHECK_EQ(last()->dst, BCAST);
    CHECK_EQ(get_be32(last()->data + 12), OFFERED);
    CHECK_EQ(lost_calls, 0);
    dhcp_poll(t0 + 100000);
    CHECK_EQ(lost_calls, 1);
    CHECK_EQ(dhcp_state(), DHCP_SELECTING);
    CHECK_EQ(msg_type(last()), 1);
}

static void test_nak_and_unanswered_request(void)
{
    uint8_t p[548];
    size_t n;
    uint32_t now = 0;
    unsigned i;

    start(now);
    n = reply(p, 2, OFFERED, 60, 0, 0);
    dhcp_input(p, n, now);
    CHECK_EQ(dhcp_state(), DHCP_REQUESTING);
    n = reply(p, 6, 0, 0, 0, 0);
    dhcp_input(p, n, now + 10);
    CHECK_EQ(dhcp_state(), DHCP_SELECTING);
    CHECK_EQ(msg_type(last()), 1);
    CHECK_EQ(bound_calls + lost_calls, 0);

    /* An offer whose REQUESTs go unanswered: 4 REQUESTs, then DISCOVER again. */
    n = reply(p, 2, OFFERED, 60, 0, 0);
    dhcp_input(p, n, now + 20);
    for (i = 0; i < 60 && dhcp_state() == DHCP_REQUESTING; i++) {
        now += 1000;
        dhcp_poll(now);
    }
    CHECK_EQ(dhcp_state(), DHCP_SELECTING);
    CHECK_EQ(msg_type(last()), 1);
    CHECK_EQ(msg_type(&sent[nsent - 2]), 3);
    CHECK_EQ(msg_type(&sent[nsent - 5]), 3);
}

int main(void)
{
    test_discover_and_retransmissions();
    test_lease_life();
    test_nak_and_unanswered_request();
    return check_report("dhcp");
}
