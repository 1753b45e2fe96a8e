/*
 * flash_layout.h - the one definition of the sample-flag device's flash layout
 * (docs/sample-flag.md).
 *
 * The sample-flag build puts this directory first on the include path, so the shared
 * modules (flash driver, geometry) and the linker scripts read these numbers instead of
 * firmware/include/flash_layout.h. Same rules as that file: one "#define NAME value" per
 * line, plain integers, so pybench.layout.parse_header() reads it too. The guard is the
 * same name on purpose: the parser skips it, and only one layout is ever in a build.
 */
#ifndef FLASH_LAYOUT_H
#define FLASH_LAYOUT_H

/* The chip: 1 MiB of flash in 12 sectors (RM0090 table 5, single bank). */
#define FLASH_BASE_ADDR         0x08000000
#define FLASH_TOTAL_SIZE        0x00100000
#define FLASH_SECTOR_COUNT      12
#define FLASH_SECTOR_SIZES_KIB  16, 16, 16, 16, 64, 128, 128, 128, 128, 128, 128, 128

/* RAM: a valid initial stack pointer lies in one of these. */
#define SRAM_BASE_ADDR          0x20000000
#define SRAM_TOTAL_SIZE         0x00020000
#define CCM_BASE_ADDR           0x10000000
#define CCM_TOTAL_SIZE          0x00010000

/* Sector 0: the bootloader. */
#define BOOT_ADDR               0x08000000
#define BOOT_SIZE               0x00004000
#define BOOT_SECTOR             0

/*
 * Sector 1: the update flag area, three words. The writer programs SIZE and CRC first and
 * the flag word last (the commit point); clearing the flag is erasing the sector.
 */
#define FLAG_AREA_ADDR          0x08004000
#define FLAG_AREA_SIZE          0x00004000
#define FLAG_AREA_SECTOR        1
#define FLAG_WORD_OFFSET        0
#define FLAG_SIZE_OFFSET        4
#define FLAG_CRC_OFFSET         8
#define FLAG_SET_VALUE          0x55AA55AA

/* Sectors 2-4: unused. */

/* Sectors 5-7: the application slot; a raw binary linked here, vector table first. */
#define APP_SLOT_ADDR           0x08020000
#define APP_SLOT_SIZE           0x00060000
#define APP_SLOT_FIRST_SECTOR   5
#define APP_SLOT_LAST_SECTOR    7
#define APP_LOAD_ADDR           0x08020000
#define IMAGE_MAX_SIZE          0x00060000

/* Sector 8: unused. */

/* Sectors 9-11: staging, where a received image waits for the bootloader. */
#define STAGING_ADDR            0x080A0000
#define STAGING_SIZE            0x00060000
#define STAGING_FIRST_SECTOR    9
#define STAGING_LAST_SECTOR     11

#endif /* FLASH_LAYOUT_H */
