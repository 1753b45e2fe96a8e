/* nvic.h - Nested Vectored Interrupt Controller (Cortex-M4 generic user guide 4.2). */
#ifndef REGS_NVIC_H
#define REGS_NVIC_H

#include "regs/mmio.h"

#define NVIC_ISER(n)    MMIO32(0xE000E100u + 4u * (n))
#define NVIC_ICER(n)    MMIO32(0xE000E180u + 4u * (n))
#define NVIC_ISPR(n)    MMIO32(0xE000E200u + 4u * (n))
#define NVIC_ICPR(n)    MMIO32(0xE000E280u + 4u * (n))
#define NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(uintptr_t)(0xE000E400u + (irq)))

#define NVIC_IRQ_WORDS  3   /* the F407 has 82 interrupts: 3 words of enable bits */

/* STM32F405/407 interrupt numbers (RM0090 table 61) that the firmware uses. */
#define IRQ_COUNT       82
#define IRQ_TIM2        28
#define IRQ_USART1      37
#define IRQ_ETH         61
#define IRQ_ETH_WKUP    62

static inline void nvic_enable_irq(unsigned irq)
{
    NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
}

static inline void nvic_disable_irq(unsigned irq)
{
    NVIC_ICER(irq / 32u) = 1u << (irq % 32u);
}

#endif /* REGS_NVIC_H */
