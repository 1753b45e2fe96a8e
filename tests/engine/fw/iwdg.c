/* The independent watchdog as HAL_IWDG_Init/Refresh use it: started, refreshed every
 * 5 ms for five rounds, then left to expire (10 ms); the next boot finds IWDGRSTF in
 * RCC_CSR and clears the flags with RMVF. */
#include "fw.h"

static void delay_cycles(uint32_t n)
{
    uint32_t start = DWT_CYCCNT;
    while (DWT_CYCCNT - start < n)
        ;
}

int main(void)
{
    uart_init();
    uint32_t csr = RCC_CSR;
    if (csr & (1u << 29)) {
        RCC_CSR |= 1u << 24;                       /* RMVF */
        uart_puts("reset by iwdg csr=");
        uart_hex(csr);
        uart_puts(" after=");
        uart_hex(RCC_CSR);
        uart_puts("\r\n");
        for (;;)
            wfi();
    }
    uart_puts("csr=");
    uart_hex(csr);
    uart_puts("\r\n");
    SCB_DEMCR |= DEMCR_TRCENA;
    DWT_CTRL |= 1u;
    IWDG_KR = 0xCCCCu;                             /* start */
    IWDG_KR = 0x5555u;                             /* open PR and RLR */
    IWDG_PR = 0;                                   /* LSI / 4: 125 us a tick */
    IWDG_RLR = 80u - 1u;                           /* 10 ms */
    while (IWDG_SR)
        ;
    IWDG_KR = 0xAAAAu;
    for (int i = 0; i < 5; i++) {
        delay_cycles(5u * 168000u);
        IWDG_KR = 0xAAAAu;
        uart_puts("refresh\r\n");
    }
    uart_puts("waiting\r\n");
    for (;;)
        ;
}
