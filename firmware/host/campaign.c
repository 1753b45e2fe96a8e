/*
 * campaign.c - power cuts against the real update logic on the host (docs/bootloader.md).
 *
 * One full update: the application stages a new image (CANCELLED, erase staging,
 * program, verify, STAGED), then the bootloader runs boot_decide(). The reference run
 * logs every flash operation. Cutting power before operation c leaves the flash exactly
 * as the first c operations made it (the update is deterministic), so the campaign
 * replays the log up to c, optionally tears operation c, and boots again from there,
 * for every c. For a seeded sample it also cuts the recovery boot itself (depth 2,
 * through flash_sim's longjmp cut), then boots a third time. After the last boot:
 *   - the bootloader jumps, and the application slot holds exactly the old or the new
 *     image, the one it jumps to;
 *   - once STAGED was committed, the slot holds the new image and the journal says DONE;
 *   - nothing programs a word that is not erased; a further reset changes nothing.
 * Any failure is printed with the arguments that reproduce it alone. Exit status 1 when
 * a check failed, 2 on bad arguments.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_logic.h"
#include "crc32.h"
#include "flash.h"
#include "flash_layout.h"
#include "flash_sim.h"
#include "image_host.h"
#include "image.h"
#include "journal.h"
#include "sha256.h"

extern int console_host_verbose;

/*
 * The bootloader's C statics (its files' .data and .bss, renamed by firmware/Makefile)
 * are set back before every simulated boot, as a reset sets them on the chip: a
 * bootloader that kept state in a static would otherwise carry it from one boot into
 * the next, and show up as a harness error instead of a verdict.
 */
extern char __start_bootlogic_data[] __attribute__((weak));
extern char __stop_bootlogic_data[] __attribute__((weak));
extern char __start_bootlogic_bss[] __attribute__((weak));
extern char __stop_bootlogic_bss[] __attribute__((weak));
static char *statics_at_start;
static unsigned long statics_resets;
static int keep_statics;      /* --keep-statics: the old harness, to show what it missed */

static void statics_keep(void)
{
    size_t n = (size_t)(__stop_bootlogic_data - __start_bootlogic_data);

    statics_at_start = malloc(n ? n : 1);
    if (statics_at_start == NULL) {
        fprintf(stderr, "campaign: out of memory\n");
        exit(2);
    }
    memcpy(statics_at_start, __start_bootlogic_data, n);
}

static void statics_reset(void)
{
    memcpy(__start_bootlogic_data, statics_at_start,
           (size_t)(__stop_bootlogic_data - __start_bootlogic_data));
    memset(__start_bootlogic_bss, 0, (size_t)(__stop_bootlogic_bss - __start_bootlogic_bss));
    statics_resets++;
}

static void boot(struct boot_decision *d)
{
    if (!keep_statics)
        statics_reset();
    boot_decide(d);
}

/* Small images keep 40 000 boots fast; the new one is larger than sector 4 (64 KiB), so
 * the copy-down spans two slot sectors and a resume after COPIED(1) is exercised. */
#define OLD_BODY (8u * 1024u)
#define NEW_BODY (66u * 1024u)
#define OLD_SIZE (IMAGE_HEADER_SIZE + OLD_BODY)
#define NEW_SIZE (IMAGE_HEADER_SIZE + NEW_BODY)
#define LOG_CAP 200000u
#define SECOND_CUTS 8u
#define UPLOAD_CHUNK 1024u

#if defined(BOOT_BUG_DONE_EARLY)
#define VARIANT_NAME "bug-done-early"
#elif defined(BOOT_BUG_PROGRESS_EARLY)
#define VARIANT_NAME "bug-progress-early"
#elif defined(BOOT_BUG_NO_CRC)
#define VARIANT_NAME "bug-no-crc"
#else
#define VARIANT_NAME "boot"
#endif
#define VARIANT VARIANT_NAME
#define PROGRAM (VARIANT_NAME[0] == 'b' && VARIANT_NAME[1] == 'u' ? "campaign-" VARIANT_NAME \
                                                                : "campaign")

struct options {
    unsigned journal_fill;     /* records already in the journal before the update */
    unsigned shard, shards;    /* this process takes the cuts c with c % shards == shard */
    unsigned stride;           /* 1: every operation; n: every nth word program */
    unsigned depth2;           /* first cuts (sampled) that also get second cuts */
    unsigned max_failures;
    uint32_t seed;
    long only;                 /* >= 0: run just this cut (with only_kind, only_second) */
    int only_kind;
    long only_second;
    int only_second_kind;
    int verbose;
};

static uint8_t old_img[OLD_SIZE], new_img[NEW_SIZE];
static uint8_t initial[FLASH_TOTAL_SIZE], state[FLASH_TOTAL_SIZE], cut_state[FLASH_TOTAL_SIZE];
static struct sim_op oplog[LOG_CAP];
static unsigned long committed_op, boot_op;   /* STAGED complete; first boot starts */
static unsigned long failures, runs, second_runs;
static struct options opt;
static uint32_t pending;       /* sectors where flash_sim_mem may differ from state */
static int stable_check;       /* judge() also boots once more (costs a slot verification) */

static uint32_t sector_bit(const struct sim_op *op)
{
    return 1u << (op->kind == SIM_OP_ERASE ? op->addr : (uint32_t)flash_sector_of(op->addr));
}

/*
 * Make flash_sim_mem equal `from` (state, or cut_state which differs from state only in
 * pending sectors) by copying only the sectors that may differ: those written since
 * the last restore, and those pending.
 */
static void restore(const uint8_t *from)
{
    uint32_t sectors = pending | flash_sim_dirty();
    unsigned s;

    for (s = 0; s < FLASH_SECTOR_COUNT; s++) {
        uint32_t off = flash_sector_addr(s) - FLASH_BASE_ADDR;
        if (sectors & (1u << s))
            memcpy(flash_sim_mem + off, from + off, flash_sector_size(s));
    }
    flash_sim_clear_dirty();
    pending = from == state ? 0 : sectors;
}

static void make_image(uint8_t *img, uint32_t body_size, uint32_t version, uint32_t seed)
{
    struct image_header h;
    uint8_t *body = img + IMAGE_HEADER_SIZE;
    uint32_t i, rnd = seed, vec[2];

    for (i = 0; i < body_size; i += 4) {
        uint32_t w = sim_rand(&rnd);
        memcpy(body + i, &w, 4);
    }
    vec[0] = SRAM_BASE_ADDR + SRAM_TOTAL_SIZE;
    vec[1] = (APP_LOAD_ADDR + 0x200u) | 1u;
    memcpy(body, vec, sizeof vec);
    host_image_header(&h, version, body_size, body, body_size);
    memset(img, 0xFF, IMAGE_HEADER_SIZE);
    memcpy(img, &h, sizeof h);
}

static void entry_for(struct journal_entry *e, uint32_t state_, const uint8_t *img)
{
    struct image_header h;

    memcpy(&h, img, sizeof h);
    memset(e, 0, sizeof *e);
    e->state = state_;
    e->image_size = image_total_size(&h);
    e->image_version = h.image_version;
    memcpy(e->digest, h.body_sha256, sizeof e->digest);
}

static void die(const char *what)
{
    fprintf(stderr, "campaign: setup failed: %s\n", what);
    exit(1);
}

/* The board before the update: v1 in the slot, a journal holding journal_fill records. */
static void setup_initial(void)
{
    struct journal_entry e;
    unsigned i;

    flash_sim_reset();
    if (flash_erase_sector(APP_SLOT_FIRST_SECTOR) != FLASH_OK ||
        flash_program(APP_SLOT_ADDR, old_img, OLD_SIZE) != FLASH_OK)
        die("cannot program the old image");
    for (i = 0; i < opt.journal_fill; i++) {
        entry_for(&e, JOURNAL_DONE, old_img);
        if (journal_append(&e) != FLASH_OK)
            die("cannot fill the journal");
    }
    memcpy(initial, flash_sim_mem, sizeof initial);
}

/* What the application does on an upload, then the first boot. */
static void run_update(struct boot_decision *d)
{
    struct journal_entry e;
    uint32_t done;
    unsigned sector;

    entry_for(&e, JOURNAL_CANCELLED, old_img);
    journal_append(&e);
    for (sector = STAGING_FIRST_SECTOR; flash_sector_addr(sector) < STAGING_ADDR + NEW_SIZE;
         sector++)
        flash_erase_sector(sector);
    for (done = 0; done < NEW_SIZE; done += UPLOAD_CHUNK) {
        uint32_t n = NEW_SIZE - done < UPLOAD_CHUNK ? NEW_SIZE - done : UPLOAD_CHUNK;
        flash_program(STAGING_ADDR + done, new_img + done, n);
    }
    if (image_verify_slot(STAGING_ADDR, NULL) != IMAGE_OK)
        die("the staged image does not verify in the reference run");
    entry_for(&e, JOURNAL_STAGED, new_img);
    journal_append(&e);
    committed_op = flash_sim_ops();
    boot_op = committed_op;
    boot(d);
}

/* Seeds of torn cuts depend only on the options and the cut, so --only reproduces them. */
static uint32_t torn_seed(unsigned long c)
{
    return opt.seed ^ (uint32_t)(c * 0x85EBCA6Bu);
}

static uint32_t second_seed(unsigned long c, unsigned long m)
{
    return torn_seed(c) ^ (uint32_t)(m * 0xC2B2AE35u) ^ 0x5bd1e995u;
}

static const char *kind_name(int kind)
{
    return kind == SIM_CUT_TORN ? "torn" : "atomic";
}

static void report(unsigned long c, int kind, long second, int second_kind, const char *why)
{
    char what[40];

    failures++;
    if (failures > opt.max_failures)
        return;
    if (oplog[c].kind == SIM_OP_ERASE)
        snprintf(what, sizeof what, "erase sector %u", (unsigned)oplog[c].addr);
    else
        snprintf(what, sizeof what, "program 0x%08x", (unsigned)oplog[c].addr);
    printf("FAIL cut %lu (%s, before %s, %s update) second %ld%s%s: %s\n", c,
           kind_name(kind), what, c < committed_op ? "uncommitted" : "committed",
           second, second >= 0 ? " " : "", second >= 0 ? kind_name(second_kind) : "", why);
    printf("  reproduce: %s --journal-fill %u --seed %u --only %lu --kind %s --second %ld"
           " --second-kind %s --verbose\n", PROGRAM, opt.journal_fill, (unsigned)opt.seed, c,
           kind_name(kind), second, kind_name(second_kind));
}

/* The oracle, after the last boot from a cut state. NULL: recovered. */
static const char *judge(unsigned long c, const struct boot_decision *d)
{
    static char why[160];
    struct boot_decision again;
    struct journal_entry j;
    const uint8_t *slot = flash_sim_at(APP_SLOT_ADDR);
    int holds_new = !memcmp(slot, new_img, NEW_SIZE);
    int holds_old = !memcmp(slot, old_img, OLD_SIZE);
    uint32_t held = holds_new ? 2u : 1u;
    int verbose = console_host_verbose;

    if (d->outcome != BOOT_JUMP) {
        snprintf(why, sizeof why, "the bootloader did not jump (outcome %d)", (int)d->outcome);
        return why;
    }
    if (!holds_new && !holds_old)
        return "the application slot holds neither the old nor the new image";
    if (d->version != held) {
        snprintf(why, sizeof why, "jumped to v%u but the slot holds v%u",
                 (unsigned)d->version, (unsigned)held);
        return why;
    }
    journal_read(&j);
    /* Compaction must never lose the state: the newest record is never older than the
     * one the board had before the update. */
    if (j.seq < opt.journal_fill) {
        snprintf(why, sizeof why, "the journal went back to seq %u (%s) from %u",
                 (unsigned)j.seq, journal_state_name(j.state), opt.journal_fill);
        return why;
    }
    if (c >= committed_op && !holds_new)
        return "a committed update was lost: the slot holds the old image";
    if (c >= committed_op && (j.state != JOURNAL_DONE || j.image_version != 2u)) {
        snprintf(why, sizeof why, "journal says %s v%u after a committed update, not DONE v2",
                 journal_state_name(j.state), (unsigned)j.image_version);
        return why;
    }
#ifndef BOOT_BUG_NO_CRC
    if (flash_sim_overprograms())
        return "a word was programmed without being erased";
#endif
    if (!stable_check)
        return NULL;
    /* A further reset must find nothing to do and start the same image. */
    console_host_verbose = 0;
    flash_sim_count_from_zero();
    boot(&again);
    console_host_verbose = verbose;
    if (flash_sim_ops() || again.outcome != BOOT_JUMP || again.version != d->version)
        return "a further reset is not stable (writes flash or starts another image)";
    return NULL;
}

/* Boot from the state in flash_sim_mem (already cut); maybe cut this boot too. */
static void recover(unsigned long c, int kind, int with_second)
{
    static jmp_buf cut;
    struct boot_decision d;
    const char *why;
    unsigned long boot_ops;
    unsigned i;
    uint32_t rnd = opt.seed ^ (uint32_t)(c * 2654435761u);

    if (with_second)
        memcpy(cut_state, flash_sim_mem, sizeof cut_state);
    flash_sim_count_from_zero();
    boot(&d);
    boot_ops = flash_sim_ops();
    runs++;
    why = judge(c, &d);
    if (why)
        report(c, kind, -1, 0, why);
    if (!with_second || boot_ops == 0)
        return;

    for (i = 0; i < SECOND_CUTS; i++) {
        /* The first and last operations of the recovery boot, then seeded picks. */
        unsigned long m = i == 0 ? 0 : i == 1 ? boot_ops - 1 : sim_rand(&rnd) % boot_ops;
        int second_kind = (i & 1u) ? SIM_CUT_TORN : SIM_CUT_ATOMIC;

        restore(cut_state);
        flash_sim_count_from_zero();
        if (!setjmp(cut)) {
            flash_sim_arm_cut(m, second_kind, second_seed(c, m), &cut);
            boot(&d);
        }
        flash_sim_disarm();
        flash_sim_count_from_zero();
        boot(&d);
        second_runs++;
        why = judge(c, &d);
        if (why)
            report(c, kind, (long)m, second_kind, why);
    }
}

static int journal_op(const struct sim_op *op)
{
    if (op->kind == SIM_OP_ERASE)
        return 1;
    return (op->addr >= JOURNAL_A_ADDR && op->addr < JOURNAL_A_ADDR + JOURNAL_SECTOR_SIZE) ||
           (op->addr >= JOURNAL_B_ADDR && op->addr < JOURNAL_B_ADDR + JOURNAL_SECTOR_SIZE);
}

/* Torn cuts: every erase and journal word, a seeded 1 in 64 of the other words. */
static int torn_wanted(unsigned long c, uint32_t *rnd)
{
    return journal_op(&oplog[c]) || sim_rand(rnd) % 64u == 0;
}

static int selected(unsigned long c)
{
    if (c % opt.shards != opt.shard)
        return 0;
    return opt.stride <= 1 || journal_op(&oplog[c]) || c % opt.stride == 0 ||
           c == committed_op - 1 || c == committed_op;
}

/* Check that flash_sim's longjmp cut and the log replay agree, for a few cuts. */
static void check_replay_matches_cut(unsigned long total)
{
    static jmp_buf cut;
    struct boot_decision d;
    unsigned long picks[4] = { 0, committed_op - 1, boot_op + 3, total - 1 };
    unsigned i;
    unsigned long k;

    for (i = 0; i < 4; i++) {
        memcpy(state, initial, sizeof state);
        for (k = 0; k < picks[i]; k++)
            flash_sim_apply(&oplog[k], state);
        memcpy(flash_sim_mem, initial, sizeof initial);
        flash_sim_count_from_zero();
        if (!setjmp(cut)) {
            flash_sim_arm_cut(picks[i], SIM_CUT_ATOMIC, 0, &cut);
            run_update(&d);
        }
        flash_sim_disarm();
        if (!flash_sim_was_cut() || memcmp(state, flash_sim_mem, sizeof state)) {
            printf("FAIL the cut before operation %lu is not the log replayed to it\n",
                   picks[i]);
            failures++;
        }
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: campaign [--journal-fill N] [--shard I/N] [--stride N] [--depth2 N]\n"
            "                [--seed N] [--max-failures N] [--keep-statics]\n"
            "                [--only CUT [--kind atomic|torn] [--second M] [--verbose]]\n");
    exit(2);
}

static unsigned long number(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 0);

    if (!*s || *end) {
        fprintf(stderr, "campaign: not a number: %s\n", s);
        exit(2);
    }
    return v;
}

static void parse(int argc, char **argv)
{
    int i;

    opt = (struct options){ 254, 0, 1, 1, 48, 20, 1, -1, SIM_CUT_ATOMIC, -1, SIM_CUT_ATOMIC, 0 };
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--verbose")) { opt.verbose = 1; continue; }
        if (!strcmp(a, "--keep-statics")) { keep_statics = 1; continue; }
        if (!v) usage();
        i++;
        if (!strcmp(a, "--journal-fill")) opt.journal_fill = (unsigned)number(v);
        else if (!strcmp(a, "--stride")) opt.stride = (unsigned)number(v);
        else if (!strcmp(a, "--depth2")) opt.depth2 = (unsigned)number(v);
        else if (!strcmp(a, "--seed")) opt.seed = (uint32_t)number(v);
        else if (!strcmp(a, "--max-failures")) opt.max_failures = (unsigned)number(v);
        else if (!strcmp(a, "--only")) opt.only = (long)number(v);
        else if (!strcmp(a, "--second")) opt.only_second = strcmp(v, "-1") ? (long)number(v) : -1;
        else if (!strcmp(a, "--second-kind")) {
            if (strcmp(v, "atomic") && strcmp(v, "torn")) usage();
            opt.only_second_kind = strcmp(v, "torn") ? SIM_CUT_ATOMIC : SIM_CUT_TORN;
        } else if (!strcmp(a, "--kind")) {
            if (strcmp(v, "atomic") && strcmp(v, "torn")) usage();
            opt.only_kind = strcmp(v, "torn") ? SIM_CUT_ATOMIC : SIM_CUT_TORN;
        } else if (!strcmp(a, "--shard")) {
            if (sscanf(v, "%u/%u", &opt.shard, &opt.shards) != 2 || !opt.shards ||
                opt.shard >= opt.shards)
                usage();
        } else usage();
    }
}

/* --only: one cut, with the boot logs on stdout, to see what went wrong. */
static void run_one(unsigned long total)
{
    static jmp_buf cut;
    struct boot_decision d;
    unsigned long k, c = (unsigned long)opt.only;
    const char *why;

    if (c >= total) {
        fprintf(stderr, "campaign: --only %lu: the update has %lu operations\n", c, total);
        exit(2);
    }
    memcpy(flash_sim_mem, initial, sizeof initial);
    for (k = 0; k < c; k++)
        flash_sim_apply(&oplog[k], flash_sim_mem);
    if (opt.only_kind == SIM_CUT_TORN)
        flash_sim_apply_torn(&oplog[c], flash_sim_mem, torn_seed(c));
    console_host_verbose = opt.verbose;
    printf("-- cut before operation %lu (%s), boot:\n", c, kind_name(opt.only_kind));
    flash_sim_count_from_zero();
    if (opt.only_second >= 0) {
        if (!setjmp(cut)) {
            flash_sim_arm_cut((unsigned long)opt.only_second, opt.only_second_kind,
                              second_seed(c, (unsigned long)opt.only_second), &cut);
            boot(&d);
        }
        flash_sim_disarm();
        printf("-- second cut before operation %ld, boot:\n", opt.only_second);
        flash_sim_count_from_zero();
    }
    boot(&d);
    why = judge(c, &d);
    printf("%s: %s\n", why ? "FAIL" : "ok", why ? why : "recovered");
    failures += why != NULL;
}

int main(int argc, char **argv)
{
    struct boot_decision d;
    unsigned long total, c, depth2_every;
    uint32_t rnd;
    const char *why;

    statics_keep();   /* before any of the bootloader's code has run */
    parse(argc, argv);
    make_image(old_img, OLD_BODY, 1, 0x0001D001u);
    make_image(new_img, NEW_BODY, 2, 0x0002D002u);
    setup_initial();

    /* Reference: the update without a cut, every operation logged. */
    memcpy(flash_sim_mem, initial, sizeof initial);
    flash_sim_log(oplog, LOG_CAP);
    flash_sim_count_from_zero();
    run_update(&d);
    total = flash_sim_log_len();
    flash_sim_log(NULL, 0);
    stable_check = 1;
    why = judge(total, &d);
    if (why) {
        printf("FAIL the update without a power cut: %s\n", why);
        return 1;
    }
    if (opt.only >= 0) {
        run_one(total);
        return failures ? 1 : 0;
    }
    check_replay_matches_cut(total);

    /* Every cut: state holds the log replayed up to c. */
    depth2_every = opt.depth2 ? total / opt.depth2 + 1 : 0;
    rnd = opt.seed;
    memcpy(state, initial, sizeof state);
    memcpy(flash_sim_mem, initial, sizeof initial);
    flash_sim_clear_dirty();
    pending = 0;
    for (c = 0; c < total && failures < opt.max_failures; c++) {
        int torn = torn_wanted(c, &rnd);
        int second = depth2_every && (c % depth2_every == depth2_every / 2 ||
                                      c == committed_op || c == committed_op + 40);

        if (selected(c)) {
            /* The stable-reset check on every erase and journal cut, 1 in 16 of the rest. */
            stable_check = journal_op(&oplog[c]) || c % 16u == 0 || second;
            restore(state);
            if (c % 1024u == 0 && memcmp(flash_sim_mem, state, sizeof state)) {
                printf("FAIL campaign bug: the flash before cut %lu is not the replayed log\n", c);
                failures++;
            }
            recover(c, SIM_CUT_ATOMIC, second);
            if (torn) {
                restore(state);
                flash_sim_apply_torn(&oplog[c], flash_sim_mem, torn_seed(c));
                pending |= sector_bit(&oplog[c]);
                recover(c, SIM_CUT_TORN, second);
            }
        }
        flash_sim_apply(&oplog[c], state);
        pending |= sector_bit(&oplog[c]);
    }

    printf("campaign: %s journal-fill %u shard %u/%u: %lu operations (STAGED committed at %lu),"
           " %lu recoveries, %lu after a second cut, %lu failures; %lu boots, each with the"
           " bootloader's statics reset (%lu bytes)\n",
           VARIANT, opt.journal_fill, opt.shard, opt.shards, total, committed_op, runs,
           second_runs, failures, statics_resets,
           (unsigned long)(__stop_bootlogic_data - __start_bootlogic_data +
                           __stop_bootlogic_bss - __start_bootlogic_bss));
    return failures ? 1 : 0;
}
