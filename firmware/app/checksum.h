/* checksum.h - the Internet checksum (RFC 1071) used by IPv4, ICMP, UDP and TCP. */
#ifndef CHECKSUM_H
#define CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add len bytes as big-endian 16-bit words to a running sum (odd tail padded with 0). */
uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len);
/* The IPv4 pseudo-header of UDP and TCP. */
uint32_t csum_pseudo(uint32_t src_ip, uint32_t dst_ip, uint8_t proto, uint16_t len);
/* Fold and complement: the value to store, or 0 when checking a block that holds its sum. */
uint16_t csum_finish(uint32_t sum);

#endif /* CHECKSUM_H */
