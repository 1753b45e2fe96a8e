/*
 * flag_app.c - the sample-flag device's application (docs/sample-flag.md): the button on
 * PA0 picks normal or update mode at power-on, DHCP gets the address, then a polled
 * main loop runs the web server (and, in update mode, TFTP). Built from the same
 * network stack as our own application (app/main.c), with its own layout, console
 * lines, MAC and update protocol (staging_flag.c).
 */
#include <stdint.h>

#include "app.h"
#include "button.h"
#include "clock.h"
#include "console.h"
#include "cortexm.h"
#include "dhcp.h"
#include "eth.h"
#include "flag_http.h"
#include "flash_layout.h"
#include "net_config.h"
#include "netif.h"
#include "phy.h"
#include "regs/scb.h"
#include "strbuf.h"
#include "tftp.h"
#include "udp.h"

#ifndef SAMPLE_FLAG_MAC
#define SAMPLE_FLAG_MAC { 0x02, 0x00, 0x00, 0xF4, 0x07, 0x02 }
#endif
#define LINK_REPORT_MS 5000u

static const uint8_t mac[6] = SAMPLE_FLAG_MAC;
static uint32_t start_ms, now_ms;
static int reboot_pending, update_mode, ready;
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

static __attribute__((noreturn)) void reboot(void)
{
    console_printf("[app] resetting\r\n");
    clock_delay_ms(2);   /* let the last console characters leave the shift register */
    cpu_dsb();
    SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    cpu_dsb();
    for (;;)
        ;
}

/* "<prefix>a.b.c.d" as one console write: the bench waits for whole lines. */
static void print_address(const char *prefix, uint32_t ip)
{
    char line[48];
    struct strbuf sb;
    unsigned i;

    sb_init(&sb, line, sizeof line);
    sb_puts(&sb, prefix);
    for (i = 0; i < 4; i++) {
        sb_putu(&sb, (ip >> (24 - 8 * i)) & 255u);
        sb_puts(&sb, i < 3 ? "." : "\r\n");
    }
    console_puts(line);
}

static void frame_out(const uint8_t *frame, size_t len)
{
    eth_send(frame, len);
}

static void dhcp_out(uint32_t dst_ip, const uint8_t *data, size_t len)
{
    (void)udp_send(dst_ip, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, data, len, now_ms);
}

static void dhcp_bound(const struct dhcp_lease *lease)
{
    if (lease == NULL) {
        netif.ip = netif.netmask = netif.gateway = 0;
        console_printf("[net] dhcp lease lost\r\n");
        return;
    }
    netif.netmask = lease->netmask;
    netif.gateway = lease->gateway;
    if (lease->ip == netif.ip)
        return;   /* a renewal of the address we have */
    netif.ip = lease->ip;
    print_address("[net] dhcp bound ", lease->ip);
    if (!ready) {
        console_printf("[app] v%u ready\r\n", (unsigned)APP_VERSION);
        ready = 1;
    }
}

static void tftp_out(uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
                     const uint8_t *data, size_t len)
{
    (void)udp_send(dst_ip, src_port, dst_port, data, len, now_ms);
}

static void udp_received(uint32_t src_ip, uint16_t src_port, uint16_t dst_port,
                         const uint8_t *data, size_t len, uint32_t now)
{
    now_ms = now;
    if (dst_port == DHCP_CLIENT_PORT)
        dhcp_input(data, len, now);
    else if (update_mode)
        tftp_input(src_ip, src_port, dst_port, data, len, now);
}

static void wait_link(struct phy_link *link)
{
    uint32_t last = clock_millis();

    for (;;) {
        if (phy_link(link) == 0 && link->up)
            return;
        if (clock_millis() - last >= LINK_REPORT_MS) {
            console_printf("[net] waiting for link\r\n");
            last = clock_millis();
        }
    }
}

int main(void)
{
    static const struct netif cfg = { .mac = SAMPLE_FLAG_MAC };   /* no address yet */
    struct phy_link link;
    uint16_t id1 = 0, id2 = 0;
    unsigned received;

    /* The bootloader jumps here with PRIMASK set: our table, then interrupts on. */
    SCB_VTOR = APP_LOAD_ADDR;
    cpu_dsb();
    clock_init();
    clock_systick_start();
    cpu_irq_enable();
    console_init(CLOCK_PCLK2_HZ);
    start_ms = clock_millis();
    console_printf("[app] sample-flag v%u (%s) starting\r\n", (unsigned)APP_VERSION,
                   APP_VERSION_STR);
    update_mode = button_pressed();
    console_printf(update_mode ? "[app] update mode\r\n" : "[app] normal mode\r\n");

    if (eth_hw_init() != 0)
        console_printf("[net] MAC reset did not complete\r\n");
    while (phy_init(&id1, &id2) != 0) {
        console_printf("[net] PHY not found (id %04x:%04x), retrying\r\n", id1, id2);
        clock_delay_ms(1000);
    }
    wait_link(&link);
    console_printf("[net] link up, %s %s duplex\r\n", link.speed100 ? "100 Mbit/s" : "10 Mbit/s",
                   link.full_duplex ? "full" : "half");
    eth_start(mac, link.speed100, link.full_duplex);
    netif_init(&cfg, frame_out);
    flag_http_init(NET_HTTP_PORT, update_mode);
    if (update_mode)
        tftp_init(NET_TFTP_PORT, tftp_out);
    udp_set_receiver(udp_received);
    console_printf("[net] dhcp: waiting for an address\r\n");
    now_ms = clock_millis();
    dhcp_start(mac, dhcp_out, dhcp_bound, now_ms);

    for (;;) {
        now_ms = clock_millis();
        received = eth_receive(netif_input, now_ms);
        now_ms = clock_millis();
        netif_poll(now_ms);
        dhcp_poll(now_ms);
        flag_http_poll(now_ms);
        if (update_mode)
            tftp_poll(now_ms);
        if (reboot_pending && (int32_t)(now_ms - reboot_at) >= 0)
            reboot();
        if (received == 0) {
            cpu_irq_disable();
            if (!eth_rx_pending())
                cpu_wfi();
            cpu_irq_enable();
        }
    }
}
