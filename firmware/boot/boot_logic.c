/*
 * boot_logic.c - the update state machine (docs/bootloader.md).
 *
 * Order matters for power cuts: the staged image is verified before the application
 * slot is touched; COPIED(k) is appended only after sector k reads back right; DONE only
 * after the whole slot verifies. A cut anywhere leaves a journal that says how far we
 * got, and every step can be redone.
 *
 * The BOOT_BUG_* switches build deliberately broken variants for the power-cut campaign
 * (make variants); the normal bootloader defines none of them.
 */
#include "boot_logic.h"

#include <string.h>

#include "console.h"
#include "flash.h"
#include "flash_layout.h"
#include "image.h"
#include "journal.h"

#if defined(BOOT_BUG_PROGRESS_EARLY) || defined(BOOT_BUG_NO_CRC)
#define BOOT_SKIP_FINAL_VERIFY 1
#endif

#if defined(BOOT_BUG_RESET_ON_REJECT) || defined(BOOT_BUG_STRAY_STORE) || \
    defined(BOOT_BUG_READ_BANK2)
#include "regs/scb.h"
#endif

#ifdef BOOT_BUG_IGNORE_TARGET
/* BUG: an image built for another part is taken as long as nothing else is wrong. */
static int verify_any_target(uint32_t addr, struct image_header *h)
{
    int st = image_verify_slot(addr, h);

    return st == IMAGE_ERR_TARGET ? IMAGE_OK : st;
}
#define image_verify_slot verify_any_target
#endif

#define COPY_CHUNK 1024u

static void append(const struct journal_entry *base, uint32_t state, uint32_t copied)
{
    struct journal_entry e = *base;
    int st;

    e.state = state;
    e.copied = copied;
    st = journal_append(&e);
    if (st != FLASH_OK)   /* not fatal: every step below is redone if the record is lost */
        console_printf("boot: journal append %s failed: %s\r\n", journal_state_name(state),
                       flash_strerror(st));
}

/* Slot sectors an image of `size` bytes covers, counted from APP_SLOT_FIRST_SECTOR. */
static uint32_t sectors_covered(uint32_t size)
{
    uint32_t n = 0, covered = 0;

    while (covered < size && APP_SLOT_FIRST_SECTOR + n <= APP_SLOT_LAST_SECTOR)
#ifdef BOOT_BUG_FIXED_SECTOR_SIZE
        covered += (n++, flash_sector_size(APP_SLOT_FIRST_SECTOR + 1));  /* BUG: all 128 KiB */
#else
        covered += flash_sector_size(APP_SLOT_FIRST_SECTOR + n++);
#endif
    return n;
}

/* Erase slot sector k and program it from the same offset in staging (read back). */
static int copy_sector(uint32_t k, uint32_t image_size, int resumed)
{
    static uint8_t buf[COPY_CHUNK];
    unsigned sector = APP_SLOT_FIRST_SECTOR + k;
    uint32_t dst = flash_sector_addr(sector), off = dst - APP_SLOT_ADDR, len, done;
    int st;

    len = image_size - off < flash_sector_size(sector) ? image_size - off
                                                        : flash_sector_size(sector);
    (void)resumed;
#ifdef BOOT_BUG_RESUME_NO_ERASE
    st = resumed ? FLASH_OK : flash_erase_sector(sector);   /* BUG: "it was erased before" */
#else
    st = flash_erase_sector(sector);
#endif
#ifdef BOOT_BUG_SHORT_COPY
    len -= len % COPY_CHUNK;   /* BUG: whole chunks only, the tail of the image is lost */
#endif
    for (done = 0; st == FLASH_OK && done < len; done += COPY_CHUNK) {
        uint32_t n = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
        flash_read(STAGING_ADDR + off + done, buf, n);
        st = flash_program(dst + done, buf, n);
    }
    return st;
}

/* The staged image is the one the journal committed: valid and with the same digest. */
static const char *staged_problem(struct journal_entry *j)
{
    struct image_header h;
#ifdef BOOT_BUG_NO_STAGED_VERIFY
    /* BUG: the header is read, the body never hashed: the journal's word is enough. */
    int st = IMAGE_OK;

    flash_read(STAGING_ADDR, &h, sizeof h);
#else
    int st = image_verify_slot(STAGING_ADDR, &h);
#endif

    if (st != IMAGE_OK)
        return image_strerror(st);
#ifdef BOOT_BUG_MAX_SIZE_OFF_BY_ONE
    if (image_total_size(&h) >= APP_SLOT_SIZE)   /* BUG: >= where > was meant */
        return "too large for the application slot";
#endif
#ifndef BOOT_BUG_NO_CRC
    if (memcmp(h.body_sha256, j->digest, sizeof j->digest) || image_total_size(&h) != j->image_size)
        return "not the image the journal recorded";
#else
    /* BUG: the record is taken at its word; a torn one is not told apart by its fields. */
    j->image_size = image_total_size(&h);
#endif
    return NULL;
}

#ifndef BOOT_SKIP_FINAL_VERIFY
static int slot_holds(const struct journal_entry *j, struct image_header *h)
{
    int st = image_verify_slot(APP_SLOT_ADDR, h);

    if (st != IMAGE_OK) {
        console_printf("boot: application slot does not verify: %s\r\n", image_strerror(st));
        return 0;
    }
    if (memcmp(h->body_sha256, j->digest, sizeof j->digest)) {
        console_printf("boot: application slot holds v%u, not the staged v%u\r\n",
                       (unsigned)h->image_version, (unsigned)j->image_version);
        return 0;
    }
    return 1;
}
#endif

/*
 * 1: the slot now holds the staged image, its header in *h; 0: staging rejected;
 * -1: the copy does not verify.
 */
static int update(struct journal_entry *j, struct image_header *h)
{
    const char *problem;
    uint32_t n = sectors_covered(j->image_size), start = 0, k;
    int attempt, st;

#ifdef BOOT_BUG_ERASE_BEFORE_VERIFY
    if (j->state == JOURNAL_STAGED)   /* BUG: makes room before knowing the image is good */
        (void)flash_erase_sector(APP_SLOT_FIRST_SECTOR);
#endif
    problem = staged_problem(j);
    if (problem) {
        console_printf("boot: staged image rejected: %s\r\n", problem);
#ifdef BOOT_BUG_ERASE_APP_ON_REJECT
        (void)flash_erase_sector(APP_SLOT_FIRST_SECTOR);   /* BUG: "clean up" the slot */
#endif
#if defined(BOOT_BUG_RESET_ON_REJECT)
        console_flush();
        SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;   /* BUG: "try again" */
        for (;;)
            ;
#elif !defined(BOOT_BUG_NO_REJECT_RECORD)
        append(j, JOURNAL_REJECTED, 0);   /* (the NO_REJECT_RECORD bug forgets this) */
#endif
        return 0;
    }
    if (j->state == JOURNAL_COPIED)
        start = j->copied < n ? j->copied : n;
#ifdef BOOT_BUG_RESUME_SKIPS_SECTOR
    if (start && start < n)
        start++;   /* BUG: COPIED(k) read as "sector k done", one sector too far */
#endif
    if (start)
        console_printf("boot: resuming copy at sector %u\r\n",
                       (unsigned)(APP_SLOT_FIRST_SECTOR + start));
#ifdef BOOT_BUG_DONE_EARLY
    append(j, JOURNAL_DONE, start);   /* BUG: claims success before the copy is done */
#endif

    for (attempt = 0; attempt < 2; attempt++) {
        for (k = start; k < n; k++) {
#ifdef BOOT_BUG_PROGRESS_EARLY
            append(j, JOURNAL_COPIED, k + 1);   /* BUG: progress before the work */
#endif
            st = copy_sector(k, j->image_size, attempt == 0 && k == start && start > 0);
            if (st != FLASH_OK) {
                console_printf("boot: copy of sector %u failed: %s\r\n",
                               (unsigned)(APP_SLOT_FIRST_SECTOR + k), flash_strerror(st));
                break;
            }
#ifndef BOOT_BUG_PROGRESS_EARLY
            append(j, JOURNAL_COPIED, k + 1);
#endif
            console_printf("boot: copied sector %u\r\n", (unsigned)(APP_SLOT_FIRST_SECTOR + k));
        }
#ifdef BOOT_SKIP_FINAL_VERIFY
        flash_read(APP_SLOT_ADDR, h, sizeof *h);
        if (1) {   /* BUG: trusts the copy without reading the slot back */
#else
        if (slot_holds(j, h)) {
#endif
#ifndef BOOT_BUG_NO_DONE   /* BUG: the update is never recorded as finished */
            append(j, JOURNAL_DONE, n);
#endif
            console_printf("boot: update to v%u done\r\n", (unsigned)j->image_version);
            return 1;
        }
        if (attempt == 0) {
            /* Record the restart first: a cut must not resume from the old COPIED count. */
            console_printf("boot: copying again from sector %u\r\n",
                           (unsigned)APP_SLOT_FIRST_SECTOR);
            append(j, JOURNAL_STAGED, 0);
            j->state = JOURNAL_STAGED;
            start = 0;
        }
    }
    console_printf("boot: recovery: the copied application does not verify\r\n");
    return -1;
}

static void jump_decision(struct boot_decision *d, const struct image_header *h)
{
    d->outcome = BOOT_JUMP;
    d->version = h->image_version;
    d->load_addr = h->load_addr;
    console_printf("boot: jump to v%u at 0x%08x\r\n", (unsigned)h->image_version,
                   (unsigned)h->load_addr);
}

/* What update() returned decides the boot, except a rejected staging (0): go on. */
static int decided(struct boot_decision *d, int update_result, const struct image_header *h)
{
    if (update_result > 0)
        jump_decision(d, h);
    else if (update_result < 0)
        d->outcome = BOOT_RECOVERY;
    return update_result != 0;
}

void boot_decide(struct boot_decision *d)
{
    struct journal_entry j;
    struct image_header h;
    int st;

    memset(d, 0, sizeof *d);
#ifdef BOOT_STATIC_PROBE
    {   /* host campaign only: a static that a reset clears (firmware/host/campaign.c) */
        static int booted;

        if (booted++) {
            console_printf("boot: a static survived the reset\r\n");
            d->outcome = BOOT_NO_APP;
            return;
        }
    }
#endif
#ifdef BOOT_BUG_READ_BANK2
    /* BUG: looks for a second flash bank, which only 2 MiB parts have. */
    if (*(volatile const uint32_t *)(FLASH_BASE_ADDR + FLASH_TOTAL_SIZE) != 0xFFFFFFFFu)
        console_printf("boot: bank 2 in use\r\n");
#endif
#ifdef BOOT_BUG_STRAY_STORE
    /* BUG: a boot counter stored into flash like RAM: no unlock, no PG. */
    *(volatile uint32_t *)(JOURNAL_B_ADDR + JOURNAL_SECTOR_SIZE - 4u) = 0u;
#endif
    journal_read(&j);
    if (j.state == JOURNAL_EMPTY)
        console_printf("boot: journal EMPTY\r\n");
    else if (j.state == JOURNAL_COPIED)
        console_printf("boot: journal COPIED %u v%u size %u\r\n", (unsigned)j.copied,
                       (unsigned)j.image_version, (unsigned)j.image_size);
    else
        console_printf("boot: journal %s v%u size %u\r\n", journal_state_name(j.state),
                       (unsigned)j.image_version, (unsigned)j.image_size);

#ifdef BOOT_BUG_REWRITE_EVERY_BOOT
    if (j.state == JOURNAL_DONE)   /* BUG: "make sure" the slot holds the staged image */
        j.state = JOURNAL_STAGED;
#endif
#ifdef BOOT_BUG_BOOT_COUNTER
    if (j.state == JOURNAL_DONE)   /* BUG: a boot counter in the journal, every boot */
        append(&j, JOURNAL_DONE, j.copied);
#endif
    if ((j.state == JOURNAL_STAGED || j.state == JOURNAL_COPIED) && decided(d, update(&j, &h), &h))
        return;

#if defined(BOOT_BUG_DONE_EARLY) || defined(BOOT_BUG_TRUST_DONE)
    if (j.state == JOURNAL_DONE) {   /* BUG: DONE is taken on trust, the slot is not read */
        flash_read(APP_SLOT_ADDR, &h, sizeof h);
        jump_decision(d, &h);
        return;
    }
#endif

    st = image_verify_slot(APP_SLOT_ADDR, &h);
    if (st == IMAGE_OK) {
        jump_decision(d, &h);
        return;
    }
    console_printf("boot: application slot invalid: %s\r\n", image_strerror(st));

    /* A damaged slot with a good image in staging: copy it down as a new update. */
    st = image_verify_slot(STAGING_ADDR, &h);
    if (st == IMAGE_OK) {
        console_printf("boot: recovering v%u from staging\r\n", (unsigned)h.image_version);
        memset(&j, 0, sizeof j);
        j.state = JOURNAL_STAGED;
        j.image_size = image_total_size(&h);
        j.image_version = h.image_version;
        memcpy(j.digest, h.body_sha256, sizeof j.digest);
        append(&j, JOURNAL_STAGED, 0);
        if (decided(d, update(&j, &h), &h))
            return;
    }
    d->outcome = BOOT_NO_APP;
    console_printf("boot: no valid application\r\n");
}
