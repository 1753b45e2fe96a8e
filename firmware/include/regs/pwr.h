/* pwr.h - power controller (RM0090 section 5.4). */
#ifndef REGS_PWR_H
#define REGS_PWR_H

#include "regs/mmio.h"

#define PWR_BASE        0x40007000u
#define PWR_CR          MMIO32(PWR_BASE + 0x00)
#define PWR_CSR         MMIO32(PWR_BASE + 0x04)

#define PWR_CR_VOS      (1u << 14)   /* scale 1: needed for 168 MHz */

#endif /* REGS_PWR_H */
