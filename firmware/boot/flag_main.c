/*
 * flag_main.c - the sample-flag bootloader on the chip: clocks, console,
 * flag_boot_decide(), then start the application or wait (docs/sample-flag.md).
 */
#include "clock.h"
#include "console.h"
#include "cortexm.h"
#include "flag_boot.h"
#include "flash_layout.h"
#include "handover.h"

int main(void)
{
    clock_init();
    console_init(clock_pclk2_hz());
    console_printf("\r\n[boot] sample-flag bootloader\r\n");

    if (flag_boot_decide() == FLAG_BOOT_JUMP) {
        console_flush();   /* the application re-initialises USART1 */
        handover_start_image(APP_SLOT_ADDR);
    }
    for (;;)
        cpu_wfi();
}
