/*
 * gdb_target.c - the program tests/engine/test_gdb_machine.py debugs through the stub.
 *
 * Known symbols for gdb to break at and print: a function called in a loop, a counter in
 * RAM it updates, a constant pattern in flash. No C runtime: .bss is not zeroed, so the
 * reset handler clears the counter itself before the loop.
 */
#include <stdint.h>

extern uint32_t __stack_top;

volatile uint32_t counter;
const uint32_t pattern[4] = {0x11111111u, 0x22222222u, 0x33333333u, 0x44444444u};

__attribute__((noinline)) uint32_t add_step(uint32_t x)
{
    counter += x;
    return counter;
}

__attribute__((noreturn)) void reset_handler(void)
{
    counter = 0;
    for (;;) {
        (void)add_step(pattern[0] & 0x7u);
    }
}

/* Only the two vectors a reset needs: the initial stack pointer and the entry point. */
__attribute__((section(".vectors"), used)) const void *const vectors[2] = {
    &__stack_top,
    (const void *)reset_handler,
};
