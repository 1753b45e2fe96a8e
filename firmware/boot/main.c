/*
 * main.c - the bootloader on the chip: clocks, console, boot_decide(), then start the
 * application or wait. Everything that decides lives in boot_logic.c.
 */
#include <stdint.h>

#include "boot_logic.h"
#include "clock.h"
#include "console.h"
#include "cortexm.h"
#include "regs/nvic.h"
#include "regs/scb.h"
#include "regs/systick.h"

#ifndef BOOT_VARIANT
#define BOOT_VARIANT "bootloader"
#endif

/*
 * Leave the core as the application expects it after reset: no SysTick, no pending or
 * enabled interrupts, VTOR at its table, MSP from its table. Interrupts stay masked
 * (PRIMASK) until the application's own start-up enables them.
 */
static __attribute__((noreturn)) void start_application(uint32_t load_addr)
{
    const volatile uint32_t *vectors = (const volatile uint32_t *)(uintptr_t)load_addr;
    unsigned i;

    cpu_irq_disable();
    SYST_CSR = 0;
    SCB_ICSR = SCB_ICSR_PENDSTCLR;
    for (i = 0; i < NVIC_IRQ_WORDS; i++) {
        NVIC_ICER(i) = 0xFFFFFFFFu;
        NVIC_ICPR(i) = 0xFFFFFFFFu;
    }
    SCB_VTOR = load_addr;
    cpu_dsb();
    cpu_isb();
    cpu_start_image(vectors[0], vectors[1]);
}

int main(void)
{
    struct boot_decision d;

    clock_init();
    console_init(clock_pclk2_hz());
    console_printf("\r\nboot: " BOOT_VARIANT ", clock %s\r\n", clock_source());

    boot_decide(&d);
    if (d.outcome == BOOT_JUMP) {
        /* Wait for the last console byte to leave: the application re-initialises USART1. */
        console_flush();
        start_application(d.load_addr);
    }
    for (;;)
        cpu_wfi();
}
