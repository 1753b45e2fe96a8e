/* udp.h - UDP (RFC 768): checked input handed to one receiver, and output. */
#ifndef UDP_H
#define UDP_H

#include <stddef.h>
#include <stdint.h>

#define UDP_HDR_LEN     8u
#define UDP_PAYLOAD_MAX 1472u

typedef void (*udp_receiver_fn)(uint32_t src_ip, uint16_t src_port, uint16_t dst_port,
                                const uint8_t *data, size_t len, uint32_t now_ms);

/* The one receiver of every datagram to our address (it filters by port itself). */
void udp_set_receiver(udp_receiver_fn fn);
void udp_input(uint32_t src_ip, uint32_t dst_ip, const uint8_t *pkt, size_t len,
               uint32_t now_ms);
/* Send len bytes (copied; len <= UDP_PAYLOAD_MAX). 0, or -1 when it could not be sent. */
int udp_send(uint32_t dst_ip, uint16_t src_port, uint16_t dst_port, const uint8_t *data,
             size_t len, uint32_t now_ms);

#endif /* UDP_H */
