/* An update flag kept in the backup domain (RTC_BKP0R and backup SRAM), as some
 * bootloaders keep it: written on the first boot, then a system reset; each boot
 * prints what it finds. */
#include "fw.h"

int main(void)
{
    uart_init();
    RCC_APB1ENR |= 1u << 28;                       /* PWR */
    PWR_CR |= 1u << 8;                             /* DBP: backup domain writable */
    RCC_AHB1ENR |= 1u << 18;                       /* BKPSRAM */
    PWR_CSR |= 1u << 9;                            /* BRE: backup regulator */
    uint32_t flag = RTC_BKPR(0), kept = BKPSRAM[0];
    uart_puts("bkp ");
    uart_hex(flag);
    uart_puts(" ");
    uart_hex(kept);
    uart_puts("\r\n");
    if (flag == 0) {
        RTC_BKPR(0) = 0xB0070001u;
        BKPSRAM[0] = 0xCAFE0001u;
        SCB_AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
    }
    for (;;)
        wfi();
}
