/*
 * eth_echo.c - the program tests/engine/test_eth_machine.py runs on the built-in engine.
 *
 * A minimal Ethernet driver the way the application's will be: PHY identification and
 * link wait over MDIO, chained RX/TX descriptors, the DMA interrupt for reception. Every
 * frame received goes back with the MAC addresses swapped. Results the test checks are
 * kept in `report` (RAM) instead of a console, so the test needs no USART.
 * Self-contained on purpose: the test must not change when firmware/ headers do.
 * Built with -DUSE_IRQ=0 it polls the descriptors instead of taking the interrupt.
 */
#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define RCC_AHB1ENR   REG(0x40023830u)
#define RCC_APB2ENR   REG(0x40023844u)
#define SYSCFG_PMC    REG(0x40013804u)
#define ETH_BASE      0x40028000u
#define ETH_MACCR     REG(ETH_BASE + 0x00u)
#define ETH_MACFFR    REG(ETH_BASE + 0x04u)
#define ETH_MACMIIAR  REG(ETH_BASE + 0x10u)
#define ETH_MACMIIDR  REG(ETH_BASE + 0x14u)
#define ETH_MACA0HR   REG(ETH_BASE + 0x40u)
#define ETH_MACA0LR   REG(ETH_BASE + 0x44u)
#define ETH_DMABMR    REG(ETH_BASE + 0x1000u)
#define ETH_DMATPDR   REG(ETH_BASE + 0x1004u)
#define ETH_DMARPDR   REG(ETH_BASE + 0x1008u)
#define ETH_DMARDLAR  REG(ETH_BASE + 0x100Cu)
#define ETH_DMATDLAR  REG(ETH_BASE + 0x1010u)
#define ETH_DMASR     REG(ETH_BASE + 0x1014u)
#define ETH_DMAOMR    REG(ETH_BASE + 0x1018u)
#define ETH_DMAIER    REG(ETH_BASE + 0x101Cu)
#define NVIC_ISER1    REG(0xE000E104u)

#ifndef USE_IRQ
#define USE_IRQ       1
#endif

#define ETH_IRQ       61u
#define RX_BUF        1536u
#define NDESC         2u

struct desc {
    volatile uint32_t status;
    volatile uint32_t ctrl;
    volatile uint32_t buf;
    volatile uint32_t next;
};

struct report {
    volatile uint32_t phy_id1;
    volatile uint32_t phy_id2;
    volatile uint32_t bsr;
    volatile uint32_t ready;
    volatile uint32_t irqs;
    volatile uint32_t echoed;
    volatile uint32_t last_fl;
};

extern uint32_t __stack_top;

struct report report;
static struct desc rx_desc[NDESC] __attribute__((aligned(4)));
static struct desc tx_desc[NDESC] __attribute__((aligned(4)));
static uint8_t rx_buf[NDESC][RX_BUF] __attribute__((aligned(4)));
static uint8_t tx_buf[NDESC][RX_BUF] __attribute__((aligned(4)));
static volatile uint32_t rx_pending;

static uint32_t mdio_read(uint32_t reg)
{
    /* PA 0, CR 100 (HCLK 150-168 MHz), MB starts the transaction. */
    ETH_MACMIIAR = (0u << 11) | (reg << 6) | (4u << 2) | 1u;
    while (ETH_MACMIIAR & 1u) {
    }
    return ETH_MACMIIDR & 0xFFFFu;
}

void eth_irq_handler(void)
{
    uint32_t sr = ETH_DMASR;
    /* RS and the sticky NIS summary both have to go, or the line stays high. */
    ETH_DMASR = sr & ((1u << 6) | (1u << 16));
    report.irqs++;
    rx_pending = 1u;
}

static void echo_one(uint32_t *rx_i, uint32_t *tx_i)
{
    struct desc *rd = &rx_desc[*rx_i];
    struct desc *td = &tx_desc[*tx_i];
    uint32_t len = ((rd->status >> 16) & 0x3FFFu) - 4u; /* FL counts the FCS */
    const uint8_t *src = (const uint8_t *)rd->buf;
    uint8_t *dst = (uint8_t *)td->buf;

    while (td->status & 0x80000000u) {
    }
    for (uint32_t i = 0; i < 6u; i++) {
        dst[i] = src[6u + i];
        dst[6u + i] = src[i];
    }
    for (uint32_t i = 12u; i < len; i++) {
        dst[i] = src[i];
    }
    report.last_fl = len + 4u;
    td->ctrl = len;
    /* OWN | IC | LS | FS | TCH */
    td->status = 0x80000000u | (1u << 30) | (1u << 29) | (1u << 28) | (1u << 20);
    ETH_DMATPDR = 0u;
    rd->status = 0x80000000u;
    ETH_DMARPDR = 0u;
    *rx_i = (*rx_i + 1u) % NDESC;
    *tx_i = (*tx_i + 1u) % NDESC;
    report.echoed++;
}

__attribute__((noreturn)) void reset_handler(void)
{
    uint8_t *p = (uint8_t *)&report;
    for (uint32_t i = 0; i < sizeof report; i++) {
        p[i] = 0u;
    }
    rx_pending = 0u;
    RCC_APB2ENR |= 1u << 14;               /* SYSCFG */
    SYSCFG_PMC |= 1u << 23;                /* RMII, before the MAC leaves reset */
    RCC_AHB1ENR |= (1u << 25) | (1u << 26) | (1u << 27);
    ETH_DMABMR |= 1u;
    while (ETH_DMABMR & 1u) {
    }

    report.phy_id1 = mdio_read(2u);
    report.phy_id2 = mdio_read(3u);
    do {
        report.bsr = mdio_read(1u);
    } while ((report.bsr & 0x24u) != 0x24u);

    for (uint32_t i = 0; i < NDESC; i++) {
        rx_desc[i].buf = (uint32_t)rx_buf[i];
        rx_desc[i].ctrl = (1u << 14) | RX_BUF;            /* RCH */
        rx_desc[i].next = (uint32_t)&rx_desc[(i + 1u) % NDESC];
        rx_desc[i].status = 0x80000000u;
        tx_desc[i].buf = (uint32_t)tx_buf[i];
        tx_desc[i].next = (uint32_t)&tx_desc[(i + 1u) % NDESC];
        tx_desc[i].status = 1u << 20;                     /* TCH, owned by the CPU */
    }
    ETH_MACA0HR = 0x0107u;                              /* 02:00:00:f4:07:01 */
    ETH_MACA0LR = 0xF4000002u;
    ETH_MACFFR = 0u;
    ETH_DMARDLAR = (uint32_t)rx_desc;
    ETH_DMATDLAR = (uint32_t)tx_desc;
    if (USE_IRQ) {
        ETH_DMAIER = (1u << 16) | (1u << 6);            /* NISE, RIE */
        NVIC_ISER1 = 1u << (ETH_IRQ - 32u);
    }
    ETH_MACCR = (1u << 14) | (1u << 11) | (1u << 3) | (1u << 2);   /* FES DM TE RE */
    ETH_DMAOMR = (1u << 25) | (1u << 21) | (1u << 13) | (1u << 1); /* RSF TSF ST SR */
    report.ready = 1u;

    uint32_t rx_i = 0, tx_i = 0;
    for (;;) {
        if (USE_IRQ && !rx_pending) {
            continue;
        }
        rx_pending = 0u;
        while (!(rx_desc[rx_i].status & 0x80000000u)) {
            echo_one(&rx_i, &tx_i);
        }
    }
}

/* Vectors 0-15 (stack, reset, exceptions unused here) and IRQ 0..61. */
__attribute__((section(".vectors"), used)) const void *const vectors[16 + ETH_IRQ + 1] = {
    [0] = &__stack_top,
    [1] = (const void *)reset_handler,
    [16 + ETH_IRQ] = (const void *)eth_irq_handler,
};
