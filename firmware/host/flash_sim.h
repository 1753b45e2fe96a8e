/*
 * flash_sim.h - flash.h over an array, for the host tests (docs/bootloader.md).
 *
 * The real STM32F407 geometry (flash_geometry.c), the NOR rule (programming only clears
 * bits, erasing a whole sector sets them), sector 0 refused as on the chip, and power
 * cuts: "cut before operation N" makes operation N and everything after it not happen,
 * by longjmp to the jmp_buf the test set. An erase or a word program is one operation.
 * A torn cut does part of operation N first: part of the sector erased, or a word with
 * only some of its bits cleared.
 */
#ifndef FLASH_SIM_H
#define FLASH_SIM_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "flash_layout.h"

enum sim_cut_kind { SIM_CUT_ATOMIC = 0, SIM_CUT_TORN = 1 };
enum sim_op_kind { SIM_OP_ERASE = 1, SIM_OP_PROGRAM = 2 };

struct sim_op {
    uint8_t kind;     /* enum sim_op_kind */
    uint32_t addr;    /* ERASE: sector number; PROGRAM: word address */
    uint32_t value;   /* PROGRAM: the word */
};

extern uint8_t flash_sim_mem[FLASH_TOTAL_SIZE];

void flash_sim_reset(void);                  /* all erased, counters zero, no cut, no log */
uint8_t *flash_sim_at(uint32_t addr);        /* pointer into the array (aborts if outside) */

unsigned long flash_sim_ops(void);           /* operations started since the counter reset */
void flash_sim_count_from_zero(void);
unsigned long flash_sim_overprograms(void);  /* programs of a word that was not erased */

/* Sectors changed by operations since the last flash_sim_clear_dirty() (bit n: sector n). */
uint32_t flash_sim_dirty(void);
void flash_sim_clear_dirty(void);

/* Arm a cut before operation `op` (counted from the last counter reset). */
void flash_sim_arm_cut(unsigned long op, enum sim_cut_kind kind, uint32_t seed, jmp_buf *to);
void flash_sim_disarm(void);
int flash_sim_was_cut(void);

/* Record every operation into log (up to cap); flash_sim_log_len() says how many. */
void flash_sim_log(struct sim_op *log, size_t cap);
size_t flash_sim_log_len(void);

/* Do one logged operation on a memory image, whole or torn. */
void flash_sim_apply(const struct sim_op *op, uint8_t *mem);
void flash_sim_apply_torn(const struct sim_op *op, uint8_t *mem, uint32_t seed);

uint32_t sim_rand(uint32_t *state);          /* xorshift32: every random choice seeded */

#endif /* FLASH_SIM_H */
