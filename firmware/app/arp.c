/* arp.c - ARP replies, requests and a least-recently-learnt cache. */
#include "arp.h"

#include <string.h>

#include "byteorder.h"
#include "netif.h"

#define ARP_LEN         28u
#define ARP_OP_REQUEST  1u
#define ARP_OP_REPLY    2u

struct arp_entry {
    uint32_t ip;          /* 0: free */
    uint8_t mac[6];
    uint32_t learnt_ms;
};

static struct arp_entry cache[ARP_CACHE_SIZE];
static uint32_t last_request_ip;
static uint32_t last_request_ms;

void arp_init(void)
{
    memset(cache, 0, sizeof cache);
    last_request_ip = 0;
}

void arp_learn(uint32_t ip, const uint8_t mac[6], uint32_t now_ms)
{
    struct arp_entry *slot = NULL;
    unsigned i;

    if (ip == 0 || ip == 0xFFFFFFFFu || (mac[0] & 1u))
        return;   /* never cache a broadcast or multicast binding */
    for (i = 0; i < ARP_CACHE_SIZE && slot == NULL; i++)
        if (cache[i].ip == ip)
            slot = &cache[i];
    for (i = 0; i < ARP_CACHE_SIZE && slot == NULL; i++)
        if (cache[i].ip == 0)
            slot = &cache[i];
    if (slot == NULL) {
        slot = &cache[0];
        for (i = 1; i < ARP_CACHE_SIZE; i++)
            if (now_ms - cache[i].learnt_ms > now_ms - slot->learnt_ms)
                slot = &cache[i];
    }
    slot->ip = ip;
    memcpy(slot->mac, mac, 6);
    slot->learnt_ms = now_ms;
}

static void arp_send(uint16_t op, const uint8_t dst_mac[6], const uint8_t tha[6], uint32_t tpa)
{
    uint8_t *p = netif_tx_frame() + ETH_HDR_LEN;

    put_be16(p, 1);                 /* Ethernet */
    put_be16(p + 2, ETHERTYPE_IPV4);
    p[4] = 6;
    p[5] = 4;
    put_be16(p + 6, op);
    memcpy(p + 8, netif.mac, 6);
    put_be32(p + 14, netif.ip);
    memcpy(p + 18, tha, 6);
    put_be32(p + 24, tpa);
    netif_send(dst_mac, ETHERTYPE_ARP, ARP_LEN);
}

void arp_input(const uint8_t *p, size_t len, uint32_t now_ms)
{
    uint16_t op;
    uint32_t spa, tpa;

    if (len < ARP_LEN || get_be16(p) != 1 || get_be16(p + 2) != ETHERTYPE_IPV4 || p[4] != 6 ||
        p[5] != 4) {
        net_stats.drop_arp++;
        return;
    }
    op = get_be16(p + 6);
    spa = get_be32(p + 14);
    tpa = get_be32(p + 24);
    if (tpa != netif.ip || (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)) {
        net_stats.drop_arp++;
        return;
    }
    arp_learn(spa, p + 8, now_ms);
    if (op == ARP_OP_REQUEST)
        arp_send(ARP_OP_REPLY, p + 8, p + 8, spa);
}

int arp_resolve(uint32_t ip, uint8_t mac[6], uint32_t now_ms)
{
    static const uint8_t unknown[6];
    unsigned i;

    for (i = 0; i < ARP_CACHE_SIZE; i++) {
        if (cache[i].ip == ip && ip != 0) {
            memcpy(mac, cache[i].mac, 6);
            return 0;
        }
    }
    if (ip != last_request_ip || now_ms - last_request_ms >= ARP_RETRY_MS) {
        last_request_ip = ip;
        last_request_ms = now_ms;
        arp_send(ARP_OP_REQUEST, eth_broadcast, unknown, ip);
    }
    return -1;
}

void arp_poll(uint32_t now_ms)
{
    unsigned i;

    for (i = 0; i < ARP_CACHE_SIZE; i++)
        if (cache[i].ip != 0 && now_ms - cache[i].learnt_ms > ARP_ENTRY_TTL_MS)
            cache[i].ip = 0;
}
