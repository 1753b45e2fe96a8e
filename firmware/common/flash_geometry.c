/*
 * flash_geometry.c - sector numbers and addresses from FLASH_SECTOR_SIZES_KIB.
 *
 * Plain C: shared by the chip driver (flash_stm32.c) and the host simulator, so both
 * agree on the geometry the layout header defines.
 */
#include "flash.h"
#include "flash_layout.h"

static const uint16_t sector_kib[FLASH_SECTOR_COUNT] = { FLASH_SECTOR_SIZES_KIB };

uint32_t flash_sector_size(unsigned sector)
{
    return sector < FLASH_SECTOR_COUNT ? (uint32_t)sector_kib[sector] * 1024u : 0u;
}

uint32_t flash_sector_addr(unsigned sector)
{
    uint32_t addr = FLASH_BASE_ADDR;
    unsigned i;

    for (i = 0; i < sector && i < FLASH_SECTOR_COUNT; i++)
        addr += flash_sector_size(i);
    return addr;
}

int flash_sector_of(uint32_t addr)
{
    uint32_t base = FLASH_BASE_ADDR;
    unsigned i;

    if (addr < FLASH_BASE_ADDR)
        return -1;
    for (i = 0; i < FLASH_SECTOR_COUNT; i++) {
        uint32_t size = flash_sector_size(i);
        if (addr - base < size)
            return (int)i;
        base += size;
    }
    return -1;
}

const char *flash_strerror(int status)
{
    switch (status) {
    case FLASH_OK: return "ok";
    case FLASH_ERR_ARG: return "bad argument";
    case FLASH_ERR_WRP: return "write protected";
    case FLASH_ERR_PGA: return "alignment error";
    case FLASH_ERR_PGP: return "parallelism error";
    case FLASH_ERR_PGS: return "sequence error";
    case FLASH_ERR_OPER: return "operation error";
    case FLASH_ERR_VERIFY: return "read back differs";
    case FLASH_ERR_LOCKED: return "cannot unlock";
    default: return "unknown error";
    }
}
