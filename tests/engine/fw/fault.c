/* With -DERASED a call through an erased vector (0xFFFFFFFF) as after a jump to an
 * empty slot; with -DROMSTORE a store into the OTP area; with -DUNMODELLED accesses to
 * TIM8, which the bench does not model, and the program goes on.
 * An undefined instruction (a read of unmapped memory with -DUNMAPPED, a return from
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
#elif defined(ERASED)
    void (*erased)(void) = (void (*)(void))REG(0x080F0000);
    erased();
#elif defined(ROMSTORE)
    result[4] = REG(0x1FFF7A10);                   /* UID word 0 */
    result[5] = *(volatile uint16_t *)0x1FFF7A22;  /* flash size in KiB */
    result[6] = *(volatile uint16_t *)0x1FFFC000;  /* option bytes: RDP, USER */
    result[7] = REG(0x1FFF7800);                   /* OTP block 0, erased */
    REG(0x1FFF7800) = 0;
#elif defined(UNMODELLED)
    result[3] = REG(0x40010400);                   /* TIM8_CR1 */
    REG(0x40010404) = 5;                           /* TIM8_CR2 */
    result[4] = REG(0x40010400);
    uart_puts("went on\r\n");
    for (;;)
        wfi();
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
