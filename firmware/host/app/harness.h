/*
 * harness.h - a host on the virtual wire for the stack tests: builds Ethernet/IPv4/TCP/UDP
 * frames with correct checksums, feeds them to netif_input() and parses what the stack
 * sent back (captured by the output function).
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define HOST_IP   0xC0A80701u   /* 192.168.7.1 */
#define DEV_IP    0xC0A80702u   /* 192.168.7.2 */
#define MAX_OUT   256

struct frame {
    uint8_t data[1600];
    size_t len;
};

struct tcp_seg {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    uint16_t mss;            /* 0 when the segment has no MSS option */
    const uint8_t *data;
    size_t len;
};

extern const uint8_t host_mac[6];
extern const uint8_t dev_mac[6];
extern struct frame out[MAX_OUT];
extern size_t out_count;

/* Reset the stack (netif, TCP) with the capture as its output. */
void harness_init(void);
void harness_clear(void);
void harness_input(const uint8_t *frame, size_t len);

/* An ARP request from the host for target_ip, broadcast; returns its length (42). */
size_t build_arp_request(uint8_t *buf, uint32_t target_ip);
size_t build_ipv4(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
                  const uint8_t *payload, size_t len);
size_t build_tcp(uint8_t *buf, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                 uint8_t flags, uint16_t wnd, const uint8_t *data, size_t len);
size_t build_udp(uint8_t *buf, uint16_t sport, uint16_t dport, const uint8_t *data, size_t len);
void send_tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
              uint16_t wnd, const void *data, size_t len);

/* Parse captured frame i as TCP from the device (checksums verified): 0 or -1. */
int parse_tcp(size_t i, struct tcp_seg *seg);
/* The last TCP segment captured, or -1 when there is none. */
int last_tcp(struct tcp_seg *seg);
size_t count_tcp(void);

#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_PSH 0x08
#define TF_ACK 0x10

#endif /* HARNESS_H */
