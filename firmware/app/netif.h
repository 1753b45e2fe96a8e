/*
 * netif.h - the network interface seen by the protocol modules: the device's addresses,
 * one transmit frame buffer, Ethernet II framing and the receive dispatch.
 *
 * No registers here: the driver (eth.c on the chip, a capture function in the host tests)
 * is reached through the output function given to netif_init(), and time is a millisecond
 * count passed in, so the whole stack runs on the host.
 */
#ifndef NETIF_H
#define NETIF_H

#include <stddef.h>
#include <stdint.h>

#define ETH_HDR_LEN     14u
#define ETH_MTU         1500u
#define ETH_FRAME_MAX   (ETH_HDR_LEN + ETH_MTU)
#define ETHERTYPE_IPV4  0x0800u
#define ETHERTYPE_ARP   0x0806u

typedef void (*netif_output_fn)(const uint8_t *frame, size_t len);

struct netif {
    uint8_t mac[6];
    uint32_t ip;          /* host order */
    uint32_t netmask;
    uint32_t gateway;
};

/* Counters of what the stack dropped and why: status page and tests read them. */
struct net_stats {
    uint32_t rx_frames;
    uint32_t tx_frames;
    uint32_t drop_eth;    /* short frame, foreign destination, unknown ethertype */
    uint32_t drop_arp;
    uint32_t drop_ip;     /* bad version/length/checksum, options, fragments, not for us */
    uint32_t drop_icmp;
    uint32_t drop_udp;
    uint32_t drop_tcp;
};

extern struct netif netif;
extern struct net_stats net_stats;
extern const uint8_t eth_broadcast[6];

void netif_init(const struct netif *cfg, netif_output_fn out);
/* Hand one received frame (without FCS) to the stack. */
void netif_input(const uint8_t *frame, size_t len, uint32_t now_ms);
/* Run the stack's timers: ARP ageing, TCP retransmission and TIME_WAIT. */
void netif_poll(uint32_t now_ms);

/* The frame under construction: callers fill from ETH_HDR_LEN on, then netif_send(). */
uint8_t *netif_tx_frame(void);
void netif_send(const uint8_t dst_mac[6], uint16_t ethertype, size_t payload_len);

#endif /* NETIF_H */
