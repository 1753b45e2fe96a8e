/* Flash stores through the core: erase the spare sector, program 16 words, then try to
 * turn bits of word 0 back to 1 (NOR cannot) and program word 16 with a half-word
 * store. result[0] = 1 when done. */
#include "fw.h"
#include "flash_layout.h"

static void wait(void)
{
    while (FLASH_SR & (1u << 16))
        ;
}

int main(void)
{
    volatile uint32_t *p = (volatile uint32_t *)SPARE_ADDR;
    FLASH_KEYR = 0x45670123u;
    FLASH_KEYR = 0xCDEF89ABu;
    FLASH_CR = PSIZE_X32 | (SPARE_SECTOR << 3) | CR_SER;
    FLASH_CR |= CR_STRT;
    wait();
    FLASH_CR = PSIZE_X32 | CR_PG;
    for (uint32_t i = 0; i < 16; i++) {
        p[i] = 0x11110000u + i;
        wait();
    }
    p[0] = 0xFFFFFFFFu;          /* 0 -> 1: flash keeps its bits */
    wait();
    result[1] = FLASH_SR;
    FLASH_SR = 0xF3;             /* clear the error flags */
    FLASH_CR = PSIZE_X16 | CR_PG;
    *(volatile uint16_t *)&p[16] = 0xA5A5;
    wait();
    FLASH_CR = 1u << 31;         /* LOCK */
    result[0] = 1;
    for (;;)
        wfi();
}
