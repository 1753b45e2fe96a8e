/*
 * flag_boot.c - the sample-flag bootloader's update logic.
 *
 * The flag stays set until the application slot holds the staged image and its CRC
 * matches, so a power cut anywhere before that redoes the whole copy at the next boot;
 * erasing the flag area is the last step. A staged image that fails its checks only
 * clears the flag: the application slot is not touched.
 */
#include "flag_boot.h"

#include <stdint.h>

#include "console.h"
#include "flash.h"
#include "flash_layout.h"
#include "update_flag.h"

#define COPY_CHUNK 1024u
#define COPY_ATTEMPTS 2

/* Erase each slot sector the image covers and program it from staging. */
static int copy_to_slot(uint32_t size)
{
    static uint8_t buf[COPY_CHUNK];
    uint32_t words = (size + 3u) & ~3u;   /* the staged tail is padded with 0xFF */
    uint32_t off = 0, end, n;
    unsigned sector;
    int st = FLASH_OK;

    for (sector = APP_SLOT_FIRST_SECTOR; st == FLASH_OK && off < words; sector++) {
        end = off + flash_sector_size(sector);
        if (end > words)
            end = words;
        st = flash_erase_sector(sector);
        for (; st == FLASH_OK && off < end; off += n) {
            n = end - off < COPY_CHUNK ? end - off : COPY_CHUNK;
            flash_read(STAGING_ADDR + off, buf, n);
            st = flash_program(APP_SLOT_ADDR + off, buf, n);
        }
    }
    return st;
}

/* 1: the slot holds the staged image; 0: it could not be made to. */
static int apply_update(const struct update_flag *f)
{
    int attempt, st;

    console_printf("[boot] flag set, copying %u bytes\r\n", (unsigned)f->size);
    for (attempt = 0; attempt < COPY_ATTEMPTS; attempt++) {
        st = copy_to_slot(f->size);
        if (st != FLASH_OK)
            console_printf("[boot] copy failed: %s\r\n", flash_strerror(st));
        else if (update_crc(APP_SLOT_ADDR, f->size) != f->crc)
            console_printf("[boot] copy failed: slot CRC mismatch\r\n");
        else
            return 1;
    }
    return 0;
}

static void clear_flag(void)
{
    int st = update_flag_clear();

    /* Not fatal: a flag left set redoes an update that is already in place. */
    if (st != FLASH_OK)
        console_printf("[boot] clearing the flag failed: %s\r\n", flash_strerror(st));
}

enum flag_boot_outcome flag_boot_decide(void)
{
    struct update_flag f;
    uint32_t vec[2];
    const char *problem;

    update_flag_read(&f);
    if (update_flag_is_set(&f)) {
        problem = update_image_problem(STAGING_ADDR, f.size, f.crc, 1);
        if (problem != 0) {
            console_printf("[boot] flag set, staged image refused: %s\r\n", problem);
            clear_flag();
        } else if (apply_update(&f)) {
            clear_flag();
            console_printf("[boot] update applied, flag cleared\r\n");
        } else {
            console_printf("[boot] staying in the bootloader, the flag stays set\r\n");
            return FLAG_BOOT_COPY_FAILED;
        }
    }
    flash_read(APP_SLOT_ADDR, vec, sizeof vec);
    if (!update_vectors_ok(vec[0], vec[1])) {
        console_printf("[boot] no valid application\r\n");
        return FLAG_BOOT_NO_APP;
    }
    console_printf("[boot] starting application\r\n");
    return FLAG_BOOT_JUMP;
}
