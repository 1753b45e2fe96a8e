/*
 * clock.c - HSE 8 MHz -> PLL 168 MHz (RM0090 sections 6.2 and 6.3), SysTick at 1 kHz.
 *
 * Every wait on a ready flag is bounded: a board whose crystal does not start (or an
 * emulator that does not model it) must still boot, so the PLL falls back to HSI.
 */
#include "clock.h"

#include "cortexm.h"
#include "regs/flash.h"
#include "regs/pwr.h"
#include "regs/rcc.h"
#include "regs/systick.h"

#define READY_SPINS 200000u   /* HSE start-up is < 2 ms; this is several times that */

/* PLL: VCO input 1 MHz (M = source MHz), VCO 336 MHz, /2 -> 168 MHz, /7 -> 48 MHz USB. */
#define PLL_N 336u
#define PLL_P_DIV2 0u
#define PLL_Q 7u

static volatile uint32_t millis;
static uint32_t sysclk_hz = 16000000u;   /* HSI until clock_init() succeeds */
static const char *source = "HSI 16 MHz (clock_init not called)";

static int wait_set(volatile uint32_t *reg, uint32_t mask, uint32_t value)
{
    uint32_t n;

    for (n = 0; n < READY_SPINS; n++)
        if ((*reg & mask) == value)
            return 1;
    return 0;
}

void clock_init(void)
{
    uint32_t pllm, src;

    /* Already on the PLL (the bootloader set it up before jumping): keep it. */
    if ((RCC_CFGR & RCC_CFGR_SWS_MASK) == RCC_CFGR_SWS_PLL) {
        sysclk_hz = CLOCK_SYSCLK_HZ;
        source = "PLL (kept)";
        return;
    }

    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;
    PWR_CR |= PWR_CR_VOS;

    RCC_CR |= RCC_CR_HSEON;
    if (wait_set(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY)) {
        pllm = 8u;
        src = RCC_PLLCFGR_PLLSRC_HSE;
        source = "HSE 8 MHz -> PLL 168 MHz";
    } else {
        RCC_CR &= ~RCC_CR_HSEON;
        pllm = 16u;
        src = 0;
        source = "HSI 16 MHz -> PLL 168 MHz (HSE not ready)";
    }

    RCC_CR &= ~RCC_CR_PLLON;
    RCC_PLLCFGR = (pllm << RCC_PLLCFGR_PLLM_SHIFT) | (PLL_N << RCC_PLLCFGR_PLLN_SHIFT) |
                  (PLL_P_DIV2 << RCC_PLLCFGR_PLLP_SHIFT) | src |
                  (PLL_Q << RCC_PLLCFGR_PLLQ_SHIFT);
    RCC_CR |= RCC_CR_PLLON;
    if (!wait_set(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) {
        RCC_CR &= ~RCC_CR_PLLON;
        sysclk_hz = 16000000u;
        source = "HSI 16 MHz (PLL did not lock)";
        return;
    }

    /* Wait states before the switch: at 168 MHz and 3.3 V flash needs 5 (RM0090 table 10). */
    FLASH_ACR = FLASH_ACR_LATENCY_5WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    RCC_CFGR = RCC_CFGR_HPRE_DIV1 | RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2 | RCC_CFGR_SW_PLL;
    if (!wait_set(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL)) {
        RCC_CFGR = 0;
        sysclk_hz = 16000000u;
        source = "HSI 16 MHz (switch to PLL failed)";
        return;
    }
    sysclk_hz = CLOCK_SYSCLK_HZ;
}

const char *clock_source(void)
{
    return source;
}

uint32_t clock_pclk2_hz(void)
{
    return sysclk_hz == CLOCK_SYSCLK_HZ ? CLOCK_PCLK2_HZ : sysclk_hz;
}

void clock_systick_start(void)
{
    SYST_CSR = 0;
    SYST_RVR = sysclk_hz / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    millis++;
}

uint32_t clock_millis(void)
{
    return millis;
}

void clock_delay_ms(uint32_t ms)
{
    uint32_t start = millis;

    /* Unsigned difference: correct across the 49-day wrap of the counter. */
    while (millis - start < ms)
        cpu_wfi();
}
