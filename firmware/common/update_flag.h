/*
 * update_flag.h - the sample-flag device's update protocol in flash (docs/sample-flag.md):
 * one flag area (sector FLAG_AREA_SECTOR) of three words, flag, size and CRC-32 of the
 * image waiting in staging, and the checks both sides make of a raw image.
 *
 * Plain C over flash.h: the bootloader (boot/flag_boot.c) and the application's staging
 * writer (app/staging_flag.c) use it on the chip, the host tests over flash_sim.c.
 * Only builds with firmware/devices/sample-flag/flash_layout.h link it.
 */
#ifndef UPDATE_FLAG_H
#define UPDATE_FLAG_H

#include <stdint.h>

struct update_flag {
    uint32_t flag;    /* FLAG_SET_VALUE: an update was received; anything else: none */
    uint32_t size;    /* bytes of the staged image */
    uint32_t crc;     /* CRC-32 (IEEE, as zlib) of those bytes */
};

void update_flag_read(struct update_flag *f);
int update_flag_is_set(const struct update_flag *f);
/* The flag area reads erased (all three words 0xFFFFFFFF). */
int update_flag_erased(void);
/* Clear the flag: erase the flag area's sector. A flash status (flash.h). */
int update_flag_clear(void);
/* Size and CRC first, the flag word last: the commit point. A flash status. */
int update_flag_commit(uint32_t size, uint32_t crc);

/* A vector table's first two words look like an application linked for the slot. */
int update_vectors_ok(uint32_t initial_sp, uint32_t reset_handler);
/* CRC-32 of size bytes of flash at addr. */
uint32_t update_crc(uint32_t addr, uint32_t size);
/* Why the image of size bytes at addr cannot be used (NULL when it can): size, vector
 * table, and (when check_crc) its CRC against crc. */
const char *update_image_problem(uint32_t addr, uint32_t size, uint32_t crc, int check_crc);

#endif /* UPDATE_FLAG_H */
