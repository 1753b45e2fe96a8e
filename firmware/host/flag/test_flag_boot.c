/*
 * test_flag_boot.c - the sample-flag bootloader's logic (boot/flag_boot.c) on the
 * simulated flash: what it decides for each flag state, and an update cut by power
 * before every flash operation (whole and torn), with a second cut during recovery.
 * Whatever the cut, the next boots end in the new application with the flag cleared:
 * the flag was set before the first boot, so the update was committed.
 *
 * Built with firmware/devices/sample-flag/flash_layout.h first (-iquote).
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crc32.h"
#include "flag_boot.h"
#include "flash_layout.h"
#include "flash_sim.h"

#define SMALL_SIZE  6002u              /* every operation of its copy is cut */
#define LARGE_SIZE  (140u * 1024u + 2) /* spans slot sectors 5 and 6: every 97th op */

static uint8_t v1[8192], v2[LARGE_SIZE];

static void make_image(uint8_t *img, uint32_t size, uint32_t seed)
{
    uint32_t i, sp = SRAM_BASE_ADDR + SRAM_TOTAL_SIZE, reset = (APP_SLOT_ADDR + 0x1C1u) | 1u;

    for (i = 0; i < size; i++)
        img[i] = (uint8_t)(sim_rand(&seed) >> 7);
    memcpy(img, &sp, 4);
    memcpy(img + 4, &reset, 4);
}

static void put_word(uint32_t addr, uint32_t w)
{
    memcpy(flash_sim_at(addr), &w, 4);
}

/* The board before the boot: v1 in the slot, `staged` in staging and the flag words. */
static void board(const uint8_t *staged, uint32_t size, uint32_t flag, uint32_t crc)
{
    flash_sim_reset();
    memcpy(flash_sim_at(APP_SLOT_ADDR), v1, sizeof v1);
    if (staged != NULL)
        memcpy(flash_sim_at(STAGING_ADDR), staged, size);
    put_word(FLAG_AREA_ADDR + FLAG_SIZE_OFFSET, size);
    put_word(FLAG_AREA_ADDR + FLAG_CRC_OFFSET, crc);
    put_word(FLAG_AREA_ADDR + FLAG_WORD_OFFSET, flag);
    flash_sim_count_from_zero();
}

static void flagged(const uint8_t *img, uint32_t size)
{
    board(img, size, FLAG_SET_VALUE, crc32_update(0, img, size));
}

static int flag_erased(void)
{
    static const uint8_t erased[12] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                        0xFF, 0xFF, 0xFF, 0xFF };
    return memcmp(flash_sim_at(FLAG_AREA_ADDR), erased, sizeof erased) == 0;
}

static int slot_holds(const uint8_t *img, uint32_t size)
{
    return memcmp(flash_sim_at(APP_SLOT_ADDR), img, size) == 0;
}

static void test_decisions(void)
{
    uint8_t bad[SMALL_SIZE];

    /* No flag: start v1, nothing written. */
    board(NULL, 0, 0xFFFFFFFFu, 0xFFFFFFFFu);
    CHECK_EQ(flag_boot_decide(), FLAG_BOOT_JUMP);
    CHECK_EQ(flash_sim_ops(), 0);

    /* Flag set, good image: copied, flag cleared, started. */
    flagged(v2, SMALL_SIZE);
    CHECK_EQ(flag_boot_decide(), FLAG_BOOT_JUMP);
    CHECK(slot_holds(v2, SMALL_SIZE));
    CHECK(flag_erased());

    /* Flag set, CRC wrong: flag cleared, v1 untouched and started. */
    memcpy(bad, v2, sizeof bad);
    board(bad, sizeof bad, FLAG_SET_VALUE, crc32_update(0, bad, sizeof bad) ^ 1u);
    CHECK_EQ(flag_boot_decide(), FLAG_BOOT_JUMP);
    CHECK(slot_holds(v1, sizeof v1));
    CHECK(flag_erased());
    CHECK_EQ(flash_sim_ops(), 1);   /* the flag sector's erase, nothing else */

    /* Flag set, vectors not for the slot (CRC right): refused the same way. */
    bad[4] = 0x01;
    bad[5] = bad[6] = bad[7] = 0;   /* reset handler 0x00000001 */
    flagged(bad, sizeof bad);
    CHECK_EQ(flag_boot_decide(), FLAG_BOOT_JUMP);
    CHECK(slot_holds(v1, sizeof v1));
    CHECK(flag_erased());

    /* A size larger than the slot is refused before anything is read. */
    board(v2, SMALL_SIZE, FLAG_SET_VALUE, 0);
    put_word(FLAG_AREA_ADDR + FLAG_SIZE_OFFSET, APP_SLOT_SIZE + 4u);
    CHECK_EQ(flag_boot_decide(), FLAG_BOOT_JUMP);
    CHECK(slot_holds(v1, sizeof v1));

    /* A flag word that is not exactly the set value is no flag. */
    board(v2, SMALL_SIZE, FLAG_SET_VALUE & ~0x100u, crc32_update(0, v2, SMALL_SIZE));
    CHECK_EQ(flag_boot_decide(), FLAG_BOOT_JUMP);
    CHECK(slot_holds(v1, sizeof v1));
    CHECK_EQ(flash_sim_ops(), 0);

    /* Nothing anywhere: stay in the bootloader. */
    flash_sim_reset();
    CHECK_EQ(flag_boot_decide(), FLAG_BOOT_NO_APP);
    CHECK_EQ(flash_sim_ops(), 0);

    /* An empty slot and a good staged image: the first install. */
    flash_sim_reset();
    memcpy(flash_sim_at(STAGING_ADDR), v2, SMALL_SIZE);
    put_word(FLAG_AREA_ADDR + FLAG_SIZE_OFFSET, SMALL_SIZE);
    put_word(FLAG_AREA_ADDR + FLAG_CRC_OFFSET, crc32_update(0, v2, SMALL_SIZE));
    put_word(FLAG_AREA_ADDR + FLAG_WORD_OFFSET, FLAG_SET_VALUE);
    CHECK_EQ(flag_boot_decide(), FLAG_BOOT_JUMP);
    CHECK(slot_holds(v2, SMALL_SIZE));
}

/* Boot until a boot is not cut; returns its outcome. */
static enum flag_boot_outcome boot_after_cut(void)
{
    return flag_boot_decide();
}

static unsigned long cuts, second_cuts, failures;

static void cut_at(uint32_t size, unsigned long op, enum sim_cut_kind kind, uint32_t seed)
{
    jmp_buf jb;
    enum flag_boot_outcome out;
    volatile int stage = 0;

    flagged(v2, size);
    flash_sim_arm_cut(op, kind, seed, &jb);
    if (setjmp(jb) == 0) {
        (void)flag_boot_decide();
        stage = 1;   /* the cut came after the last operation: nothing to recover */
    }
    flash_sim_disarm();
    cuts++;
    if (stage == 0 && (seed & 3u) == 0) {
        /* Cut the recovery too, somewhere in its first half. */
        flash_sim_count_from_zero();
        flash_sim_arm_cut(sim_rand(&seed) % 4096u, kind, seed, &jb);
        if (setjmp(jb) == 0)
            (void)flag_boot_decide();
        else
            second_cuts++;
        flash_sim_disarm();
    }
    flash_sim_count_from_zero();
    out = boot_after_cut();
    if (out != FLAG_BOOT_JUMP || !slot_holds(v2, size) || !flag_erased()) {
        failures++;
        if (failures <= 5)
            fprintf(stderr, "cut %s at op %lu (size %u): outcome %d, slot %s, flag %s\n",
                    kind == SIM_CUT_TORN ? "torn" : "whole", op, (unsigned)size, (int)out,
                    slot_holds(v2, size) ? "new" : "not new",
                    flag_erased() ? "cleared" : "left");
    }
}

static void campaign(uint32_t size, unsigned long stride)
{
    unsigned long ops, op;
    uint32_t seed = 0xF1A6u + size;

    flagged(v2, size);
    CHECK_EQ(flag_boot_decide(), FLAG_BOOT_JUMP);
    ops = flash_sim_ops();
    /* Erase and program of every sector the image covers, then the flag's erase. */
    CHECK_EQ(ops, (size > 128u * 1024u ? 2u : 1u) + (size + 3u) / 4u + 1u);
    for (op = 0; op < ops; op += (op < 8 || op + 8 >= ops) ? 1 : stride) {
        cut_at(size, op, SIM_CUT_ATOMIC, sim_rand(&seed));
        cut_at(size, op, SIM_CUT_TORN, sim_rand(&seed));
    }
    /* The last operation (the flag's erase) and the one past it. */
    cut_at(size, ops - 1, SIM_CUT_TORN, 1);
    cut_at(size, ops, SIM_CUT_ATOMIC, 2);
}

int main(void)
{
    make_image(v1, sizeof v1, 1);
    make_image(v2, sizeof v2, 2);
    test_decisions();
    campaign(SMALL_SIZE, 1);
    campaign(LARGE_SIZE, 97);
    printf("flag_boot campaign: %lu cuts, %lu second cuts, %lu failures\n", cuts, second_cuts,
           failures);
    CHECK(cuts > 2u * (SMALL_SIZE / 4u));
    CHECK(second_cuts > 0);
    CHECK_EQ(failures, 0);
    return check_report("flag_boot");
}
