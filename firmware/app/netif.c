/* netif.c - Ethernet II framing and dispatch to ARP and IPv4. */
#include "netif.h"

#include <string.h>

#include "arp.h"
#include "byteorder.h"
#include "ipv4.h"
#include "tcp.h"

struct netif netif;
struct net_stats net_stats;
const uint8_t eth_broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static netif_output_fn output;
/* Word-aligned so the driver may copy it with word accesses. */
static uint8_t tx_frame[ETH_FRAME_MAX] __attribute__((aligned(4)));

void netif_init(const struct netif *cfg, netif_output_fn out)
{
    netif = *cfg;
    output = out;
    memset(&net_stats, 0, sizeof net_stats);
    arp_init();
}

uint8_t *netif_tx_frame(void)
{
    return tx_frame;
}

void netif_send(const uint8_t dst_mac[6], uint16_t ethertype, size_t payload_len)
{
    size_t len = ETH_HDR_LEN + payload_len;

    if (payload_len > ETH_MTU || output == NULL)
        return;
    memcpy(tx_frame, dst_mac, 6);
    memcpy(tx_frame + 6, netif.mac, 6);
    put_be16(tx_frame + 12, ethertype);
    /* The MAC pads runts itself (TDES0.DP = 0); padding here keeps host captures honest. */
    if (len < 60) {
        memset(tx_frame + len, 0, 60 - len);
        len = 60;
    }
    net_stats.tx_frames++;
    output(tx_frame, len);
}

void netif_input(const uint8_t *frame, size_t len, uint32_t now_ms)
{
    uint16_t type;

    net_stats.rx_frames++;
    if (len < ETH_HDR_LEN || len > ETH_FRAME_MAX) {
        net_stats.drop_eth++;
        return;
    }
    /* The MAC filter already does this; the check keeps promiscuous captures harmless. */
    if (memcmp(frame, netif.mac, 6) != 0 && memcmp(frame, eth_broadcast, 6) != 0) {
        net_stats.drop_eth++;
        return;
    }
    type = get_be16(frame + 12);
    if (type == ETHERTYPE_ARP)
        arp_input(frame + ETH_HDR_LEN, len - ETH_HDR_LEN, now_ms);
    else if (type == ETHERTYPE_IPV4)
        ipv4_input(frame + ETH_HDR_LEN, len - ETH_HDR_LEN, frame + 6, now_ms);
    else
        net_stats.drop_eth++;
}

void netif_poll(uint32_t now_ms)
{
    arp_poll(now_ms);
    tcp_poll(now_ms);
}
