/* Test firmware of the engine tests: linked at the start of flash, like the bootloader.
 * Addresses come from flash_layout.h through the C preprocessor. */
#include "flash_layout.h"

MEMORY
{
    FLASH (rx)  : ORIGIN = FLASH_BASE_ADDR, LENGTH = FLASH_TOTAL_SIZE
    RAM   (rwx) : ORIGIN = SRAM_BASE_ADDR,  LENGTH = SRAM_TOTAL_SIZE
}

_estack = ORIGIN(RAM) + LENGTH(RAM);

SECTIONS
{
    .text : {
        KEEP(*(.vectors))
        *(.text*)
        *(.rodata*)
        . = ALIGN(4);
    } > FLASH
    _sidata = LOADADDR(.data);
    .data : {
        _sdata = .;
        *(.data*)
        . = ALIGN(4);
        _edata = .;
    } > RAM AT > FLASH
    .bss (NOLOAD) : {
        _sbss = .;
        *(.bss*) *(COMMON)
        . = ALIGN(4);
        _ebss = .;
    } > RAM
    /* Survives a system reset: startup does not clear it. */
    .noinit (NOLOAD) : { *(.noinit*) } > RAM
}
