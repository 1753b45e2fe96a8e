/* Thread mode on the process stack: an interrupt stacks on PSP, runs on MSP, returns
 * with EXC_RETURN 0xFFFFFFFD, and the thread is back on PSP with its registers. */
#include "fw.h"

static uint32_t process_stack[256] __attribute__((aligned(8)));

void IRQ0_Handler(void)
{
    uint32_t lr, sp, psp;
    __asm volatile("mov %0, lr\n mov %1, sp\n mrs %2, psp" : "=r"(lr), "=r"(sp), "=r"(psp));
    result[1] = lr;
    result[2] = sp;
    result[3] = psp;
}

int main(void)
{
    uint32_t top = (uint32_t)&process_stack[256];
    uint32_t sp, control, r7_after;
    NVIC_ISER(0) = 1;
    __asm volatile(
        "msr psp, %3\n"
        "movs r0, #2\n msr control, r0\n isb\n"   /* thread mode now uses PSP */
        "movs r7, #77\n"
        "str %5, [%4]\n"                          /* pend IRQ0 */
        "dsb\n isb\n"
        "mov %0, sp\n mrs %1, control\n mov %2, r7\n"
        : "=r"(sp), "=r"(control), "=r"(r7_after)
        : "r"(top), "r"(&NVIC_ISPR(0)), "r"(1)
        : "r0", "r7", "memory");
    result[4] = sp;
    result[5] = control;
    result[6] = r7_after;
    result[7] = top;
    result[0] = 1;
    for (;;)
        wfi();
}
