/*
 * eth.h - Ethernet MAC, MMC and DMA registers and DMA descriptor bits (RM0090 chapter 33,
 * sections 33.6 and 33.8). Normal (not enhanced) descriptors: DMABMR.EDFE stays 0.
 */
#ifndef REGS_ETH_H
#define REGS_ETH_H

#include "regs/mmio.h"

#define ETH_BASE        0x40028000u

/* MAC (33.8.1) */
#define ETH_MACCR       MMIO32(ETH_BASE + 0x0000)
#define ETH_MACFFR      MMIO32(ETH_BASE + 0x0004)
#define ETH_MACHTHR     MMIO32(ETH_BASE + 0x0008)
#define ETH_MACHTLR     MMIO32(ETH_BASE + 0x000C)
#define ETH_MACMIIAR    MMIO32(ETH_BASE + 0x0010)
#define ETH_MACMIIDR    MMIO32(ETH_BASE + 0x0014)
#define ETH_MACFCR      MMIO32(ETH_BASE + 0x0018)
#define ETH_MACVLANTR   MMIO32(ETH_BASE + 0x001C)
#define ETH_MACSR       MMIO32(ETH_BASE + 0x0038)
#define ETH_MACIMR      MMIO32(ETH_BASE + 0x003C)
#define ETH_MACA0HR     MMIO32(ETH_BASE + 0x0040)
#define ETH_MACA0LR     MMIO32(ETH_BASE + 0x0044)

/* MMC (33.8.2): interrupt masks, so counters do not raise interrupts we never serve. */
#define ETH_MMCCR       MMIO32(ETH_BASE + 0x0100)
#define ETH_MMCRIMR     MMIO32(ETH_BASE + 0x010C)
#define ETH_MMCTIMR     MMIO32(ETH_BASE + 0x0110)

/* DMA (33.8.4) */
#define ETH_DMABMR      MMIO32(ETH_BASE + 0x1000)
#define ETH_DMATPDR     MMIO32(ETH_BASE + 0x1004)
#define ETH_DMARPDR     MMIO32(ETH_BASE + 0x1008)
#define ETH_DMARDLAR    MMIO32(ETH_BASE + 0x100C)
#define ETH_DMATDLAR    MMIO32(ETH_BASE + 0x1010)
#define ETH_DMASR       MMIO32(ETH_BASE + 0x1014)
#define ETH_DMAOMR      MMIO32(ETH_BASE + 0x1018)
#define ETH_DMAIER      MMIO32(ETH_BASE + 0x101C)
#define ETH_DMAMFBOCR   MMIO32(ETH_BASE + 0x1020)
#define ETH_DMACHTDR    MMIO32(ETH_BASE + 0x1048)
#define ETH_DMACHRDR    MMIO32(ETH_BASE + 0x104C)

/* MACCR */
#define ETH_MACCR_RE        (1u << 2)
#define ETH_MACCR_TE        (1u << 3)
#define ETH_MACCR_DC        (1u << 4)
#define ETH_MACCR_APCS      (1u << 7)
#define ETH_MACCR_RD        (1u << 9)
#define ETH_MACCR_IPCO      (1u << 10)
#define ETH_MACCR_DM        (1u << 11)
#define ETH_MACCR_LM        (1u << 12)
#define ETH_MACCR_ROD       (1u << 13)
#define ETH_MACCR_FES       (1u << 14)
#define ETH_MACCR_CSD       (1u << 16)
#define ETH_MACCR_JD        (1u << 22)
#define ETH_MACCR_WD        (1u << 23)
#define ETH_MACCR_CSTF      (1u << 25)
/* Bits the driver owns; the rest keep their reset values (reserved bit 15 reads 1). */
#define ETH_MACCR_OWNED     (ETH_MACCR_RE | ETH_MACCR_TE | ETH_MACCR_DC | ETH_MACCR_APCS | \
                             ETH_MACCR_RD | ETH_MACCR_IPCO | ETH_MACCR_DM | ETH_MACCR_LM | \
                             ETH_MACCR_ROD | ETH_MACCR_FES | ETH_MACCR_CSD | ETH_MACCR_JD | \
                             ETH_MACCR_WD | ETH_MACCR_CSTF)

/* MACFFR */
#define ETH_MACFFR_PM       (1u << 0)
#define ETH_MACFFR_HU       (1u << 1)
#define ETH_MACFFR_HM       (1u << 2)
#define ETH_MACFFR_DAIF     (1u << 3)
#define ETH_MACFFR_PAM      (1u << 4)
#define ETH_MACFFR_BFD      (1u << 5)
#define ETH_MACFFR_RA       (1u << 31)

/* MACMIIAR */
#define ETH_MACMIIAR_MB         (1u << 0)
#define ETH_MACMIIAR_MW         (1u << 1)
#define ETH_MACMIIAR_CR_SHIFT   2
#define ETH_MACMIIAR_CR_MASK    (7u << 2)
#define ETH_MACMIIAR_CR_DIV102  (4u << 2)   /* HCLK 150-168 MHz */
#define ETH_MACMIIAR_MR_SHIFT   6
#define ETH_MACMIIAR_PA_SHIFT   11

#define ETH_MACA0HR_MO      (1u << 31)

/* MMC interrupt masks: all counters. */
#define ETH_MMCRIMR_ALL     ((1u << 5) | (1u << 6) | (1u << 17))
#define ETH_MMCTIMR_ALL     ((1u << 14) | (1u << 15) | (1u << 21))

/* DMABMR */
#define ETH_DMABMR_SR           (1u << 0)
#define ETH_DMABMR_DA           (1u << 1)
#define ETH_DMABMR_DSL_SHIFT    2
#define ETH_DMABMR_EDFE         (1u << 7)
#define ETH_DMABMR_PBL_SHIFT    8
#define ETH_DMABMR_FB           (1u << 16)
#define ETH_DMABMR_RDP_SHIFT    17
#define ETH_DMABMR_USP          (1u << 23)
#define ETH_DMABMR_AAB          (1u << 25)

/* DMASR: the status bits are cleared by writing 1. */
#define ETH_DMASR_TS        (1u << 0)
#define ETH_DMASR_TPSS      (1u << 1)
#define ETH_DMASR_TBUS      (1u << 2)
#define ETH_DMASR_TJTS      (1u << 3)
#define ETH_DMASR_ROS       (1u << 4)
#define ETH_DMASR_TUS       (1u << 5)
#define ETH_DMASR_RS        (1u << 6)
#define ETH_DMASR_RBUS      (1u << 7)
#define ETH_DMASR_RPSS      (1u << 8)
#define ETH_DMASR_RWTS      (1u << 9)
#define ETH_DMASR_ETS       (1u << 10)
#define ETH_DMASR_FBES      (1u << 13)
#define ETH_DMASR_ERS       (1u << 14)
#define ETH_DMASR_AIS       (1u << 15)
#define ETH_DMASR_NIS       (1u << 16)

/* DMAOMR */
#define ETH_DMAOMR_SR       (1u << 1)
#define ETH_DMAOMR_OSF      (1u << 2)
#define ETH_DMAOMR_ST       (1u << 13)
#define ETH_DMAOMR_FTF      (1u << 20)
#define ETH_DMAOMR_TSF      (1u << 21)
#define ETH_DMAOMR_RSF      (1u << 25)

/* DMAIER */
#define ETH_DMAIER_TIE      (1u << 0)
#define ETH_DMAIER_RIE      (1u << 6)
#define ETH_DMAIER_NISE     (1u << 16)

/* Transmit descriptor word 0 (normal descriptor, 33.6.7) */
#define ETH_TDES0_OWN       (1u << 31)
#define ETH_TDES0_IC        (1u << 30)
#define ETH_TDES0_LS        (1u << 29)
#define ETH_TDES0_FS        (1u << 28)
#define ETH_TDES0_DC        (1u << 27)
#define ETH_TDES0_DP        (1u << 26)
#define ETH_TDES0_TER       (1u << 21)
#define ETH_TDES0_TCH       (1u << 20)
#define ETH_TDES0_ES        (1u << 15)
/* Transmit descriptor word 1 */
#define ETH_TDES1_TBS1_MASK 0x1FFFu

/* Receive descriptor word 0 (33.6.8) */
#define ETH_RDES0_OWN       (1u << 31)
#define ETH_RDES0_FL_SHIFT  16
#define ETH_RDES0_FL_MASK   (0x3FFFu << 16)
#define ETH_RDES0_ES        (1u << 15)
#define ETH_RDES0_FS        (1u << 9)
#define ETH_RDES0_LS        (1u << 8)
/* Receive descriptor word 1 */
#define ETH_RDES1_DIC       (1u << 31)
#define ETH_RDES1_RER       (1u << 15)
#define ETH_RDES1_RCH       (1u << 14)
#define ETH_RDES1_RBS1_MASK 0x1FFFu

/* The LAN8742A's standard MII registers (IEEE 802.3 clause 22) */
#define PHY_BCR             0u
#define PHY_BSR             1u
#define PHY_ID1             2u
#define PHY_ID2             3u
#define PHY_ANAR            4u
#define PHY_ANLPAR          5u
#define PHY_BCR_RESET       (1u << 15)
#define PHY_BCR_ANEN        (1u << 12)
#define PHY_BCR_ANRESTART   (1u << 9)
#define PHY_BSR_LINK        (1u << 2)
#define PHY_BSR_ANCOMPLETE  (1u << 5)
#define PHY_AN_100FD        (1u << 8)
#define PHY_AN_100HD        (1u << 7)
#define PHY_AN_10FD         (1u << 6)

#endif /* REGS_ETH_H */
