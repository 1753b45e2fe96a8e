/*
 * ipv4.c - IPv4 input and output.
 *
 * Datagrams with options or fragments are dropped: nothing this device talks to needs
 * them, and refusing them keeps every parser below working on one contiguous header.
 */
#include "ipv4.h"

#include <string.h>

#include "arp.h"
#include "byteorder.h"
#include "checksum.h"
#include "icmp.h"
#include "netif.h"
#include "tcp.h"
#include "udp.h"

static uint16_t next_id;

static int on_link(uint32_t ip)
{
    return (ip & netif.netmask) == (netif.ip & netif.netmask);
}

void ipv4_input(const uint8_t *p, size_t len, const uint8_t src_mac[6], uint32_t now_ms)
{
    size_t total;
    uint32_t src, dst;
    uint16_t frag;

    if (len < IPV4_HDR_LEN || p[0] != 0x45) {   /* version 4, IHL 5: no options */
        net_stats.drop_ip++;
        return;
    }
    total = get_be16(p + 2);
    frag = get_be16(p + 6);
    if (total < IPV4_HDR_LEN || total > len || (frag & 0x3FFFu) != 0 ||
        csum_finish(csum_add(0, p, IPV4_HDR_LEN)) != 0) {
        net_stats.drop_ip++;
        return;
    }
    src = get_be32(p + 12);
    dst = get_be32(p + 16);
    /* Without an address yet (DHCP), any UDP datagram is taken: a server may send its
     * offer to the address it offers (RFC 2131 section 4.1); dhcp.c checks the rest. */
    if (dst != netif.ip && dst != 0xFFFFFFFFu && dst != (netif.ip | ~netif.netmask) &&
        !(netif.ip == 0 && p[9] == IPV4_PROTO_UDP)) {
        net_stats.drop_ip++;
        return;
    }
    if (src == 0 || src == 0xFFFFFFFFu || (src >> 28) == 0xEu) {
        net_stats.drop_ip++;
        return;
    }
    /* Learn the sender's MAC so replies need no ARP round trip (on-link senders only). */
    if (on_link(src) && dst == netif.ip)
        arp_learn(src, src_mac, now_ms);
    switch (p[9]) {
    case IPV4_PROTO_ICMP:
        if (dst == netif.ip)
            icmp_input(src, p + IPV4_HDR_LEN, total - IPV4_HDR_LEN, now_ms);
        break;
    case IPV4_PROTO_UDP:
        udp_input(src, dst, p + IPV4_HDR_LEN, total - IPV4_HDR_LEN, now_ms);
        break;
    case IPV4_PROTO_TCP:
        if (dst == netif.ip)
            tcp_input(src, p + IPV4_HDR_LEN, total - IPV4_HDR_LEN, now_ms);
        break;
    default:
        net_stats.drop_ip++;
        break;
    }
}

uint8_t *ipv4_tx_payload(void)
{
    return netif_tx_frame() + ETH_HDR_LEN + IPV4_HDR_LEN;
}

int ipv4_output(uint32_t dst_ip, uint8_t proto, size_t payload_len, uint32_t now_ms)
{
    uint8_t *h = netif_tx_frame() + ETH_HDR_LEN;
    uint8_t mac[6];
    uint32_t hop;

    if (payload_len > IPV4_PAYLOAD_MAX)
        return -1;
    if (dst_ip == 0xFFFFFFFFu || dst_ip == (netif.ip | ~netif.netmask)) {
        memcpy(mac, eth_broadcast, 6);
    } else {
        hop = on_link(dst_ip) ? dst_ip : netif.gateway;
        /* An unresolved hop sends an ARP request from the same buffer: this datagram is
           lost, and TCP and TFTP resend from their own state. */
        if (hop == 0 || arp_resolve(hop, mac, now_ms) != 0)
            return -1;
    }
    h[0] = 0x45;
    h[1] = 0;
    put_be16(h + 2, (uint16_t)(IPV4_HDR_LEN + payload_len));
    put_be16(h + 4, next_id++);
    put_be16(h + 6, 0x4000);   /* DF: we never fragment */
    h[8] = 64;
    h[9] = proto;
    put_be16(h + 10, 0);
    put_be32(h + 12, netif.ip);
    put_be32(h + 16, dst_ip);
    put_be16(h + 10, csum_finish(csum_add(0, h, IPV4_HDR_LEN)));
    netif_send(mac, ETHERTYPE_IPV4, IPV4_HDR_LEN + payload_len);
    return 0;
}
