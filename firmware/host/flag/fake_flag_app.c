/* fake_flag_app.c - the application hooks of app.h for the sample-flag host tests. */
#include "app.h"
#include "fakes.h"

int fake_reboot_requests;
uint32_t fake_reboot_delay;
uint32_t fake_now;

void fakes_reset(void)
{
    fake_console_len = 0;
    fake_console[0] = '\0';
    fake_reboot_requests = 0;
    fake_reboot_delay = 0;
}

void app_reboot_request(uint32_t delay_ms)
{
    fake_reboot_requests++;
    fake_reboot_delay = delay_ms;
}

uint32_t app_uptime_ms(void)
{
    return fake_now;
}
