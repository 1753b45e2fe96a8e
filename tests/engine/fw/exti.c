/* An EXTI line as HAL_GPIO_Init and Zephyr's GPIO driver set it up: PA0 on line 0
 * (SYSCFG_EXTICR1), unmasked, rising edge, EXTI0 in the NVIC; first a software
 * trigger (SWIER), then the bench drives the pin. */
#include "fw.h"

static volatile uint32_t hits;

void EXTI0_IRQHandler(void)
{
    result[1 + hits] = EXTI_PR;
    EXTI_PR = 1u;                                  /* rc_w1 */
    hits++;
}

int main(void)
{
    uart_init();
    RCC_AHB1ENR |= 1u;                             /* GPIOA */
    RCC_APB2ENR |= 1u << 14;                       /* SYSCFG */
    SYSCFG_EXTICR1 &= ~0xFu;                       /* line 0 <- port A */
    EXTI_IMR |= 1u;
    EXTI_RTSR |= 1u;
    NVIC_ISER(0) = 1u << 6;
    irq_enable();
    EXTI_SWIER = 1u;
    while (hits < 1)
        wfi();
    uart_puts("exti soft\r\n");
    while (hits < 2)
        wfi();
    result[0] = hits;
    result[3] = EXTI_PR;
    uart_puts("exti pin\r\n");
    for (;;)
        wfi();
}
