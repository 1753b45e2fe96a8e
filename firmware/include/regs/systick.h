/* systick.h - SysTick timer (Cortex-M4 generic user guide section 4.4). */
#ifndef REGS_SYSTICK_H
#define REGS_SYSTICK_H

#include "regs/mmio.h"

#define SYST_CSR        MMIO32(0xE000E010u)
#define SYST_RVR        MMIO32(0xE000E014u)
#define SYST_CVR        MMIO32(0xE000E018u)
#define SYST_CALIB      MMIO32(0xE000E01Cu)

#define SYST_CSR_ENABLE     (1u << 0)
#define SYST_CSR_TICKINT    (1u << 1)
#define SYST_CSR_CLKSOURCE  (1u << 2)   /* 1: processor clock */
#define SYST_CSR_COUNTFLAG  (1u << 16)

#endif /* REGS_SYSTICK_H */
