/*
 * pollwait.c - polling loops whose skip (pollskip.py) must stay exact, for
 * tests/engine/test_pollskip.py. TIM6 runs without its interrupt, so the board has
 * events (update every 100 us) that neither the loops nor RAM see.
 *
 * WAIT_RAM: waits for `flag` in RAM, which the bench sets from a scheduled callback as a
 * DMA would; then records when it saw it (CYCCNT, TIM6's counter).
 * STORE_FLASH: unlocks the flash interface and sets PG, waits for `flag` too (a loop the
 * machine skips, so that the next one is probed at once), then stores the same erased value into one flash word again and
 * again with PG set: each store is a program, so that loop is not idle although RAM and
 * the registers repeat.
 * LONG_HANDLER: a 1 kHz SysTick whose handler computes for ~2000 instructions, longer
 * than the first slice after an event; main waits for ticks in RAM.
 */
#include "fw.h"

#define FLASH_KEYR REG(0x40023C04)
#define FLASH_SR   REG(0x40023C0C)
#define FLASH_CR   REG(0x40023C10)
#define SPARE      0x0800C000u        /* sector 3 */

volatile uint32_t flag;
volatile uint32_t ticks, work;

#ifdef LONG_HANDLER
void SysTick_Handler(void)
{
    uint32_t x = work;
    for (uint32_t i = 0; i < 400; i++)
        x = x * 1664525u + i;
    work = x;
    ticks++;
}
#endif

int main(void)
{
    SCB_DEMCR |= DEMCR_TRCENA;
    DWT_CTRL |= 1u;                    /* CYCCNT on */
    RCC_APB1ENR |= 1u << 4;            /* TIM6 */
    TIM6_PSC = 0;
    TIM6_ARR = 1600u - 1u;             /* 100 us at 16 MHz (HSI, no PLL) */
    TIM6_EGR = 1u;
    TIM6_SR = 0;
    TIM6_CR1 = 1u;
#ifdef LONG_HANDLER
    SYST_RVR = 168000u - 1u;           /* 1 ms: the core counts 168 MHz cycles */
    SYST_CVR = 0;
    SYST_CSR = 7u;
    for (;;) {
        uint32_t t0 = ticks;
        while (ticks == t0)
            ;
        result[0] = ticks;
    }
#endif
#ifdef STORE_FLASH
    FLASH_KEYR = 0x45670123u;
    FLASH_KEYR = 0xCDEF89ABu;
    FLASH_CR = (2u << 8) | 1u;         /* PSIZE x32, PG */
#endif
    while (flag == 0)
        ;
#ifdef WAIT_RAM
    result[1] = DWT_CYCCNT;
    result[2] = TIM6_CNT;
    result[0] = 1;
#endif
#ifdef STORE_FLASH
    for (;;)
        *(volatile uint32_t *)SPARE = 0xFFFFFFFFu;
#endif
    return 0;
}
