/*
 * test_fuzz.c - random and mutated frames into the whole stack (ARP, IPv4, ICMP, UDP/TFTP,
 * TCP/HTTP) from a fixed seed. Built with AddressSanitizer and UBSan: any out-of-bounds
 * access or undefined behaviour aborts the run. Afterwards the stack must still answer.
 */
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "check.h"
#include "checksum.h"
#include "fakes.h"
#include "harness.h"
#include "http.h"
#include "netif.h"
#include "tcp.h"
#include "tftp.h"
#include "udp.h"

static uint32_t rng;
static unsigned long http_responses, tftp_acks;
static uint16_t last_tid = TFTP_TID_BASE;   /* the server's port of the latest transfer */

/* Learn the TFTP transfer port from the server's ACK/OACK, so DATA can reach it. */
static void learn_tid(void)
{
    const uint8_t *ip, *u;
    size_t i;

    for (i = 0; i < out_count; i++) {
        ip = out[i].data + 14;
        if (out[i].len < 46 || get_be16(out[i].data + 12) != 0x0800 || ip[9] != 17)
            continue;
        u = ip + 20;
        if (get_be16(u) >= TFTP_TID_BASE &&
            (get_be16(u + 8) == 4 || get_be16(u + 8) == 6)) {
            last_tid = get_be16(u);
            tftp_acks++;
        }
    }
}

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void tftp_out(uint32_t ip, uint16_t sport, uint16_t dport, const uint8_t *d, size_t len)
{
    (void)udp_send(ip, sport, dport, d, len, fake_now);
}

/* Fix the IPv4 and transport checksums so mutations reach the deeper parsers. */
static void fix_checksums(uint8_t *f, size_t len)
{
    uint8_t *ip = f + 14;
    size_t total, tl;

    if (len < 34 || ip[0] != 0x45)
        return;
    put_be16(ip + 10, 0);
    put_be16(ip + 10, csum_finish(csum_add(0, ip, 20)));
    total = get_be16(ip + 2);
    if (total < 20 || total > len - 14)
        return;
    tl = total - 20;
    if (ip[9] == 6 && tl >= 20) {
        put_be16(ip + 36, 0);
        put_be16(ip + 36, csum_finish(csum_add(csum_pseudo(get_be32(ip + 12), get_be32(ip + 16),
                                                           6, (uint16_t)tl), ip + 20, tl)));
    } else if (ip[9] == 17 && tl >= 8) {
        put_be16(ip + 26, 0);
    } else if (ip[9] == 1 && tl >= 4) {
        put_be16(ip + 22, 0);
        put_be16(ip + 22, csum_finish(csum_add(0, ip + 20, tl)));
    }
}

static size_t template_frame(uint8_t *f, unsigned kind)
{
    static const char *http[] = {
        "GET / HTTP/1.1\r\n\r\n",
        "POST /update HTTP/1.1\r\nContent-Length: 600\r\nContent-Type: multipart/form-data;"
        " boundary=x\r\n\r\n--x\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nabc",
        "POST /update HTTP/1.1\r\nContent-Length: 40\r\n\r\n0123456789",
        "POST /reboot HTTP/1.1\r\n\r\n",
    };
    uint8_t p[600];
    size_t n;

    switch (kind % 6) {
    case 0: /* ARP request for us */
        return build_arp_request(f, DEV_IP);
    case 1: /* ICMP echo */
        memset(p, 0, 8);
        p[0] = 8;
        memset(p + 8, 0x61, 56);
        put_be16(p + 2, csum_finish(csum_add(0, p, 64)));
        return build_ipv4(f, HOST_IP, DEV_IP, 1, p, 64);
    case 2: /* TFTP WRQ, then data to the likely TID */
        put_be16(p, 2);
        n = 2 + (size_t)sprintf((char *)p + 2, "f") + 1;
        n += (size_t)sprintf((char *)p + n, "octet") + 1;
        n += (size_t)sprintf((char *)p + n, "blksize") + 1;
        n += (size_t)sprintf((char *)p + n, "%u", (unsigned)(next() % 2000)) + 1;
        return build_udp(f, 1000 + (uint16_t)(next() % 4), 69, p, n);
    case 3:
        put_be16(p, 3);
        put_be16(p + 2, (uint16_t)(next() % 4));
        memset(p + 4, 0x5A, 512);
        return build_udp(f, 1000 + (uint16_t)(next() % 4), last_tid, p, 4 + (next() % 513));
    case 4: /* TCP control segments on a few ports */
        return build_tcp(f, 2000 + (uint16_t)(next() % 4), 80, next() % 4 * 1000, next(),
                         (uint8_t)next(), (uint16_t)next(), NULL, 0);
    default: { /* TCP data with an HTTP request */
        const char *r = http[next() % 4];
        return build_tcp(f, 2000 + (uint16_t)(next() % 4), 80, 1 + next() % 4 * 1000, next(),
                         TF_ACK | (uint8_t)(next() & TF_FIN), 4096, (const uint8_t *)r,
                         strlen(r));
    }
    }
}

/* A real handshake, then a request with a few bytes changed, split at random points. */
static void http_session(void)
{
    static const char *reqs[] = {
        "GET /status HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /update HTTP/1.1\r\nContent-Length: 180\r\nContent-Type: multipart/form-data;"
        " boundary=xx\r\n\r\n--xx\r\nContent-Disposition: form-data; name=\"i\"; filename=\"a\""
        "\r\n\r\nFIMG....\r\n--xx--\r\n",
        "POST /update HTTP/1.1\r\nContent-Length: 20\r\nExpect: 100-continue\r\n\r\n"
        "01234567890123456789",
        "POST /reboot HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    };
    uint8_t req[400];
    struct tcp_seg s;
    size_t i;
    uint16_t port = (uint16_t)(30000 + next() % 8);
    uint32_t seq = next(), ack;
    size_t len, off = 0, n, k;

    harness_clear();
    send_tcp(port, 80, seq, 0, TF_SYN, 8192, NULL, 0);
    if (last_tcp(&s) != 0 || s.flags != (TF_SYN | TF_ACK))
        return;
    ack = s.seq + 1;
    seq++;
    send_tcp(port, 80, seq, ack, TF_ACK, 8192, NULL, 0);
    const char *r = reqs[next() % 4];

    len = strlen(r);
    memcpy(req, r, len);
    for (k = next() % 4; k > 0; k--)
        req[next() % len] = (uint8_t)next();
    while (off < len) {
        n = 1 + next() % (len - off);
        send_tcp(port, 80, seq, ack, TF_ACK | ((off + n == len && (next() & 1)) ? TF_FIN : 0),
                 8192, req + off, n);
        seq += (uint32_t)n;
        off += n;
    }
    /* End with a reset or a FIN so the four connection slots (and the staging writer,
     * held by an unfinished upload) keep turning over. */
    if (next() % 4 != 0)
        send_tcp(port, 80, seq, 0, TF_RST, 0, NULL, 0);
    else
        send_tcp(port, 80, seq, ack, TF_ACK | TF_FIN, 8192, NULL, 0);
    for (i = 0; i < out_count; i++)
        if (parse_tcp(i, &s) == 0 && s.len > 9 && memcmp(s.data, "HTTP/1.1 ", 9) == 0)
            http_responses++;
}

static int still_answers_ping(void)
{
    uint8_t f[200], p[16] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g', 0, 0, 0, 0 };
    size_t n;
    const uint8_t *r;

    put_be16(p + 2, csum_finish(csum_add(0, p, sizeof p)));
    n = build_ipv4(f, HOST_IP, DEV_IP, 1, p, sizeof p);
    harness_clear();
    harness_input(f, n);
    if (out_count != 1)
        return 0;
    r = out[0].data + 34;
    return r[0] == 0 && memcmp(r + 4, p + 4, 12) == 0 &&
           csum_finish(csum_add(0, r, sizeof p)) == 0;
}

int main(int argc, char **argv)
{
    uint8_t f[1600];
    unsigned long i, iterations = argc > 1 ? strtoul(argv[1], NULL, 0) : 200000ul;
    size_t n, k, m;

    rng = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 0x5EEDu;
    if (rng == 0)
        rng = 1;
    harness_init();
    fakes_reset();
    fake_staging_reset();
    http_init(80);
    tftp_init(69, tftp_out);
    udp_set_receiver(tftp_input);
    fake_now = 1;
    CHECK(still_answers_ping());

    for (i = 0; i < iterations; i++) {
        switch (next() % 5) {
        case 4:
            http_session();
            continue;
        case 0: /* pure noise, any length, sometimes addressed to us */
            n = next() % sizeof f;
            for (k = 0; k < n; k++)
                f[k] = (uint8_t)next();
            if (n >= 14 && (next() & 1))
                memcpy(f, dev_mac, 6);
            if (n >= 14 && (next() & 1))
                put_be16(f + 12, (next() & 1) ? 0x0800 : 0x0806);
            break;
        default: /* a valid frame with a few bytes changed, maybe truncated */
            n = template_frame(f, next());
            m = next() % 6;
            for (k = 0; k < m; k++)
                f[14 + next() % (n - 14)] = (uint8_t)next();
            if (next() % 3 == 0)
                fix_checksums(f, n);
            if (next() % 8 == 0)
                n = next() % (n + 1);
            break;
        }
        harness_clear();
        harness_input(f, n);
        learn_tid();
        if (next() % 16 == 0) {
            fake_now += next() % 3000;
            tcp_poll(fake_now);
            http_poll(fake_now);
            tftp_poll(fake_now);
        }
    }
    harness_clear();
    CHECK(net_stats.rx_frames >= iterations);
    CHECK(net_stats.drop_ip > 0 && net_stats.drop_tcp > 0 && net_stats.drop_udp > 0);
    CHECK(still_answers_ping());
    CHECK(http_responses > 0);   /* the sessions reached the HTTP server */
    CHECK(tftp_acks > 0);        /* and the TFTP transfers got past their request */
    printf("fuzz: %lu frames, seed 0x%x, tx %u, drops eth %u arp %u ip %u icmp %u udp %u tcp %u\n",
           iterations, (unsigned)(argc > 2 ? strtoul(argv[2], NULL, 0) : 0x5EEDu),
           net_stats.tx_frames, net_stats.drop_eth, net_stats.drop_arp, net_stats.drop_ip,
           net_stats.drop_icmp, net_stats.drop_udp, net_stats.drop_tcp);
    printf("fuzz: %lu HTTP responses, %lu TFTP ACKs\n", http_responses, tftp_acks);
    return check_report("fuzz");
}
