/* ipv4.h - IPv4 input checks and output (RFC 791), without options or fragments. */
#ifndef IPV4_H
#define IPV4_H

#include <stddef.h>
#include <stdint.h>

#define IPV4_HDR_LEN    20u
#define IPV4_PROTO_ICMP 1u
#define IPV4_PROTO_TCP  6u
#define IPV4_PROTO_UDP  17u
#define IPV4_PAYLOAD_MAX 1480u

void ipv4_input(const uint8_t *pkt, size_t len, const uint8_t src_mac[6], uint32_t now_ms);
/* Where an outgoing datagram's payload goes before ipv4_output(). */
uint8_t *ipv4_tx_payload(void);
/* Send payload_len bytes at ipv4_tx_payload(): 0, or -1 when the next hop is unresolved. */
int ipv4_output(uint32_t dst_ip, uint8_t proto, size_t payload_len, uint32_t now_ms);

#endif /* IPV4_H */
