/* FP registers of the thread survive an interrupt whose handler uses them. */
#include "fw.h"

void IRQ0_Handler(void)
{
    uint32_t lr;
    __asm volatile("mov %0, lr" : "=r"(lr));
    result[4] = lr;                         /* EXC_RETURN: FP frame expected */
    __asm volatile(
        "vmov s0, %0\n vmov s1, %0\n vmov s2, %0\n vmov s15, %0\n"
        :: "r"(0xDEADBEEF) : "s0", "s1", "s2", "s15");
}

int main(void)
{
    NVIC_ISER(0) = 1;
    uint32_t a0, a1, a2, a15;
    __asm volatile(
        "vmov s0, %4\n vmov s1, %5\n vmov s2, %6\n vmov s15, %7\n"
        "str %9, [%8]\n"          /* pend IRQ0: taken right after this store */
        "dsb\n isb\n"
        "vmov %0, s0\n vmov %1, s1\n vmov %2, s2\n vmov %3, s15\n"
        : "=r"(a0), "=r"(a1), "=r"(a2), "=r"(a15)
        : "r"(0x3F800000), "r"(0x40000000), "r"(0x40400000), "r"(0x41700000),
          "r"(&NVIC_ISPR(0)), "r"(1)
        : "s0", "s1", "s2", "s15", "memory");
    result[0] = a0;
    result[1] = a1;
    result[2] = a2;
    result[3] = a15;
    result[5] = 1;
    for (;;)
        wfi();
}
