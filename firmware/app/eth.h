/*
 * eth.h - the STM32F407 Ethernet MAC and DMA driver (RM0090 chapter 33): RMII pins,
 * normal descriptors in chained rings, polled receive and transmit.
 */
#ifndef ETH_H
#define ETH_H

#include <stddef.h>
#include <stdint.h>

#define ETH_TX_DESC     4
#define ETH_RX_DESC     8
#define ETH_BUF_SIZE    1524u   /* a maximal frame with VLAN tag and FCS, multiple of 4 */

typedef void (*eth_deliver_fn)(const uint8_t *frame, size_t len, uint32_t now_ms);

struct eth_counters {
    uint32_t tx_busy;       /* every TX descriptor still owned by the DMA: frame dropped */
    uint32_t rx_errors;     /* frames with RDES0.ES or split over descriptors */
    uint32_t rx_stalls;     /* RBUS seen: receive DMA suspended for lack of descriptors */
};

extern struct eth_counters eth_counters;

/* Clocks, RMII selection, pins, DMA software reset, MDIO clock: 0 or -1 (reset stuck). */
int eth_hw_init(void);
/* Program the MAC for the PHY's mode and start the DMA and MAC. */
void eth_start(const uint8_t mac[6], int speed100, int full_duplex);
void eth_send(const uint8_t *frame, size_t len);
/* Deliver the received frames (at most one ring's worth); returns how many. */
unsigned eth_receive(eth_deliver_fn deliver, uint32_t now_ms);
/* A received frame waits in the ring (checked with interrupts masked before WFI). */
int eth_rx_pending(void);

#endif /* ETH_H */
