/* rcc.h - reset and clock control (RM0090 section 7.3). */
#ifndef REGS_RCC_H
#define REGS_RCC_H

#include "regs/mmio.h"

#define RCC_BASE        0x40023800u

#define RCC_CR          MMIO32(RCC_BASE + 0x00)
#define RCC_PLLCFGR     MMIO32(RCC_BASE + 0x04)
#define RCC_CFGR        MMIO32(RCC_BASE + 0x08)
#define RCC_CIR         MMIO32(RCC_BASE + 0x0C)
#define RCC_AHB1RSTR    MMIO32(RCC_BASE + 0x10)
#define RCC_APB1RSTR    MMIO32(RCC_BASE + 0x20)
#define RCC_APB2RSTR    MMIO32(RCC_BASE + 0x24)
#define RCC_AHB1ENR     MMIO32(RCC_BASE + 0x30)
#define RCC_APB1ENR     MMIO32(RCC_BASE + 0x40)
#define RCC_APB2ENR     MMIO32(RCC_BASE + 0x44)

#define RCC_CR_HSION        (1u << 0)
#define RCC_CR_HSIRDY       (1u << 1)
#define RCC_CR_HSEON        (1u << 16)
#define RCC_CR_HSERDY       (1u << 17)
#define RCC_CR_HSEBYP       (1u << 18)
#define RCC_CR_CSSON        (1u << 19)
#define RCC_CR_PLLON        (1u << 24)
#define RCC_CR_PLLRDY       (1u << 25)

#define RCC_PLLCFGR_PLLM_SHIFT  0
#define RCC_PLLCFGR_PLLN_SHIFT  6
#define RCC_PLLCFGR_PLLP_SHIFT  16      /* 0: /2, 1: /4, 2: /6, 3: /8 */
#define RCC_PLLCFGR_PLLSRC_HSE  (1u << 22)
#define RCC_PLLCFGR_PLLQ_SHIFT  24

#define RCC_CFGR_SW_MASK        (3u << 0)
#define RCC_CFGR_SW_HSI         (0u << 0)
#define RCC_CFGR_SW_HSE         (1u << 0)
#define RCC_CFGR_SW_PLL         (2u << 0)
#define RCC_CFGR_SWS_MASK       (3u << 2)
#define RCC_CFGR_SWS_HSI        (0u << 2)
#define RCC_CFGR_SWS_PLL        (2u << 2)
#define RCC_CFGR_HPRE_DIV1      (0u << 4)
#define RCC_CFGR_PPRE1_DIV4     (5u << 10)
#define RCC_CFGR_PPRE2_DIV2     (4u << 13)

#define RCC_AHB1ENR_GPIOAEN     (1u << 0)
#define RCC_AHB1ENR_GPIOBEN     (1u << 1)
#define RCC_AHB1ENR_GPIOCEN     (1u << 2)
#define RCC_AHB1ENR_GPIOGEN     (1u << 6)
#define RCC_AHB1ENR_ETHMACEN    (1u << 25)
#define RCC_AHB1ENR_ETHMACTXEN  (1u << 26)
#define RCC_AHB1ENR_ETHMACRXEN  (1u << 27)
#define RCC_APB1ENR_PWREN       (1u << 28)
#define RCC_APB2ENR_USART1EN    (1u << 4)
#define RCC_APB2ENR_SYSCFGEN    (1u << 14)

#endif /* REGS_RCC_H */
