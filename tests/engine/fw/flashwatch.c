/* Flash accesses for the FlashWatch tests, one pattern per CASE:
 *   1: load a word of staging (sector 8)
 *   2: erase the spare sector (3), then load from it
 *   3: program a word of the spare sector without erasing it first
 *   4: call code the test put at the start of the application slot (sector 4)
 *   5: erase the spare sector, program a word, load it back
 * result[1] = the word loaded (or returned), result[0] = 1 when done. */
#include "fw.h"
#include "flash_layout.h"

static volatile uint32_t *const spare = (volatile uint32_t *)SPARE_ADDR;

static __attribute__((unused)) void wait(void)
{
    while (FLASH_SR & (1u << 16))
        ;
}

static __attribute__((unused)) void unlock(void)
{
    FLASH_KEYR = 0x45670123u;
    FLASH_KEYR = 0xCDEF89ABu;
}

static __attribute__((unused)) void erase_spare(void)
{
    FLASH_CR = PSIZE_X32 | (SPARE_SECTOR << 3) | CR_SER;
    FLASH_CR |= CR_STRT;
    wait();
}

static __attribute__((unused)) void program_spare(uint32_t value)
{
    FLASH_CR = PSIZE_X32 | CR_PG;
    spare[0] = value;
    wait();
}

int main(void)
{
    uint32_t got = 0;

    unlock();
#if CASE == 1
    got = *(volatile uint32_t *)(STAGING_ADDR + 8);
#elif CASE == 2
    erase_spare();
    got = spare[1];
#elif CASE == 3
    program_spare(0x0000FFFFu);
    got = 1;
#elif CASE == 4
    got = ((uint32_t (*)(void))(APP_SLOT_ADDR | 1u))();
#elif CASE == 5
    erase_spare();
    program_spare(0x12345678u);
    got = spare[0];
#else
#error "CASE must be 1..5"
#endif
    result[1] = got;
    result[0] = 1;
    for (;;)
        wfi();
}
