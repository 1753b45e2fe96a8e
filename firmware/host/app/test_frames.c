/* test_frames.c - ARP and ICMP answers, and malformed frames dropped without a reply. */
#include <string.h>

#include "byteorder.h"
#include "check.h"
#include "checksum.h"
#include "fakes.h"
#include "harness.h"
#include "netif.h"

static size_t echo_request(uint8_t *f, size_t payload)
{
    uint8_t p[1500];

    memset(p, 0, 8);
    p[0] = 8;
    put_be16(p + 4, 0x4242);
    put_be16(p + 6, 7);
    memset(p + 8, 0x3C, payload);
    put_be16(p + 2, csum_finish(csum_add(0, p, 8 + payload)));
    return build_ipv4(f, HOST_IP, DEV_IP, 1, p, 8 + payload);
}

static void test_arp_and_ping(void)
{
    uint8_t f[1600];
    const uint8_t *r;
    size_t n;

    harness_init();
    /* ARP request for our address: a reply to the asker with our MAC. */
    harness_input(f, build_arp_request(f, DEV_IP));
    CHECK_EQ(out_count, 1);
    r = out[0].data;
    CHECK_MEM(r, host_mac, 6);
    CHECK_EQ(get_be16(r + 12), 0x0806);
    CHECK_EQ(get_be16(r + 20), 2);
    CHECK_MEM(r + 22, dev_mac, 6);
    CHECK_EQ(get_be32(r + 28), DEV_IP);
    CHECK_MEM(r + 32, host_mac, 6);
    CHECK_EQ(get_be32(r + 38), HOST_IP);
    /* ...for another address: silence. */
    harness_clear();
    put_be32(f + 38, DEV_IP + 1);
    harness_input(f, 42);
    CHECK_EQ(out_count, 0);

    /* Echo request, largest size: the same identifier, sequence and data back. */
    harness_clear();
    n = echo_request(f, 1472);
    harness_input(f, n);
    CHECK_EQ(out_count, 1);
    r = out[0].data + 14;
    CHECK_EQ(out[0].len, n);
    CHECK_EQ(csum_finish(csum_add(0, r, 20)), 0);
    CHECK_EQ(get_be32(r + 12), DEV_IP);
    CHECK_EQ(get_be32(r + 16), HOST_IP);
    CHECK_EQ(r[20], 0);
    CHECK_EQ(get_be16(r + 24), 0x4242);
    CHECK_EQ(get_be16(r + 26), 7);
    CHECK_EQ(csum_finish(csum_add(0, r + 20, 1480)), 0);
    CHECK_MEM(r + 28, f + 14 + 28, 1472);
}

/* Each case breaks a good echo request in one way; none may be answered. */
static void test_malformed_dropped(void)
{
    uint8_t f[1600];
    size_t n, base;
    int c;

    harness_init();
    for (c = 0; c < 11; c++) {
        base = n = echo_request(f, 32);
        switch (c) {
        case 0: n = 10; break;                                   /* runt */
        case 1: put_be16(f + 12, 0x86DD); break;                 /* not IPv4 */
        case 2: f[14] = 0x46; break;                             /* IHL 6: options */
        case 3: f[14] = 0x44; break;                             /* IHL below 5 */
        case 4: f[14 + 10] ^= 1; break;                          /* header checksum */
        case 5: put_be16(f + 14 + 2, 1500); break;               /* longer than the frame */
        case 6: put_be16(f + 14 + 6, 0x2000); break;             /* more fragments */
        case 7: put_be16(f + 14 + 6, 0x0010); break;             /* fragment offset */
        case 8: f[14 + 20 + 8] ^= 0xFF; break;                   /* ICMP checksum */
        case 9: n = 14 + 20 + 4; put_be16(f + 16, 24); break;    /* ICMP shorter than 8 */
        default: memset(f, 0x55, 6); break;                      /* not our MAC */
        }
        if (c == 2 || c == 3 || c == 5 || c == 6 || c == 7 || c == 9) {
            put_be16(f + 14 + 10, 0);
            put_be16(f + 14 + 10, csum_finish(csum_add(0, f + 14, 20)));
        }
        harness_clear();
        harness_input(f, n);
        if (out_count != 0)
            fprintf(stderr, "malformed case %d was answered\n", c);
        CHECK_EQ(out_count, 0);
        (void)base;
    }
    CHECK_EQ(net_stats.drop_eth, 3);
    CHECK(net_stats.drop_ip >= 6);
    CHECK_EQ(net_stats.drop_icmp, 2);
    /* Still alive. */
    harness_clear();
    n = echo_request(f, 16);
    harness_input(f, n);
    CHECK_EQ(out_count, 1);
}

int main(void)
{
    test_arp_and_ping();
    test_malformed_dropped();
    return check_report("frames");
}
