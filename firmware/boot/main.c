/*
 * main.c - the bootloader on the chip: clocks, console, boot_decide(), then start the
 * application or wait. Everything that decides lives in boot_logic.c.
 */
#include <stdint.h>

#include "boot_logic.h"
#include "clock.h"
#include "console.h"
#include "cortexm.h"
#include "handover.h"

#ifndef BOOT_VARIANT
#define BOOT_VARIANT "bootloader"
#endif

int main(void)
{
    struct boot_decision d;

    clock_init();
    console_init(clock_pclk2_hz());
    console_printf("\r\nboot: " BOOT_VARIANT ", clock %s\r\n", clock_source());

    boot_decide(&d);
    if (d.outcome == BOOT_JUMP) {
        /* Wait for the last console byte to leave: the application re-initialises USART1. */
        console_flush();
        handover_start_image(d.load_addr);
    }
    for (;;)
        cpu_wfi();
}
