/* Priorities, preemption, nesting, tail-chaining and masking: each handler entry
 * appends a code to result[]; the test reads the order back. */
#include "fw.h"

static volatile uint32_t n;

static void log_code(uint32_t code) { result[1 + n++] = code; }

void IRQ0_Handler(void)          /* priority 0x80 */
{
    log_code(0x10);
    NVIC_ISPR(0) = 1u << 1;      /* IRQ1 (0x40) preempts at once */
    log_code(0x11);
    NVIC_ISPR(0) = 1u << 2;      /* IRQ2 (0x80, same group) waits: tail-chained */
    log_code(0x12);
}

void IRQ1_Handler(void) { log_code(0x20); }
void IRQ2_Handler(void) { log_code(0x30); }
void IRQ3_Handler(void) { log_code(0x40); }   /* priority 0xC0 */
void PendSV_Handler(void) { log_code(0x50); } /* lowest priority */

int main(void)
{
    NVIC_IPR8(0) = 0x80;
    NVIC_IPR8(1) = 0x40;
    NVIC_IPR8(2) = 0x80;
    NVIC_IPR8(3) = 0xC0;
    SCB_SHPR3 = 0xF0u << 16;     /* PendSV lowest */
    NVIC_ISER(0) = 0xF;

    NVIC_STIR = 0;               /* the nesting/tail-chaining scenario */
    log_code(0x01);

    __asm volatile("msr basepri, %0" :: "r"(0xC0) : "memory");
    NVIC_ISPR(0) = 1u << 3;      /* masked by BASEPRI: stays pending */
    SCB_ICSR = ICSR_PENDSVSET;   /* masked too */
    log_code(0x02);
    __asm volatile("msr basepri, %0" :: "r"(0) : "memory");
    for (volatile int i = 0; i < 100; i++)
        ;
    log_code(0x03);              /* IRQ3 then PendSV ran before this */
    result[0] = n;
    for (;;)
        wfi();
}
