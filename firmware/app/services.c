/* services.c - HTTP on TCP, TFTP on UDP: the glue kept out of the protocol modules. */
#include "services.h"

#include "app.h"
#include "http.h"
#include "net_config.h"
#include "staging.h"
#include "tftp.h"
#include "udp.h"

static uint32_t services_now;
static enum staging_state last_staging;

static void tftp_output(uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
                        const uint8_t *data, size_t len)
{
    (void)udp_send(dst_ip, src_port, dst_port, data, len, services_now);
}

static void udp_received(uint32_t src_ip, uint16_t src_port, uint16_t dst_port,
                         const uint8_t *data, size_t len, uint32_t now_ms)
{
    services_now = now_ms;
    tftp_input(src_ip, src_port, dst_port, data, len, now_ms);
}

void services_init(void)
{
    http_init(NET_HTTP_PORT);
    tftp_init(NET_TFTP_PORT, tftp_output);
    udp_set_receiver(udp_received);
}

void services_poll(uint32_t now_ms)
{
    services_now = now_ms;
    http_poll(now_ms);
    tftp_poll(now_ms);
    /* AUTO_REBOOT: whichever transport staged the image, restart into the bootloader. */
    if (AUTO_REBOOT && staging_state() == STAGING_STAGED && last_staging != STAGING_STAGED)
        app_reboot_request(AUTO_REBOOT_DELAY_MS);
    last_staging = staging_state();
}
