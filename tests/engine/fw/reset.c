/* SYSRESETREQ: a counter in .noinit RAM survives the reset; three boots. */
#include "fw.h"

__attribute__((section(".noinit"))) static volatile uint32_t boots;

int main(void)
{
    uart_init();
    boots++;
    uart_puts(boots < 3 ? "boot " : "done ");
    uart_dec(boots);
    uart_puts("\r\n");
    if (boots < 3)
        SCB_AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
    for (;;)
        wfi();
}
