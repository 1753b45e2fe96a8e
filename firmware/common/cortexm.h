/* cortexm.h - the few Cortex-M4 instructions C cannot express (private to firmware/). */
#ifndef CORTEXM_H
#define CORTEXM_H

#include <stdint.h>

static inline void cpu_irq_disable(void) { __asm__ volatile ("cpsid i" ::: "memory"); }
static inline void cpu_irq_enable(void)  { __asm__ volatile ("cpsie i" ::: "memory"); }
static inline void cpu_dsb(void)         { __asm__ volatile ("dsb" ::: "memory"); }
static inline void cpu_isb(void)         { __asm__ volatile ("isb" ::: "memory"); }
static inline void cpu_wfi(void)         { __asm__ volatile ("wfi"); }

/* Load MSP and branch to an image's reset vector; never returns. */
static inline __attribute__((noreturn)) void cpu_start_image(uint32_t sp, uint32_t reset)
{
    __asm__ volatile (
        "msr msp, %0\n"
        "isb\n"
        "bx %1\n"
        :: "r"(sp), "r"(reset) : "memory");
    __builtin_unreachable();
}

#endif /* CORTEXM_H */
