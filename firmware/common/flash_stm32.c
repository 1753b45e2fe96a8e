/*
 * flash_stm32.c - flash.h on the STM32F407's flash interface (RM0090 section 3.6).
 *
 * Sector 0 holds the bootloader and is never erased or programmed by this driver,
 * whoever calls it: a bug in the update logic must not be able to brick the board.
 */
#include <string.h>

#include "flash.h"
#include "flash_layout.h"
#include "cortexm.h"
#include "regs/flash.h"

/* A 128 KiB erase takes up to 2 s (datasheet); the loop below costs a few cycles. */
#define BSY_SPINS 0x20000000u

static int wait_not_busy(void)
{
    uint32_t n;

    for (n = 0; n < BSY_SPINS; n++)
        if (!(FLASH_SR & FLASH_SR_BSY))
            return FLASH_OK;
    return FLASH_ERR_OPER;
}

static int status_of(uint32_t sr)
{
    if (sr & FLASH_SR_WRPERR) return FLASH_ERR_WRP;
    if (sr & FLASH_SR_PGAERR) return FLASH_ERR_PGA;
    if (sr & FLASH_SR_PGPERR) return FLASH_ERR_PGP;
    if (sr & FLASH_SR_PGSERR) return FLASH_ERR_PGS;
    if (sr & FLASH_SR_OPERR) return FLASH_ERR_OPER;
    return FLASH_OK;
}

static int unlock(void)
{
    if (FLASH_CR & FLASH_CR_LOCK) {
        FLASH_KEYR = FLASH_KEY1;
        FLASH_KEYR = FLASH_KEY2;
    }
    return (FLASH_CR & FLASH_CR_LOCK) ? FLASH_ERR_LOCKED : FLASH_OK;
}

/* Wait for idle and clear old error flags (write 1 to clear): a stale PGSERR would
 * block the next operation (RM0090 3.6.2). */
static int begin(void)
{
    int st = unlock();

    if (st == FLASH_OK)
        st = wait_not_busy();
    FLASH_SR = FLASH_SR_ERRORS | FLASH_SR_EOP;
    return st;
}

static void end(void)
{
    FLASH_CR &= ~(FLASH_CR_PG | FLASH_CR_SER | FLASH_CR_SNB_MASK);
    FLASH_CR |= FLASH_CR_LOCK;
}

/* The data cache may hold words of the sector just changed (RM0090 3.5.2). */
static void flush_data_cache(void)
{
    uint32_t acr = FLASH_ACR;

    if (acr & FLASH_ACR_DCEN) {
        FLASH_ACR = acr & ~FLASH_ACR_DCEN;
        FLASH_ACR = (acr & ~FLASH_ACR_DCEN) | FLASH_ACR_DCRST;
        FLASH_ACR = acr;
    }
}

int flash_erase_sector(unsigned sector)
{
    uint32_t addr, size, i, sr;
    int st;

    if (sector == BOOT_SECTOR || sector >= FLASH_SECTOR_COUNT)
        return FLASH_ERR_ARG;
    st = begin();
    if (st == FLASH_OK) {
        FLASH_CR = (FLASH_CR & ~(FLASH_CR_PSIZE_MASK | FLASH_CR_SNB_MASK)) |
                   FLASH_CR_PSIZE_X32 | FLASH_CR_SER | (sector << FLASH_CR_SNB_SHIFT);
        FLASH_CR |= FLASH_CR_STRT;
        cpu_dsb();
        st = wait_not_busy();
        sr = FLASH_SR;
        FLASH_SR = FLASH_SR_ERRORS | FLASH_SR_EOP;
        if (st == FLASH_OK)
            st = status_of(sr);
    }
    end();
    flush_data_cache();
    if (st != FLASH_OK)
        return st;

    addr = flash_sector_addr(sector);
    size = flash_sector_size(sector);
#ifdef FLASH_BUG_NO_READ_BACK
    (void)i;
    (void)addr;
    (void)size;
    return FLASH_OK;   /* BUG: EOP without an error flag is taken for "erased" */
#endif
    for (i = 0; i < size; i += 4)
        if (*(const volatile uint32_t *)(uintptr_t)(addr + i) != 0xFFFFFFFFu)
            return FLASH_ERR_VERIFY;
    return FLASH_OK;
}

static int range_allowed(uint32_t addr, uint32_t len)
{
    uint32_t first_allowed = BOOT_ADDR + BOOT_SIZE;
    uint32_t end_of_flash = FLASH_BASE_ADDR + FLASH_TOTAL_SIZE;

    return addr >= first_allowed && addr <= end_of_flash && len <= end_of_flash - addr;
}

int flash_program(uint32_t addr, const void *src, uint32_t len)
{
    const uint8_t *p = src;
    uint32_t i, sr;
    int st;

    if ((addr | len) & 3u || !range_allowed(addr, len))
        return FLASH_ERR_ARG;
    if (len == 0)
        return FLASH_OK;
    st = begin();
    if (st == FLASH_OK) {
        FLASH_CR = (FLASH_CR & ~(FLASH_CR_PSIZE_MASK | FLASH_CR_SER | FLASH_CR_SNB_MASK)) |
                   FLASH_CR_PSIZE_X32 | FLASH_CR_PG;
        for (i = 0; i < len && st == FLASH_OK; i += 4) {
            uint32_t word;
            memcpy(&word, p + i, 4);   /* src need not be aligned */
            *(volatile uint32_t *)(uintptr_t)(addr + i) = word;
            cpu_dsb();
            st = wait_not_busy();
            sr = FLASH_SR;
            if (st == FLASH_OK)
                st = status_of(sr);
        }
        FLASH_SR = FLASH_SR_ERRORS | FLASH_SR_EOP;
    }
    end();
    flush_data_cache();
    if (st != FLASH_OK)
        return st;
#ifdef FLASH_BUG_NO_READ_BACK
    return FLASH_OK;   /* BUG: EOP without an error flag is taken for "programmed" */
#endif
    return memcmp((const void *)(uintptr_t)addr, src, len) ? FLASH_ERR_VERIFY : FLASH_OK;
}

void flash_read(uint32_t addr, void *dst, uint32_t len)
{
    memcpy(dst, (const void *)(uintptr_t)addr, len);
}
