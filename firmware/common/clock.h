/*
 * clock.h - system clock: HSE 8 MHz -> PLL -> 168 MHz SYSCLK, AHB 168, APB1 42, APB2 84
 * MHz, 5 flash wait states, caches and prefetch on (RM0090 section 6). Also SysTick at
 * 1 kHz for a millisecond counter.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

#define CLOCK_SYSCLK_HZ 168000000u
#define CLOCK_PCLK1_HZ   42000000u
#define CLOCK_PCLK2_HZ   84000000u

void clock_init(void);            /* returns with SYSCLK on the PLL (fed by HSI if HSE
                                     * never starts; clock_source() says which) */
void clock_systick_start(void);   /* 1 ms SysTick interrupt driving clock_millis() */
uint32_t clock_millis(void);
/* What clock_init() ended on, for the console (e.g. "HSI 16 MHz -> PLL 168 MHz (HSE not
 * ready)"), and the APB2 clock it gives, to pass to console_init(). */
const char *clock_source(void);
uint32_t clock_pclk2_hz(void);
void clock_delay_ms(uint32_t ms);

#endif /* CLOCK_H */
