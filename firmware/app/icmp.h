/* icmp.h - ICMP echo reply (RFC 792); every other ICMP message is ignored. */
#ifndef ICMP_H
#define ICMP_H

#include <stddef.h>
#include <stdint.h>

void icmp_input(uint32_t src_ip, const uint8_t *pkt, size_t len, uint32_t now_ms);

#endif /* ICMP_H */
