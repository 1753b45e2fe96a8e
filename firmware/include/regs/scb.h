/* scb.h - System Control Block (Cortex-M4 generic user guide section 4.3). */
#ifndef REGS_SCB_H
#define REGS_SCB_H

#include "regs/mmio.h"

#define SCB_BASE        0xE000ED00u
#define SCB_CPUID       MMIO32(SCB_BASE + 0x00)
#define SCB_ICSR        MMIO32(SCB_BASE + 0x04)
#define SCB_VTOR        MMIO32(SCB_BASE + 0x08)
#define SCB_AIRCR       MMIO32(SCB_BASE + 0x0C)
#define SCB_SCR         MMIO32(SCB_BASE + 0x10)
#define SCB_CCR         MMIO32(SCB_BASE + 0x14)
#define SCB_SHCSR       MMIO32(SCB_BASE + 0x24)
#define SCB_CFSR        MMIO32(SCB_BASE + 0x28)
#define SCB_HFSR        MMIO32(SCB_BASE + 0x2C)
#define SCB_CPACR       MMIO32(0xE000ED88u)

#define SCB_ICSR_PENDSTCLR      (1u << 25)
#define SCB_AIRCR_VECTKEY       (0x05FAu << 16)
#define SCB_AIRCR_SYSRESETREQ   (1u << 2)
#define SCB_CPACR_CP10_CP11_FULL (0xFu << 20)

#endif /* REGS_SCB_H */
