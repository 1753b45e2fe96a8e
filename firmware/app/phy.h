/* phy.h - the LAN8742A RMII PHY over the MAC's MDIO interface (MACMIIAR/MACMIIDR). */
#ifndef PHY_H
#define PHY_H

#include <stdint.h>

#define PHY_ADDRESS     0u
#define PHY_ID1_LAN8742A 0x0007u
#define PHY_ID2_LAN8742A 0xC130u   /* low 4 bits: silicon revision */

struct phy_link {
    int up;
    int speed100;       /* 1: 100 Mbit/s, 0: 10 Mbit/s */
    int full_duplex;
};

int phy_read(unsigned reg, uint16_t *value);      /* 0, or -1 when MDIO stays busy */
int phy_write(unsigned reg, uint16_t value);
/* Reset the PHY, check its identifier and start auto-negotiation: 0 or -1. */
int phy_init(uint16_t *id1, uint16_t *id2);
/* Link and the negotiated mode (the best mode both ends advertise). */
int phy_link(struct phy_link *out);

#endif /* PHY_H */
