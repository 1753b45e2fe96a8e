/* udp.c - UDP length and checksum checks, and datagram output. */
#include "udp.h"

#include <string.h>

#include "byteorder.h"
#include "checksum.h"
#include "ipv4.h"
#include "netif.h"

static udp_receiver_fn receiver;

void udp_set_receiver(udp_receiver_fn fn)
{
    receiver = fn;
}

void udp_input(uint32_t src_ip, uint32_t dst_ip, const uint8_t *p, size_t len, uint32_t now_ms)
{
    size_t ulen;
    uint32_t sum;

    if (len < UDP_HDR_LEN) {
        net_stats.drop_udp++;
        return;
    }
    ulen = get_be16(p + 4);
    if (ulen < UDP_HDR_LEN || ulen > len) {
        net_stats.drop_udp++;
        return;
    }
    /* A zero checksum means the sender did not compute one (allowed over IPv4). */
    if (get_be16(p + 6) != 0) {
        sum = csum_add(csum_pseudo(src_ip, dst_ip, IPV4_PROTO_UDP, (uint16_t)ulen), p, ulen);
        if (csum_finish(sum) != 0) {
            net_stats.drop_udp++;
            return;
        }
    }
    if (receiver != NULL)
        receiver(src_ip, get_be16(p), get_be16(p + 2), p + UDP_HDR_LEN, ulen - UDP_HDR_LEN,
                 now_ms);
}

int udp_send(uint32_t dst_ip, uint16_t src_port, uint16_t dst_port, const uint8_t *data,
             size_t len, uint32_t now_ms)
{
    uint8_t *u = ipv4_tx_payload();
    uint16_t sum;

    if (len > UDP_PAYLOAD_MAX)
        return -1;
    memmove(u + UDP_HDR_LEN, data, len);
    put_be16(u, src_port);
    put_be16(u + 2, dst_port);
    put_be16(u + 4, (uint16_t)(UDP_HDR_LEN + len));
    put_be16(u + 6, 0);
    sum = csum_finish(csum_add(csum_pseudo(netif.ip, dst_ip, IPV4_PROTO_UDP,
                                           (uint16_t)(UDP_HDR_LEN + len)),
                               u, UDP_HDR_LEN + len));
    put_be16(u + 6, sum == 0 ? 0xFFFFu : sum);
    return ipv4_output(dst_ip, IPV4_PROTO_UDP, UDP_HDR_LEN + len, now_ms);
}
