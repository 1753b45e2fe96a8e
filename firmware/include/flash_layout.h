/*
 * flash_layout.h - the one definition of the STM32F407VG flash layout.
 *
 * The C code, the linker scripts (through the C preprocessor) and the Python bench
 * (pybench/layout.py parses this file) all read these numbers from here. Keep one
 * "#define NAME value" per line, values as plain hex or decimal integers, no casts or
 * suffixes: linker scripts and the Python parser read them too.
 */
#ifndef FLASH_LAYOUT_H
#define FLASH_LAYOUT_H

/* The chip: 1 MiB of flash in 12 sectors (RM0090 table 5, single bank). */
#define FLASH_BASE_ADDR         0x08000000
#define FLASH_TOTAL_SIZE        0x00100000
#define FLASH_SECTOR_COUNT      12
#define FLASH_SECTOR_SIZES_KIB  16, 16, 16, 16, 64, 128, 128, 128, 128, 128, 128, 128

/* RAM as the linker scripts see it. */
#define SRAM_BASE_ADDR          0x20000000
#define SRAM_TOTAL_SIZE         0x00020000
#define CCM_BASE_ADDR           0x10000000
#define CCM_TOTAL_SIZE          0x00010000

/*
 * Sectors 0-1: the bootloader (32 KiB). It verifies ECDSA P-256 signatures with mbedTLS,
 * which does not fit one 16 KiB sector beside the update logic (docs/bootloader.md).
 * Neither flash driver erases or programs these sectors.
 */
#define BOOT_ADDR               0x08000000
#define BOOT_SIZE               0x00008000
#define BOOT_SECTOR             0
#define BOOT_LAST_SECTOR        1

/* Sectors 2-3: the update journal, two sectors so that one is always intact. */
#define JOURNAL_A_ADDR          0x08008000
#define JOURNAL_B_ADDR          0x0800C000
#define JOURNAL_SECTOR_SIZE     0x00004000
#define JOURNAL_A_SECTOR        2
#define JOURNAL_B_SECTOR        3
#define JOURNAL_RECORD_SIZE     64

/*
 * No sector is spare any more. The flash-model tests (tests/engine) run programs of their
 * own that own the whole chip and need a 16 KiB sector to scribble on: sector 3, under
 * this name. No firmware of ours uses these three names.
 */
#define SPARE_ADDR              0x0800C000
#define SPARE_SIZE              0x00004000
#define SPARE_SECTOR            3

/* Sectors 4-7: the application slot the bootloader jumps to (448 KiB). */
#define APP_SLOT_ADDR           0x08010000
#define APP_SLOT_SIZE           0x00070000
#define APP_SLOT_FIRST_SECTOR   4
#define APP_SLOT_LAST_SECTOR    7

/* Sectors 8-11: the staging slot where a received image waits (512 KiB). */
#define STAGING_ADDR            0x08080000
#define STAGING_SIZE            0x00080000
#define STAGING_FIRST_SECTOR    8
#define STAGING_LAST_SECTOR     11

/*
 * An image is a 512-byte header followed by the body. The header fills the start of
 * a slot so that the body's vector table lands on a 512-byte boundary, as VTOR needs
 * for the F407's 98 vectors. An image must fit the application slot.
 */
#define IMAGE_HEADER_SIZE       0x200
#define APP_LOAD_ADDR           0x08010200
#define IMAGE_MAX_SIZE          0x00070000

#endif /* FLASH_LAYOUT_H */
