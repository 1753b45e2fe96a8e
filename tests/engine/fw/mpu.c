/* An MPU region as Zephyr's stack guard uses it: 32 bytes of no access at the bottom
 * of a stack, PRIVDEFENA for the rest; a store into it is a MemManage fault (DACCVIOL,
 * MMFAR) whose handler opens the MPU, so the store runs again and lands. Then a
 * read-only region refuses a store the same way. */
#include "fw.h"

static volatile uint32_t guard[8] __attribute__((aligned(32)));
static volatile uint32_t ro[8] __attribute__((aligned(32)));
static volatile uint32_t faults;

void MemManage_Handler(void)
{
    result[1 + 2 * faults] = SCB_CFSR;
    result[2 + 2 * faults] = SCB_MMFAR;
    SCB_CFSR = SCB_CFSR;                           /* write 1 to clear */
    faults++;
    MPU_CTRL = 0;                                  /* open up: the store runs again */
    __asm volatile("dsb\n isb");
}

int main(void)
{
    uart_init();
    SCB_SHCSR |= 1u << 16;                         /* MEMFAULTENA */
    result[7] = MPU_TYPE;
    MPU_RBAR = (uint32_t)guard | 0x10u | 0u;       /* VALID, region 0 */
    MPU_RASR = (1u << 28) | (0u << 24) | (4u << 1) | 1u;   /* XN, no access, 32 B */
    MPU_RBAR = (uint32_t)ro | 0x10u | 1u;          /* region 1 */
    MPU_RASR = (1u << 28) | (6u << 24) | (4u << 1) | 1u;   /* XN, read-only, 32 B */
    MPU_CTRL = 5u;                                 /* ENABLE | PRIVDEFENA */
    __asm volatile("dsb\n isb");
    guard[2] = 0x600DF00Du;
    MPU_CTRL = 5u;
    __asm volatile("dsb\n isb");
    result[9] = ro[0];                             /* reading is allowed */
    ro[1] = 0x12345678u;
    result[0] = faults;
    result[5] = guard[2];
    result[6] = ro[1];
    result[8] = (uint32_t)guard;
    result[10] = (uint32_t)ro;
    uart_puts("mpu done\r\n");
    for (;;)
        wfi();
}
