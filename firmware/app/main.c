/*
 * main.c - the application: console, Ethernet bring-up, then a polled main loop (no
 * RTOS) that receives frames, runs the stack's timers and serves HTTP and TFTP.
 */
#include <stdint.h>

#include "app.h"
#include "clock.h"
#include "console.h"
#include "cortexm.h"
#include "eth.h"
#include "flash_layout.h"
#include "net_config.h"
#include "netif.h"
#include "phy.h"
#include "regs/scb.h"
#include "services.h"
#include "strbuf.h"

#define LINK_REPORT_MS 5000u

static uint32_t start_ms;
static int reboot_pending;
static uint32_t reboot_at;

void app_reboot_request(uint32_t delay_ms)
{
    uint32_t at = clock_millis() + delay_ms;

    if (!reboot_pending || (int32_t)(at - reboot_at) < 0)
        reboot_at = at;
    reboot_pending = 1;
}

uint32_t app_uptime_ms(void)
{
    return clock_millis() - start_ms;
}

static void frame_out(const uint8_t *frame, size_t len)
{
    eth_send(frame, len);
}

static __attribute__((noreturn)) void reboot(void)
{
    console_printf("app: rebooting\r\n");
    clock_delay_ms(2);   /* let the last console characters leave the shift register */
    cpu_dsb();
    SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    cpu_dsb();
    for (;;)
        ;
}

/* "net: up a.b.c.d" in one write: the bench waits for this exact line. */
static void report_up(uint32_t ip)
{
    char line[40];
    struct strbuf sb;
    unsigned i;

    sb_init(&sb, line, sizeof line);
    sb_puts(&sb, "net: up ");
    for (i = 0; i < 4; i++) {
        sb_putu(&sb, (ip >> (24 - 8 * i)) & 255u);
        sb_puts(&sb, i < 3 ? "." : "\r\n");
    }
    console_puts(line);
}

/* Wait for the PHY's link and negotiated mode; reports every few seconds meanwhile. */
static void wait_link(struct phy_link *link)
{
    uint32_t last = clock_millis();

    for (;;) {
        if (phy_link(link) == 0 && link->up)
            return;
        if (clock_millis() - last >= LINK_REPORT_MS) {
            console_printf("net: waiting for link\r\n");
            last = clock_millis();
        }
    }
}

int main(void)
{
    static const struct netif cfg = {
        .mac = NET_MAC, .ip = NET_IP, .netmask = NET_NETMASK, .gateway = NET_GATEWAY,
    };
    struct phy_link link;
    uint16_t id1 = 0, id2 = 0;
    uint32_t now;
    unsigned received;

    /* The bootloader jumps here with PRIMASK set (boot/main.c): the table is ours, then
     * interrupts on, or SysTick (and with it every timeout) never runs. */
    SCB_VTOR = APP_LOAD_ADDR;
    cpu_dsb();
    clock_init();
    clock_systick_start();
    cpu_irq_enable();
    console_init(CLOCK_PCLK2_HZ);
    start_ms = clock_millis();
    console_printf("app: firmware v%u (%s) starting\r\n", (unsigned)APP_VERSION, APP_VERSION_STR);

    if (eth_hw_init() != 0)
        console_printf("net: MAC reset did not complete\r\n");
    while (phy_init(&id1, &id2) != 0) {
        console_printf("net: PHY not found (id %04x:%04x), retrying\r\n", id1, id2);
        clock_delay_ms(1000);
    }
    wait_link(&link);
    console_printf("net: link up\r\n");
    console_printf("net: %s %s duplex\r\n", link.speed100 ? "100 Mbit/s" : "10 Mbit/s",
                   link.full_duplex ? "full" : "half");
    eth_start(cfg.mac, link.speed100, link.full_duplex);
    netif_init(&cfg, frame_out);
    services_init();
    report_up(cfg.ip);

    for (;;) {
        now = clock_millis();
        received = eth_receive(netif_input, now);
        now = clock_millis();
        netif_poll(now);
        services_poll(now);
        if (reboot_pending && (int32_t)(now - reboot_at) >= 0)
            reboot();
        /* Idle: sleep until the next interrupt (the 1 ms SysTick or a received frame).
         * Interrupts are masked around the check so that a frame arriving in between
         * still ends the WFI (a pending interrupt wakes it even with PRIMASK set). */
        if (received == 0) {
            cpu_irq_disable();
            if (!eth_rx_pending())
                cpu_wfi();
            cpu_irq_enable();
        }
    }
}
