/* icmp.c - answer echo requests with the same identifier, sequence and data. */
#include "icmp.h"

#include <string.h>

#include "checksum.h"
#include "byteorder.h"
#include "ipv4.h"
#include "netif.h"

#define ICMP_ECHO_REPLY     0u
#define ICMP_ECHO_REQUEST   8u

void icmp_input(uint32_t src_ip, const uint8_t *p, size_t len, uint32_t now_ms)
{
    uint8_t *out = ipv4_tx_payload();

    if (len < 8 || len > IPV4_PAYLOAD_MAX || csum_finish(csum_add(0, p, len)) != 0) {
        net_stats.drop_icmp++;
        return;
    }
    if (p[0] != ICMP_ECHO_REQUEST || p[1] != 0)
        return;
    memcpy(out, p, len);
    out[0] = ICMP_ECHO_REPLY;
    put_be16(out + 2, 0);
    put_be16(out + 2, csum_finish(csum_add(0, out, len)));
    (void)ipv4_output(src_ip, IPV4_PROTO_ICMP, len, now_ms);
}
