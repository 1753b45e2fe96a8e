/*
 * ramcopy.c - boot-ramcopy.elf: the seed design, kept as a known-bad variant for the
 * power-cut campaign (docs/bootloader.md). Never the default bootloader.
 *
 * One "update received" flag word at JOURNAL_A_ADDR (anything but erased means set),
 * no journal, no verification of the staged image or of the slot, a copy routine that
 * runs from RAM. The flag is cleared (its sector erased) as soon as it is seen, before
 * the copy, so that a bad image can never cause an endless update loop: the reasoning of
 * the seed design. A cut anywhere in the copy then leaves a half-written slot with the
 * flag already gone, and the next boot jumps into it without any check.
 */
#include <stdint.h>

#include "clock.h"
#include "console.h"
#include "cortexm.h"
#include "flash.h"
#include "flash_layout.h"
#include "handover.h"
#include "image.h"
#include "regs/flash.h"
#include "regs/nvic.h"
#include "regs/scb.h"
#include "regs/systick.h"

#define FLAG_ADDR JOURNAL_A_ADDR
#define RAMFUNC __attribute__((section(".ramfunc"), noinline, long_call))
#define MAX_SECTORS (APP_SLOT_LAST_SECTOR - APP_SLOT_FIRST_SECTOR + 1)

struct copy_plan {
    uint32_t size;                      /* bytes to copy from staging */
    uint32_t count;                     /* slot sectors to erase */
};

/* Everything between unlock and lock runs from RAM and calls nothing in flash. */
static RAMFUNC void ram_wait(void)
{
    while (FLASH_SR & FLASH_SR_BSY)
        ;
}

static RAMFUNC void ram_erase(uint32_t sector)
{
    ram_wait();
    FLASH_SR = FLASH_SR_ERRORS | FLASH_SR_EOP;
    FLASH_CR = FLASH_CR_PSIZE_X32 | FLASH_CR_SER | (sector << FLASH_CR_SNB_SHIFT);
    FLASH_CR |= FLASH_CR_STRT;
    ram_wait();
    FLASH_CR = 0;
}

static RAMFUNC void ram_copy(const struct copy_plan *plan)
{
    uint32_t i;
    volatile uint32_t *dst = (volatile uint32_t *)APP_SLOT_ADDR;
    const volatile uint32_t *src = (const volatile uint32_t *)STAGING_ADDR;

    FLASH_KEYR = FLASH_KEY1;
    FLASH_KEYR = FLASH_KEY2;
    ram_erase(JOURNAL_A_SECTOR);   /* "clear the flag" first: a whole sector erase */
    for (i = 0; i < plan->count; i++)
        ram_erase(APP_SLOT_FIRST_SECTOR + i);
    FLASH_CR = FLASH_CR_PSIZE_X32 | FLASH_CR_PG;
    for (i = 0; i < plan->size / 4u; i++) {
        dst[i] = src[i];
        ram_wait();
    }
    FLASH_CR = FLASH_CR_LOCK;
}

int main(void)
{
    struct copy_plan plan;
    const struct image_header *h = (const struct image_header *)STAGING_ADDR;
    uint32_t covered = 0;

    clock_init();
    console_init(clock_pclk2_hz());
    console_printf("\r\nboot: boot-ramcopy, clock %s\r\n", clock_source());

    if (*(const volatile uint32_t *)FLAG_ADDR != 0xFFFFFFFFu) {
        /* The seed trusted the header's size; only clamp it so the copy stays in the slot. */
        plan.size = IMAGE_HEADER_SIZE + h->body_size;
        if (h->body_size > APP_SLOT_SIZE - IMAGE_HEADER_SIZE)
            plan.size = APP_SLOT_SIZE;
        plan.size &= ~3u;
        plan.count = 0;
        while (covered < plan.size && plan.count < MAX_SECTORS) {
            covered += flash_sector_size(APP_SLOT_FIRST_SECTOR + plan.count++);
        }
        console_printf("boot: update flag set, copying %u bytes from staging\r\n",
                       (unsigned)plan.size);
        console_flush();
        cpu_irq_disable();
        ram_copy(&plan);
        console_printf("boot: flag cleared, copy done\r\n");
    }
    console_printf("boot: jump to application at 0x%08x\r\n", (unsigned)APP_LOAD_ADDR);
    console_flush();
    handover_start_image(APP_LOAD_ADDR);
}
