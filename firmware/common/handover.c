/* handover.c - see handover.h. */
#include "handover.h"

#include "cortexm.h"
#include "regs/nvic.h"
#include "regs/scb.h"
#include "regs/systick.h"

void handover_start_image(uint32_t load_addr)
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
