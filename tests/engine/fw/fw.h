/* Registers and helpers shared by the engine's test programs (names from RM0090/ARMv7-M). */
#ifndef FW_H
#define FW_H
#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define SYST_CSR   REG(0xE000E010)
#define SYST_RVR   REG(0xE000E014)
#define SYST_CVR   REG(0xE000E018)
#define NVIC_ISER(n) REG(0xE000E100 + 4 * (n))
#define NVIC_ISPR(n) REG(0xE000E200 + 4 * (n))
#define NVIC_IPR8(n) (*(volatile uint8_t *)(0xE000E400 + (n)))
#define NVIC_STIR  REG(0xE000EF00)
#define SCB_CPUID  REG(0xE000ED00)
#define SCB_ICSR   REG(0xE000ED04)
#define SCB_VTOR   REG(0xE000ED08)
#define SCB_AIRCR  REG(0xE000ED0C)
#define SCB_SHCSR  REG(0xE000ED24)
#define SCB_CFSR   REG(0xE000ED28)
#define SCB_HFSR   REG(0xE000ED2C)
#define SCB_BFAR   REG(0xE000ED38)
#define SCB_CPACR  REG(0xE000ED88)
#define SCB_SHPR3  REG(0xE000ED20)
#define SCB_MMFAR  REG(0xE000ED34)
#define SCB_DEMCR  REG(0xE000EDFC)
#define DEMCR_TRCENA (1u << 24)
#define DBGMCU_IDCODE REG(0xE0042000)
#define DWT_CTRL   REG(0xE0001000)
#define DWT_CYCCNT REG(0xE0001004)

/* MPU (PM0214 4.5) */
#define MPU_TYPE   REG(0xE000ED90)
#define MPU_CTRL   REG(0xE000ED94)
#define MPU_RNR    REG(0xE000ED98)
#define MPU_RBAR   REG(0xE000ED9C)
#define MPU_RASR   REG(0xE000EDA0)

/* Bit-band aliases (RM0090 2.3.2): the word that stands for bit b of the byte at a. */
#define BITBAND_SRAM(a, b) REG(0x22000000u + ((uint32_t)(a) - 0x20000000u) * 32u + (b) * 4u)
#define BITBAND_PERI(a, b) REG(0x42000000u + ((uint32_t)(a) - 0x40000000u) * 32u + (b) * 4u)

#define RCC_CR      REG(0x40023800)
#define RCC_PLLCFGR REG(0x40023804)
#define RCC_CFGR    REG(0x40023808)
#define RCC_APB1ENR REG(0x40023840)
#define RCC_BDCR    REG(0x40023870)
#define RCC_CSR     REG(0x40023874)
#define PWR_CR      REG(0x40007000)
#define PWR_CSR     REG(0x40007004)
#define FLASH_ACR   REG(0x40023C00)

#define TIM6_CR1  REG(0x40001000)
#define TIM6_DIER REG(0x4000100C)
#define TIM6_SR   REG(0x40001010)
#define TIM6_EGR  REG(0x40001014)
#define TIM6_CNT  REG(0x40001024)
#define TIM6_PSC  REG(0x40001028)
#define TIM6_ARR  REG(0x4000102C)

#define SYSCFG_EXTICR1 REG(0x40013808)
#define EXTI_IMR   REG(0x40013C00)
#define EXTI_RTSR  REG(0x40013C08)
#define EXTI_SWIER REG(0x40013C10)
#define EXTI_PR    REG(0x40013C14)

#define IWDG_KR  REG(0x40003000)
#define IWDG_PR  REG(0x40003004)
#define IWDG_RLR REG(0x40003008)
#define IWDG_SR  REG(0x4000300C)

#define RTC_BKPR(n) REG(0x40002850 + 4 * (n))
#define BKPSRAM     ((volatile uint32_t *)0x40024000)

#define RCC_AHB1ENR REG(0x40023830)
#define RCC_APB2ENR REG(0x40023844)
#define USART1_SR  REG(0x40011000)
#define USART1_DR  REG(0x40011004)
#define USART1_BRR REG(0x40011008)
#define USART1_CR1 REG(0x4001100C)

#define FLASH_KEYR REG(0x40023C04)
#define FLASH_SR   REG(0x40023C0C)
#define FLASH_CR   REG(0x40023C10)
#define CR_PG      (1u << 0)
#define CR_SER     (1u << 1)
#define CR_STRT    (1u << 16)
#define PSIZE_X16  (1u << 8)
#define PSIZE_X32  (2u << 8)

#define ICSR_PENDSVSET (1u << 28)
#define AIRCR_VECTKEY  (0x05FAu << 16)
#define AIRCR_SYSRESETREQ (1u << 2)

/* Results the tests read back by symbol. */
extern volatile uint32_t result[64];

void uart_init(void);
void uart_puts(const char *s);
void uart_hex(uint32_t v);
void uart_dec(uint32_t v);
int uart_getc(void);

static inline void irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
static inline void irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void wfi(void) { __asm volatile("wfi"); }

#endif
