/* An undefined instruction (a read of unmapped memory with -DUNMAPPED, a return from
 * PendSV to an invalid EXC_RETURN with -DBADRETURN) ends in HardFault, which reports
 * the fault status registers; with -DLOCKUP the HardFault handler faults again; with
 * -DBADVTOR the vector table points at unmapped memory when the fault comes, as after
 * a bootloader jumps to an erased slot. */
#include "fw.h"

void HardFault_Handler(void)
{
#ifdef LOCKUP
    __asm volatile("udf #1");
#endif
    result[0] = SCB_CFSR;
    result[1] = SCB_HFSR;
    result[2] = SCB_BFAR;
    uart_puts("hardfault cfsr=");
    uart_hex(SCB_CFSR);
    uart_puts("\r\n");
    for (;;)
        wfi();
}

#ifdef BADRETURN
__attribute__((naked)) void PendSV_Handler(void)
{
    __asm volatile("ldr r0, =0xFFFFFFF5\n bx r0");
}
#endif

int main(void)
{
    uart_init();
    uart_puts("about to fault\r\n");
#if defined(UNMAPPED)
    result[3] = REG(0x60000000);
#elif defined(BADVTOR)
    SCB_VTOR = 0xFFFFFE00u;
    __asm volatile("dsb\n isb\n udf #0");
#elif defined(BADRETURN)
    SCB_ICSR = ICSR_PENDSVSET;
    __asm volatile("dsb\n isb");
#else
    __asm volatile("udf #0");
#endif
    uart_puts("not reached\r\n");
    for (;;)
        wfi();
}
