/*
 * mini/main.c - the smallest application the bootloader can start: no network, one
 * banner, then "app: tick" every 100 ms. Power-cut campaigns use it because it boots
 * in a few thousand instructions and shows at once which version is running.
 */
#include <stdint.h>

#include "clock.h"
#include "console.h"
#include "cortexm.h"

#ifndef APP_VERSION
#error "build with -DAPP_VERSION=N"
#endif

#define TICK_MS 100u

int main(void)
{
    uint32_t next;

    clock_init();
    console_init(clock_pclk2_hz());
    clock_systick_start();
    cpu_irq_enable();   /* the bootloader jumps with PRIMASK set */
    console_printf("app: mini v%u running\r\n", (unsigned)APP_VERSION);

    next = clock_millis() + TICK_MS;
    for (;;) {
        cpu_wfi();
        if ((int32_t)(clock_millis() - next) >= 0) {
            next += TICK_MS;
            console_puts("app: tick\r\n");
        }
    }
}
