/* arp.h - ARP for IPv4 over Ethernet (RFC 826): replies, requests and a small cache. */
#ifndef ARP_H
#define ARP_H

#include <stddef.h>
#include <stdint.h>

#define ARP_CACHE_SIZE      4
#define ARP_ENTRY_TTL_MS    300000u
#define ARP_RETRY_MS        1000u

void arp_init(void);
void arp_input(const uint8_t *pkt, size_t len, uint32_t now_ms);
/* 0 and the MAC when known; -1 otherwise, after sending (at most once a second) a request. */
int arp_resolve(uint32_t ip, uint8_t mac[6], uint32_t now_ms);
/* Remember ip -> mac (also learnt from IPv4 frames of on-link senders). */
void arp_learn(uint32_t ip, const uint8_t mac[6], uint32_t now_ms);
void arp_poll(uint32_t now_ms);

#endif /* ARP_H */
