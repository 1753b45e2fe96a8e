/* Vector table, reset and console of the engine's test programs. */
#include "fw.h"

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);

volatile uint32_t result[64];

void Reset_Handler(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;)
        *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;
    SCB_CPACR |= 0xFu << 20;   /* CP10/CP11: the FPU, as on the real chip */
    main();
    for (;;)
        wfi();
}

void Default_Handler(void)
{
    for (;;)
        wfi();
}

#define WEAK(name) void name(void) __attribute__((weak, alias("Default_Handler")))
WEAK(NMI_Handler);
WEAK(HardFault_Handler);
WEAK(MemManage_Handler);
WEAK(BusFault_Handler);
WEAK(UsageFault_Handler);
WEAK(SVC_Handler);
WEAK(PendSV_Handler);
WEAK(SysTick_Handler);
WEAK(IRQ0_Handler);
WEAK(IRQ1_Handler);
WEAK(IRQ2_Handler);
WEAK(IRQ3_Handler);
WEAK(USART1_IRQHandler);
WEAK(EXTI0_IRQHandler);
WEAK(TIM6_DAC_IRQHandler);

__attribute__((section(".vectors"), used))
void (*const vectors[16 + 82])(void) = {
    [0] = (void (*)(void))&_estack,
    [1] = Reset_Handler,
    [2] = NMI_Handler,
    [3] = HardFault_Handler,
    [4] = MemManage_Handler,
    [5] = BusFault_Handler,
    [6] = UsageFault_Handler,
    [11] = SVC_Handler,
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    [16] = IRQ0_Handler,
    [17] = IRQ1_Handler,
    [18] = IRQ2_Handler,
    [19] = IRQ3_Handler,
    [16 + 6] = EXTI0_IRQHandler,
    [16 + 37] = USART1_IRQHandler,
    [16 + 54] = TIM6_DAC_IRQHandler,
};

void uart_init(void)
{
    RCC_AHB1ENR |= 1u;          /* GPIOA */
    RCC_APB2ENR |= 1u << 4;     /* USART1 */
    USART1_BRR = 84000000u / 115200u;
    USART1_CR1 = (1u << 13) | (1u << 3) | (1u << 2);   /* UE, TE, RE */
}

void uart_puts(const char *s)
{
    for (; *s; s++) {
        while (!(USART1_SR & (1u << 7)))
            ;
        USART1_DR = (uint8_t)*s;
    }
}

void uart_hex(uint32_t v)
{
    char buf[9];
    for (int i = 7; i >= 0; i--, v >>= 4)
        buf[i] = "0123456789abcdef"[v & 0xF];
    buf[8] = 0;
    uart_puts(buf);
}

void uart_dec(uint32_t v)
{
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    uart_puts(&buf[i]);
}

int uart_getc(void)
{
    if (!(USART1_SR & (1u << 5)))
        return -1;
    return (int)(USART1_DR & 0xFF);
}
