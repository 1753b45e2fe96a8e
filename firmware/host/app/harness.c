/* harness.c - frame building and capture for the stack tests. */
#include "harness.h"

#include <string.h>

#include "byteorder.h"
#include "checksum.h"
#include "fakes.h"
#include "netif.h"
#include "tcp.h"

const uint8_t host_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const uint8_t dev_mac[6] = { 0x02, 0x00, 0x00, 0xF4, 0x07, 0x01 };
struct frame out[MAX_OUT];
size_t out_count;

static void capture(const uint8_t *frame, size_t len)
{
    if (out_count < MAX_OUT && len <= sizeof out[0].data) {
        memcpy(out[out_count].data, frame, len);
        out[out_count].len = len;
        out_count++;
    }
}

void harness_init(void)
{
    struct netif cfg = { .ip = DEV_IP, .netmask = 0xFFFFFF00u, .gateway = HOST_IP };

    memcpy(cfg.mac, dev_mac, 6);
    tcp_reset_all();
    netif_init(&cfg, capture);
    out_count = 0;
}

void harness_clear(void)
{
    out_count = 0;
}

void harness_input(const uint8_t *frame, size_t len)
{
    netif_input(frame, len, fake_now);
}

size_t build_arp_request(uint8_t *f, uint32_t target_ip)
{
    memset(f, 0xFF, 6);
    memcpy(f + 6, host_mac, 6);
    put_be16(f + 12, 0x0806);
    put_be16(f + 14, 1);        /* Ethernet */
    put_be16(f + 16, 0x0800);   /* IPv4 */
    f[18] = 6;
    f[19] = 4;
    put_be16(f + 20, 1);        /* request */
    memcpy(f + 22, host_mac, 6);
    put_be32(f + 28, HOST_IP);
    memset(f + 32, 0, 6);
    put_be32(f + 38, target_ip);
    return 42;
}

size_t build_ipv4(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
                  const uint8_t *payload, size_t len)
{
    uint8_t *ip = buf + 14;

    memcpy(buf, dev_mac, 6);
    memcpy(buf + 6, host_mac, 6);
    put_be16(buf + 12, 0x0800);
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put_be16(ip + 2, (uint16_t)(20 + len));
    put_be16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = proto;
    put_be32(ip + 12, src);
    put_be32(ip + 16, dst);
    put_be16(ip + 10, csum_finish(csum_add(0, ip, 20)));
    memmove(ip + 20, payload, len);
    return 14 + 20 + len;
}

size_t build_tcp(uint8_t *buf, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                 uint8_t flags, uint16_t wnd, const uint8_t *data, size_t len)
{
    uint8_t seg[1600];
    size_t hlen = (flags & TF_SYN) ? 24 : 20;

    memset(seg, 0, hlen);
    put_be16(seg, sport);
    put_be16(seg + 2, dport);
    put_be32(seg + 4, seq);
    put_be32(seg + 8, ack);
    seg[12] = (uint8_t)((hlen / 4) << 4);
    seg[13] = flags;
    put_be16(seg + 14, wnd);
    if (flags & TF_SYN) {
        seg[20] = 2;
        seg[21] = 4;
        put_be16(seg + 22, 1460);
    }
    if (len)
        memcpy(seg + hlen, data, len);
    put_be16(seg + 16, csum_finish(csum_add(csum_pseudo(HOST_IP, DEV_IP, 6,
                                                        (uint16_t)(hlen + len)),
                                            seg, hlen + len)));
    return build_ipv4(buf, HOST_IP, DEV_IP, 6, seg, hlen + len);
}

size_t build_udp(uint8_t *buf, uint16_t sport, uint16_t dport, const uint8_t *data, size_t len)
{
    uint8_t dg[1600];

    put_be16(dg, sport);
    put_be16(dg + 2, dport);
    put_be16(dg + 4, (uint16_t)(8 + len));
    put_be16(dg + 6, 0);
    if (len)
        memcpy(dg + 8, data, len);
    put_be16(dg + 6, csum_finish(csum_add(csum_pseudo(HOST_IP, DEV_IP, 17, (uint16_t)(8 + len)),
                                          dg, 8 + len)));
    return build_ipv4(buf, HOST_IP, DEV_IP, 17, dg, 8 + len);
}

void send_tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
              uint16_t wnd, const void *data, size_t len)
{
    uint8_t f[1600];
    size_t n = build_tcp(f, sport, dport, seq, ack, flags, wnd, data, len);

    harness_input(f, n);
}

int parse_tcp(size_t i, struct tcp_seg *seg)
{
    const uint8_t *f = out[i].data, *ip = f + 14, *t;
    size_t total, doff, tlen;

    if (out[i].len < 54 || get_be16(f + 12) != 0x0800 || ip[9] != 6)
        return -1;
    if (memcmp(f, host_mac, 6) != 0 || memcmp(f + 6, dev_mac, 6) != 0)
        return -1;
    if (csum_finish(csum_add(0, ip, 20)) != 0)
        return -1;
    total = get_be16(ip + 2);
    if (total > out[i].len - 14)
        return -1;
    t = ip + 20;
    tlen = total - 20;
    if (csum_finish(csum_add(csum_pseudo(get_be32(ip + 12), get_be32(ip + 16), 6,
                                         (uint16_t)tlen), t, tlen)) != 0)
        return -1;
    doff = (size_t)(t[12] >> 4) * 4;
    seg->sport = get_be16(t);
    seg->dport = get_be16(t + 2);
    seg->seq = get_be32(t + 4);
    seg->ack = get_be32(t + 8);
    seg->flags = t[13];
    seg->wnd = get_be16(t + 14);
    seg->mss = (doff >= 24 && t[20] == 2 && t[21] == 4) ? get_be16(t + 22) : 0;
    seg->data = t + doff;
    seg->len = tlen - doff;
    return 0;
}

int last_tcp(struct tcp_seg *seg)
{
    size_t i;

    for (i = out_count; i > 0; i--)
        if (parse_tcp(i - 1, seg) == 0)
            return 0;
    return -1;
}

size_t count_tcp(void)
{
    struct tcp_seg s;
    size_t i, n = 0;

    for (i = 0; i < out_count; i++)
        if (parse_tcp(i, &s) == 0)
            n++;
    return n;
}
