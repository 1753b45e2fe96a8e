/* handover.h - start an image the way a reset would (used by the bootloaders). */
#ifndef HANDOVER_H
#define HANDOVER_H

#include <stdint.h>

/*
 * Leave the core as the application expects it after reset (no SysTick, no pending or
 * enabled interrupts, VTOR at its table, MSP from its table) and jump to its reset
 * vector. Interrupts stay masked (PRIMASK) until the application's own start-up enables
 * them.
 */
void handover_start_image(uint32_t load_addr) __attribute__((noreturn));

#endif /* HANDOVER_H */
