/* mmio.h - one macro for memory-mapped registers, shared by the register headers. */
#ifndef REGS_MMIO_H
#define REGS_MMIO_H

#include <stdint.h>

#define MMIO32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#endif /* REGS_MMIO_H */
