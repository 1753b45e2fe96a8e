/*
 * startup.c - the vector table and reset handler shared by the bootloader and the
 * applications (each image links it at the start of its flash region, see ld/).
 *
 * Every handler is a weak alias of default_handler, so a program defines only the ones
 * it uses (SysTick_Handler comes from clock.c; the application defines ETH_IRQHandler).
 */
#include <stdint.h>
#include <string.h>

#include "regs/nvic.h"
#include "regs/scb.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void Reset_Handler(void);
void default_handler(void);

#define WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("default_handler")))
WEAK_HANDLER(NMI_Handler);
WEAK_HANDLER(HardFault_Handler);
WEAK_HANDLER(MemManage_Handler);
WEAK_HANDLER(BusFault_Handler);
WEAK_HANDLER(UsageFault_Handler);
WEAK_HANDLER(SVC_Handler);
WEAK_HANDLER(DebugMon_Handler);
WEAK_HANDLER(PendSV_Handler);
WEAK_HANDLER(SysTick_Handler);
WEAK_HANDLER(TIM2_IRQHandler);
WEAK_HANDLER(USART1_IRQHandler);
WEAK_HANDLER(ETH_IRQHandler);
WEAK_HANDLER(ETH_WKUP_IRQHandler);


typedef void (*vector_t)(void);

/* 16 + 82 vectors, 392 bytes: the 512-byte alignment VTOR needs comes from the linker.
 * A range fills every IRQ with the default, then the named ones override it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
__attribute__((section(".isr_vector"), used))
const vector_t vector_table[16 + IRQ_COUNT] = {
    [0] = (vector_t)(uintptr_t)&_estack,
    [1] = Reset_Handler,
    [2] = NMI_Handler,
    [3] = HardFault_Handler,
    [4] = MemManage_Handler,
    [5] = BusFault_Handler,
    [6] = UsageFault_Handler,
    [11] = SVC_Handler,
    [12] = DebugMon_Handler,
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    [16 ... 16 + IRQ_COUNT - 1] = default_handler,
    [16 + IRQ_TIM2] = TIM2_IRQHandler,
    [16 + IRQ_USART1] = USART1_IRQHandler,
    [16 + IRQ_ETH] = ETH_IRQHandler,
    [16 + IRQ_ETH_WKUP] = ETH_WKUP_IRQHandler,
};
#pragma GCC diagnostic pop

/* An unexpected exception stops here, in a loop the bench can recognise by its symbol. */
void default_handler(void)
{
    for (;;)
        ;
}

void Reset_Handler(void)
{
    /* -mfloat-abi=hard: the FPU must be on before any code that may use it. */
    SCB_CPACR |= SCB_CPACR_CP10_CP11_FULL;
    __asm__ volatile ("dsb\n isb" ::: "memory");

    memcpy(&_sdata, &_sidata, (size_t)((uintptr_t)&_edata - (uintptr_t)&_sdata));
    memset(&_sbss, 0, (size_t)((uintptr_t)&_ebss - (uintptr_t)&_sbss));
    main();
    for (;;)
        ;
}
