/* phy.c - MDIO access and LAN8742A bring-up (IEEE 802.3 clause 22 registers). */
#include "phy.h"

#include "clock.h"
#include "regs/eth.h"

#define MDIO_SPINS      100000u   /* one MDIO frame is 64 MDC cycles: microseconds */
#define PHY_RESET_MS    500u      /* LAN8742A: reset completes well within this */

static int mdio_wait(void)
{
    uint32_t n;

    for (n = 0; n < MDIO_SPINS; n++)
        if (!(ETH_MACMIIAR & ETH_MACMIIAR_MB))
            return 0;
    return -1;
}

static uint32_t miiar(unsigned reg)
{
    /* Keep the clock range (CR) chosen by the driver for HCLK. */
    return (ETH_MACMIIAR & ETH_MACMIIAR_CR_MASK) | (PHY_ADDRESS << ETH_MACMIIAR_PA_SHIFT) |
           ((reg & 0x1Fu) << ETH_MACMIIAR_MR_SHIFT) | ETH_MACMIIAR_MB;
}

int phy_read(unsigned reg, uint16_t *value)
{
    if (mdio_wait() != 0)
        return -1;
    ETH_MACMIIAR = miiar(reg);
    if (mdio_wait() != 0)
        return -1;
    *value = (uint16_t)ETH_MACMIIDR;
    return 0;
}

int phy_write(unsigned reg, uint16_t value)
{
    if (mdio_wait() != 0)
        return -1;
    ETH_MACMIIDR = value;
    ETH_MACMIIAR = miiar(reg) | ETH_MACMIIAR_MW;
    return mdio_wait();
}

int phy_init(uint16_t *id1, uint16_t *id2)
{
    uint32_t start;
    uint16_t bcr = PHY_BCR_RESET;

    if (phy_write(PHY_BCR, PHY_BCR_RESET) != 0)
        return -1;
    start = clock_millis();
    while (bcr & PHY_BCR_RESET) {
        if (phy_read(PHY_BCR, &bcr) != 0 || clock_millis() - start > PHY_RESET_MS)
            return -1;
    }
    if (phy_read(PHY_ID1, id1) != 0 || phy_read(PHY_ID2, id2) != 0)
        return -1;
    if (*id1 != PHY_ID1_LAN8742A || (*id2 & 0xFFF0u) != PHY_ID2_LAN8742A)
        return -1;
    return phy_write(PHY_BCR, PHY_BCR_ANEN | PHY_BCR_ANRESTART);
}

int phy_link(struct phy_link *out)
{
    uint16_t bsr, anar, anlpar, common;

    out->up = 0;
    /* BSR.LINK latches low (a drop since the last read stays visible): read twice. */
    if (phy_read(PHY_BSR, &bsr) != 0 || phy_read(PHY_BSR, &bsr) != 0)
        return -1;
    if (!(bsr & PHY_BSR_LINK) || !(bsr & PHY_BSR_ANCOMPLETE))
        return 0;
    if (phy_read(PHY_ANAR, &anar) != 0 || phy_read(PHY_ANLPAR, &anlpar) != 0)
        return -1;
    common = anar & anlpar;
    out->up = 1;
    out->speed100 = (common & (PHY_AN_100FD | PHY_AN_100HD)) != 0;
    out->full_duplex = (common & PHY_AN_100FD) != 0 ||
                       (!(common & PHY_AN_100HD) && (common & PHY_AN_10FD) != 0);
    return 0;
}
