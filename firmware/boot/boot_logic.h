/*
 * boot_logic.h - what the bootloader decides at reset: journal, staged image, copy-down,
 * application slot. Plain C over flash.h, journal.h and image.h, so firmware/host runs
 * the same file against a simulated flash with power cuts.
 */
#ifndef BOOT_LOGIC_H
#define BOOT_LOGIC_H

#include <stdint.h>

enum boot_outcome {
    BOOT_JUMP = 0,       /* the application slot holds a verified image: start it */
    BOOT_NO_APP = 1,     /* nothing valid anywhere: wait for help */
    BOOT_RECOVERY = 2    /* a copy-down did not verify twice: stop before making it worse */
};

struct boot_decision {
    enum boot_outcome outcome;
    uint32_t version;    /* BOOT_JUMP: image_version in the slot */
    uint32_t load_addr;  /* BOOT_JUMP: where its vector table is */
};

void boot_decide(struct boot_decision *d);

#endif /* BOOT_LOGIC_H */
