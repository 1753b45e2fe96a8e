/* SysTick at 1 kHz counts ticks; the main loop sleeps and reports every 10 ticks. */
#include "fw.h"

static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
    result[0] = ticks;
}

int main(void)
{
    uart_init();
    result[1] = SCB_CPUID;
    result[2] = DBGMCU_IDCODE;
    uart_puts("hello from systick\r\n");
    SYST_RVR = 168000 - 1;
    SYST_CVR = 0;
    SYST_CSR = 7;   /* processor clock, interrupt, enable */
    uint32_t last = 0;
    for (;;) {
        wfi();
        if (ticks / 10 != last / 10) {
            last = ticks;
            uart_puts("tick ");
            uart_dec(last);
            uart_puts("\r\n");
        }
    }
}
