/* SVC is taken at once; with PRIMASK set it cannot be, and escalates to HardFault. */
#include "fw.h"

void SVC_Handler(void) { result[1]++; }

void HardFault_Handler(void)
{
    result[2] = SCB_HFSR;
    result[0] = 2;
    for (;;)
        wfi();
}

int main(void)
{
    __asm volatile("svc #1");
    result[3] = result[1];       /* the handler ran before this */
    irq_disable();
    __asm volatile("svc #2");
    result[0] = 1;               /* not reached */
    for (;;)
        wfi();
}
