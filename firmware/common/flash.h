/*
 * flash.h - the flash operations that the update logic needs.
 *
 * The journal, image verification, copy-down and staging code reach flash only
 * through these functions (as MCUboot's bootutil does through its flash area API).
 * On the chip, flash_stm32.c implements them after RM0090 section 3; on the host,
 * firmware/host/flash_sim.c implements them over an array with power cuts, so the same
 * update logic is unit-tested on the host and run in the emulator.
 */
#ifndef FLASH_H
#define FLASH_H

#include <stdint.h>

enum flash_status {
    FLASH_OK = 0,
    FLASH_ERR_ARG = -1,     /* address, length or sector outside what is allowed */
    FLASH_ERR_WRP = -2,     /* write protection error (SR.WRPERR) */
    FLASH_ERR_PGA = -3,     /* programming alignment error (SR.PGAERR) */
    FLASH_ERR_PGP = -4,     /* programming parallelism error (SR.PGPERR) */
    FLASH_ERR_PGS = -5,     /* programming sequence error (SR.PGSERR) */
    FLASH_ERR_OPER = -6,    /* operation error (SR.OPERR) */
    FLASH_ERR_VERIFY = -7,  /* read back differs from what was programmed */
    FLASH_ERR_LOCKED = -8   /* the unlock sequence did not unlock CR */
};

/* Sector geometry, from FLASH_SECTOR_SIZES_KIB in flash_layout.h. */
int flash_sector_of(uint32_t addr);          /* sector holding addr, or -1 */
uint32_t flash_sector_addr(unsigned sector);
uint32_t flash_sector_size(unsigned sector);

/* Erase one sector to 0xFF; checks it reads back erased. */
int flash_erase_sector(unsigned sector);

/* Program len bytes at addr with PSIZE x32: addr and len multiples of 4; reads back. */
int flash_program(uint32_t addr, const void *src, uint32_t len);

/* Read len bytes at addr (memory-mapped on the chip). */
void flash_read(uint32_t addr, void *dst, uint32_t len);

const char *flash_strerror(int status);

#endif /* FLASH_H */
