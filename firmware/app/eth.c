/*
 * eth.c - Ethernet MAC + DMA driver after RM0090 chapter 33.
 *
 * Normal 4-word descriptors (DMABMR.EDFE = 0) in chained mode (TCH/RCH, word 3 = next),
 * one buffer per frame. Checksums are computed by the stack: MACCR.IPCO stays 0 and
 * TDES0.CIC = 0, so the MAC neither checks nor inserts any.
 */
#include "eth.h"

#include <string.h>

#include "clock.h"
#include "cortexm.h"
#include "regs/eth.h"
#include "regs/gpio.h"
#include "regs/rcc.h"
#include "regs/nvic.h"
#include "regs/syscfg.h"

#define RESET_MS    100u
#define TX_WAIT_MS  20u

struct dma_desc {
    volatile uint32_t des0;
    volatile uint32_t des1;
    volatile uint32_t des2;   /* buffer 1 */
    volatile uint32_t des3;   /* next descriptor (chained) */
};

struct eth_counters eth_counters;

/* In SRAM (the DMA cannot reach CCM), word-aligned as the DMA requires. */
static struct dma_desc tx_desc[ETH_TX_DESC] __attribute__((aligned(4)));
static struct dma_desc rx_desc[ETH_RX_DESC] __attribute__((aligned(4)));
static uint8_t tx_buf[ETH_TX_DESC][ETH_BUF_SIZE] __attribute__((aligned(4)));
static uint8_t rx_buf[ETH_RX_DESC][ETH_BUF_SIZE] __attribute__((aligned(4)));
static unsigned tx_next, rx_next;

/* RMII: PA1 REF_CLK, PA2 MDIO, PA7 CRS_DV, PC1 MDC, PC4 RXD0, PC5 RXD1,
 * PB11 TX_EN, PB12 TXD0, PB13 TXD1, all alternate function 11 at very high speed. */
static void pin_af11(uint32_t port, unsigned pin)
{
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2 * pin))) | (GPIO_MODE_AF << (2 * pin));
    GPIO_OSPEEDR(port) |= GPIO_SPEED_VERY_HIGH << (2 * pin);
    GPIO_OTYPER(port) &= ~(1u << pin);
    GPIO_PUPDR(port) &= ~(3u << (2 * pin));
    if (pin < 8)
        GPIO_AFRL(port) = (GPIO_AFRL(port) & ~(0xFu << (4 * pin))) | (11u << (4 * pin));
    else
        GPIO_AFRH(port) = (GPIO_AFRH(port) & ~(0xFu << (4 * (pin - 8)))) |
                          (11u << (4 * (pin - 8)));
}

int eth_hw_init(void)
{
    uint32_t start;

    RCC_APB2ENR |= RCC_APB2ENR_SYSCFGEN;
    (void)RCC_APB2ENR;   /* the read-back lets the enable settle before SYSCFG is used */
    /* RMII must be selected while the MAC clocks are off (RM0090 9.2.2). */
    RCC_AHB1ENR &= ~(RCC_AHB1ENR_ETHMACEN | RCC_AHB1ENR_ETHMACTXEN | RCC_AHB1ENR_ETHMACRXEN);
    SYSCFG_PMC |= SYSCFG_PMC_MII_RMII_SEL;

    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN | RCC_AHB1ENR_GPIOBEN | RCC_AHB1ENR_GPIOCEN;
    (void)RCC_AHB1ENR;
    pin_af11(GPIOA_BASE, 1);
    pin_af11(GPIOA_BASE, 2);
    pin_af11(GPIOA_BASE, 7);
    pin_af11(GPIOC_BASE, 1);
    pin_af11(GPIOC_BASE, 4);
    pin_af11(GPIOC_BASE, 5);
    pin_af11(GPIOB_BASE, 11);
    pin_af11(GPIOB_BASE, 12);
    pin_af11(GPIOB_BASE, 13);

    RCC_AHB1ENR |= RCC_AHB1ENR_ETHMACEN | RCC_AHB1ENR_ETHMACTXEN | RCC_AHB1ENR_ETHMACRXEN;
    (void)RCC_AHB1ENR;

    /* The software reset needs the PHY's reference clock; without it SR never clears. */
    ETH_DMABMR |= ETH_DMABMR_SR;
    start = clock_millis();
    while (ETH_DMABMR & ETH_DMABMR_SR)
        if (clock_millis() - start > RESET_MS)
            return -1;

    /* MDC must stay below 2.5 MHz: HCLK 168 MHz / 102. */
    ETH_MACMIIAR = (ETH_MACMIIAR & ~ETH_MACMIIAR_CR_MASK) | ETH_MACMIIAR_CR_DIV102;
    return 0;
}

static void rings_init(void)
{
    unsigned i;

    for (i = 0; i < ETH_TX_DESC; i++) {
        tx_desc[i].des0 = ETH_TDES0_TCH;   /* owned by the CPU until a frame is queued */
        tx_desc[i].des1 = 0;
        tx_desc[i].des2 = (uint32_t)(uintptr_t)tx_buf[i];
        tx_desc[i].des3 = (uint32_t)(uintptr_t)&tx_desc[(i + 1) % ETH_TX_DESC];
    }
    for (i = 0; i < ETH_RX_DESC; i++) {
        rx_desc[i].des1 = ETH_RDES1_RCH | ETH_BUF_SIZE;
        rx_desc[i].des2 = (uint32_t)(uintptr_t)rx_buf[i];
        rx_desc[i].des3 = (uint32_t)(uintptr_t)&rx_desc[(i + 1) % ETH_RX_DESC];
        rx_desc[i].des0 = ETH_RDES0_OWN;
    }
    tx_next = 0;
    rx_next = 0;
    cpu_dsb();
    ETH_DMATDLAR = (uint32_t)(uintptr_t)&tx_desc[0];
    ETH_DMARDLAR = (uint32_t)(uintptr_t)&rx_desc[0];
}

void eth_start(const uint8_t mac[6], int speed100, int full_duplex)
{
    uint32_t cr, start;

    /* MAC configuration (33.8.1): speed and duplex from the PHY, no checksum offload,
     * receive-own disabled in half duplex, retries left enabled. */
    cr = ETH_MACCR & ~ETH_MACCR_OWNED;
    if (speed100)
        cr |= ETH_MACCR_FES;
    if (full_duplex)
        cr |= ETH_MACCR_DM;
    else
        cr |= ETH_MACCR_ROD;
    ETH_MACCR = cr;
    /* Perfect filtering on MACA0, broadcasts accepted (BFD = 0), no multicast. */
    ETH_MACFFR = 0;
    ETH_MACHTHR = 0;
    ETH_MACHTLR = 0;
    ETH_MACFCR = 0;
    ETH_MACA0HR = ETH_MACA0HR_MO | ((uint32_t)mac[5] << 8) | mac[4];
    ETH_MACA0LR = ((uint32_t)mac[3] << 24) | ((uint32_t)mac[2] << 16) |
                  ((uint32_t)mac[1] << 8) | mac[0];
    /* The MMC counters would raise interrupts when half full: mask them all. */
    ETH_MMCRIMR = ETH_MMCRIMR_ALL;
    ETH_MMCTIMR = ETH_MMCTIMR_ALL;

    /* DMA bus mode: fixed bursts of 32 beats for both directions, address-aligned. */
    ETH_DMABMR = ETH_DMABMR_AAB | ETH_DMABMR_FB | ETH_DMABMR_USP |
                 (32u << ETH_DMABMR_RDP_SHIFT) | (32u << ETH_DMABMR_PBL_SHIFT);
    rings_init();
    /* Frames are taken from the ring by the main loop; the receive interrupt only wakes
     * it from WFI when the board has nothing else to do (see eth_rx_pending). */
    ETH_DMAIER = ETH_DMAIER_NISE | ETH_DMAIER_RIE;
    ETH_DMASR = 0x0001E7FFu;   /* clear every write-1-to-clear status bit */

    /* Store-and-forward both ways: a frame leaves or arrives only once complete. */
    ETH_DMAOMR = ETH_DMAOMR_TSF | ETH_DMAOMR_RSF | ETH_DMAOMR_FTF;
    start = clock_millis();
    while ((ETH_DMAOMR & ETH_DMAOMR_FTF) && clock_millis() - start < RESET_MS)
        ;
    ETH_MACCR |= ETH_MACCR_TE;
    ETH_DMAOMR |= ETH_DMAOMR_ST;
    ETH_MACCR |= ETH_MACCR_RE;
    ETH_DMAOMR |= ETH_DMAOMR_SR;
    ETH_DMARPDR = 0;
    nvic_enable_irq(IRQ_ETH);
}

/* The receive interrupt: acknowledge it; the frame itself stays in the ring for the
 * main loop, which WFI has just woken. */
void ETH_IRQHandler(void)
{
    ETH_DMASR = ETH_DMASR_NIS | ETH_DMASR_RS;
}

int eth_rx_pending(void)
{
    return !(rx_desc[rx_next].des0 & ETH_RDES0_OWN);
}

void eth_send(const uint8_t *frame, size_t len)
{
    struct dma_desc *d = &tx_desc[tx_next];
    uint32_t start = clock_millis();

    if (len > ETH_BUF_SIZE - 4u)
        return;
    while (d->des0 & ETH_TDES0_OWN) {
        if (clock_millis() - start > TX_WAIT_MS) {
            eth_counters.tx_busy++;
            return;
        }
    }
    memcpy(tx_buf[tx_next], frame, len);
    d->des1 = (uint32_t)len & ETH_TDES1_TBS1_MASK;
    cpu_dsb();   /* buffer and length are in memory before the DMA may own them */
    d->des0 = ETH_TDES0_OWN | ETH_TDES0_TCH | ETH_TDES0_FS | ETH_TDES0_LS;
    cpu_dsb();
    tx_next = (tx_next + 1u) % ETH_TX_DESC;
    /* A suspended transmit DMA (TBUS) resumes on a write to the poll demand register. */
    if (ETH_DMASR & ETH_DMASR_TBUS)
        ETH_DMASR = ETH_DMASR_TBUS;
    ETH_DMATPDR = 0;
}

unsigned eth_receive(eth_deliver_fn deliver, uint32_t now_ms)
{
    struct dma_desc *d;
    uint32_t st, len;
    unsigned n;

    for (n = 0; n < ETH_RX_DESC; n++) {
        d = &rx_desc[rx_next];
        st = d->des0;
        if (st & ETH_RDES0_OWN)
            break;
        len = (st & ETH_RDES0_FL_MASK) >> ETH_RDES0_FL_SHIFT;
        if ((st & (ETH_RDES0_FS | ETH_RDES0_LS)) != (ETH_RDES0_FS | ETH_RDES0_LS) ||
            (st & ETH_RDES0_ES) || len < 4u || len > ETH_BUF_SIZE)
            eth_counters.rx_errors++;
        else
            deliver(rx_buf[rx_next], len - 4u, now_ms);   /* FL counts the FCS */
        d->des0 = ETH_RDES0_OWN;   /* the buffer goes back to the DMA */
        cpu_dsb();
        rx_next = (rx_next + 1u) % ETH_RX_DESC;
    }
    /* Receive suspended for want of descriptors (RBUS): now there are, so resume. */
    if (ETH_DMASR & ETH_DMASR_RBUS) {
        eth_counters.rx_stalls++;
        ETH_DMASR = ETH_DMASR_RBUS;
        ETH_DMARPDR = 0;
    }
    return n;
}
