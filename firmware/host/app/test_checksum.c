/* test_checksum.c - the Internet checksum against published values. */
#include <stdint.h>

#include "check.h"
#include "checksum.h"

int main(void)
{
    /* RFC 1071 section 3: these bytes sum to 0xddf2 (one's complement). */
    static const uint8_t rfc1071[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    /* A captured IPv4 header (192.168.0.1 -> 192.168.0.199, UDP) whose checksum is b861. */
    uint8_t ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                       0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
    /* Odd length: the last byte is the high half of a word padded with zero. */
    static const uint8_t odd[] = { 0x12, 0x34, 0x56 };

    CHECK_EQ(csum_add(0, rfc1071, sizeof rfc1071), 0xddf2);
    CHECK_EQ(csum_finish(csum_add(0, rfc1071, sizeof rfc1071)), 0x220d);
    CHECK_EQ(csum_finish(csum_add(0, ip, sizeof ip)), 0xb861);
    ip[10] = 0xb8;
    ip[11] = 0x61;
    CHECK_EQ(csum_finish(csum_add(0, ip, sizeof ip)), 0);   /* a correct header checks to 0 */
    ip[15] ^= 1;
    CHECK(csum_finish(csum_add(0, ip, sizeof ip)) != 0);
    CHECK_EQ(csum_finish(csum_add(0, odd, sizeof odd)), (uint16_t)~(0x1234 + 0x5600));
    /* Chained sums equal one sum over the concatenation (even split). */
    CHECK_EQ(csum_add(csum_add(0, rfc1071, 4), rfc1071 + 4, 4), csum_add(0, rfc1071, 8));
    /* The pseudo-header: 192.168.7.1 -> 192.168.7.2, UDP, length 8. */
    CHECK_EQ(csum_pseudo(0xC0A80701u, 0xC0A80702u, 17, 8),
             0xC0A8u + 0x0701u + 0xC0A8u + 0x0702u + 17u + 8u);
    return check_report("checksum");
}
