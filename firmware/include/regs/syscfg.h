/* syscfg.h - system configuration controller (RM0090 section 9.2). */
#ifndef REGS_SYSCFG_H
#define REGS_SYSCFG_H

#include "regs/mmio.h"

#define SYSCFG_BASE     0x40013800u
#define SYSCFG_MEMRMP   MMIO32(SYSCFG_BASE + 0x00)
#define SYSCFG_PMC      MMIO32(SYSCFG_BASE + 0x04)

/* Must be set while the MAC is in reset or its clocks are off (RM0090 9.2.2). */
#define SYSCFG_PMC_MII_RMII_SEL (1u << 23)

#endif /* REGS_SYSCFG_H */
