/* The start-up sequence of ST's HAL (SystemClock_Config on HAL_RCC_OscConfig and
 * HAL_RCC_ClockConfig) as it reaches the registers: HSE on by a byte store, the PLL
 * switched through the RCC_CR bit-band alias, 168 MHz from a 25 MHz crystal, flash
 * latency, bus prescalers, the switch to the PLL; then a bit-band round trip in SRAM,
 * a DWT cycle-count delay (HAL's and Zephyr's microsecond delays) and TIM6 as HAL's
 * 1 ms time base. */
#include "fw.h"

static volatile uint32_t word;      /* SRAM bit-band target */
static volatile uint32_t ticks;
static volatile uint32_t tick_cycles[10];

void TIM6_DAC_IRQHandler(void)
{
    TIM6_SR = 0;                                   /* UIF is rc_w0 */
    if (ticks < 10)
        tick_cycles[ticks] = DWT_CYCCNT;
    ticks++;
}

int main(void)
{
    uart_init();
    /* __HAL_RCC_HSE_CONFIG: a byte store to RCC_CR[23:16]. */
    *(volatile uint8_t *)0x40023802 = 0x01;
    while (!(RCC_CR & (1u << 17)))
        ;
    BITBAND_PERI(&RCC_CR, 24) = 0;                 /* __HAL_RCC_PLL_DISABLE */
    while (RCC_CR & (1u << 25))
        ;
    RCC_PLLCFGR = 25u | (336u << 6) | (0u << 16) | (1u << 22) | (7u << 24);
    BITBAND_PERI(&RCC_CR, 24) = 1;                 /* __HAL_RCC_PLL_ENABLE */
    while (!BITBAND_PERI(&RCC_CR, 25))             /* PLLRDY through the alias */
        ;
    *(volatile uint8_t *)0x40023C00 = 5;           /* FLASH_ACR latency, byte access */
    RCC_CFGR = (RCC_CFGR & ~0xFCF0u) | (5u << 10) | (4u << 13);
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u;              /* SW = PLL */
    while ((RCC_CFGR & 0xCu) != 0x8u)
        ;
    result[0] = RCC_CR;
    result[1] = RCC_CFGR;
    result[2] = FLASH_ACR;

    word = 0x80000000u;
    BITBAND_SRAM(&word, 5) = 1;
    BITBAND_SRAM(&word, 31) = 0;
    result[3] = word;
    result[4] = BITBAND_SRAM(&word, 5) | (BITBAND_SRAM(&word, 6) << 1);

    result[5] = DWT_CYCCNT;                        /* TRCENA off: not counting */
    SCB_DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
    uint32_t start = DWT_CYCCNT;
    while (DWT_CYCCNT - start < 16800u)           /* 100 us at 168 MHz */
        ;
    result[6] = DWT_CYCCNT - start;

    RCC_APB1ENR |= 1u << 4;                        /* TIM6 */
    TIM6_PSC = 84u - 1u;                           /* 84 MHz APB1 timer clock -> 1 MHz */
    TIM6_ARR = 1000u - 1u;                         /* 1 ms */
    TIM6_EGR = 1u;                                 /* UG: load PSC now */
    TIM6_SR = 0;
    TIM6_DIER = 1u;
    NVIC_ISER(1) = 1u << (54 - 32);
    irq_enable();
    TIM6_CR1 = 1u;
    while (ticks < 10)
        wfi();
    result[7] = tick_cycles[9] - tick_cycles[0];
    result[8] = ticks;
    uart_puts("clock done\r\n");
    for (;;)
        wfi();
}
