/*
 * flag_boot.h - what the sample-flag bootloader decides at reset (docs/sample-flag.md):
 * apply a staged update when the flag says one was received, then start the application
 * if its vector table looks valid. Plain C over flash.h and update_flag.h, so the host
 * tests run it against a simulated flash with power cuts.
 */
#ifndef FLAG_BOOT_H
#define FLAG_BOOT_H

enum flag_boot_outcome {
    FLAG_BOOT_JUMP = 0,         /* start the application at APP_SLOT_ADDR */
    FLAG_BOOT_NO_APP = 1,       /* no valid application and nothing valid staged */
    FLAG_BOOT_COPY_FAILED = 2   /* the copy did not verify twice: the flag stays set */
};

enum flag_boot_outcome flag_boot_decide(void);

#endif /* FLAG_BOOT_H */
