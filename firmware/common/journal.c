/*
 * journal.c - the update journal in sectors 1 and 2 (docs/journal.md).
 *
 * Only flash.h is used, so the host tests run this file against a simulated flash with
 * power cuts. JOURNAL_BUG_NO_CRC builds the deliberately broken variant that trusts
 * records without checking their CRC (boot-bug-no-crc.elf), JOURNAL_BUG_NO_ERASE_ON_ROTATE
 * one that compacts into the other sector without erasing it; never set them elsewhere.
 */
#include "journal.h"

#include <stddef.h>
#include <string.h>

#include "crc32.h"
#include "flash.h"
#include "flash_layout.h"

#define SLOTS_PER_SECTOR (JOURNAL_SECTOR_SIZE / JOURNAL_RECORD_SIZE)

struct journal_record {
    uint32_t magic;
    uint32_t seq;
    uint32_t state;
    uint32_t copied;
    uint32_t image_size;
    uint32_t image_version;
    uint8_t digest[32];
    uint32_t reserved;
    uint32_t crc;
};

_Static_assert(sizeof(struct journal_record) == JOURNAL_RECORD_SIZE, "record is 64 bytes");

static const uint32_t sector_addr[2] = { JOURNAL_A_ADDR, JOURNAL_B_ADDR };
static const unsigned sector_num[2] = { JOURNAL_A_SECTOR, JOURNAL_B_SECTOR };

struct journal_scan {
    int found;                  /* a valid record exists */
    struct journal_record best; /* the one with the highest seq */
    unsigned best_sector;       /* 0 = A, 1 = B */
    int last_used[2];           /* last non-erased slot per sector, -1 if none */
};

static int record_valid(const struct journal_record *r)
{
    if (r->magic != JOURNAL_MAGIC)
        return 0;
#ifdef JOURNAL_BUG_NO_CRC
    return 1;
#else
    return crc32_update(0, r, offsetof(struct journal_record, crc)) == r->crc;
#endif
}

static int record_erased(const struct journal_record *r)
{
    static const struct journal_record erased = {
        0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu,
        { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
          0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
          0xFF, 0xFF, 0xFF, 0xFF },
        0xFFFFFFFFu, 0xFFFFFFFFu,
    };

    return !memcmp(r, &erased, sizeof erased);
}

/*
 * Records are appended in seq order within a sector, so a sector's newest record is
 * its last valid one: scan each sector backwards from its last non-erased slot and stop
 * there. This keeps a boot to a few CRCs however full the journal is.
 */
static void scan(struct journal_scan *s)
{
    struct journal_record r;
    unsigned sec;
    int slot;

    memset(s, 0, sizeof *s);
    for (sec = 0; sec < 2; sec++) {
        s->last_used[sec] = -1;
        for (slot = (int)SLOTS_PER_SECTOR - 1; slot >= 0; slot--) {
            flash_read(sector_addr[sec] + (uint32_t)slot * JOURNAL_RECORD_SIZE, &r, sizeof r);
            if (s->last_used[sec] < 0) {
                if (record_erased(&r))
                    continue;
                s->last_used[sec] = slot;
            }
            if (record_valid(&r)) {
                if (!s->found || r.seq > s->best.seq) {
                    s->found = 1;
                    s->best = r;
                    s->best_sector = sec;
                }
                break;
            }
        }
    }
}

void journal_read(struct journal_entry *out)
{
    struct journal_scan s;

    scan(&s);
    memset(out, 0, sizeof *out);
    if (!s.found)
        return;
    out->seq = s.best.seq;
    out->state = s.best.state;
    out->copied = s.best.copied;
    out->image_size = s.best.image_size;
    out->image_version = s.best.image_version;
    memcpy(out->digest, s.best.digest, sizeof out->digest);
}

/* One try at appending a record; FLASH_ERR_VERIFY when it did not read back whole. */
static int append_once(struct journal_entry *e)
{
    struct journal_scan s;
    struct journal_record r;
    unsigned sec;
    int slot, st;

    scan(&s);
    sec = s.found ? s.best_sector : 0;
    slot = s.last_used[sec] + 1;
    if (slot >= (int)SLOTS_PER_SECTOR) {
        /* Compaction: the full sector keeps the current state until the new record,
         * which carries the whole state, is complete in the other one. */
        sec ^= 1u;
#ifndef JOURNAL_BUG_NO_ERASE_ON_ROTATE
        st = flash_erase_sector(sector_num[sec]);
        if (st == FLASH_ERR_VERIFY)   /* an erase that left bits at 0: once more */
            st = flash_erase_sector(sector_num[sec]);
#else
        st = sector_num[sec] ? FLASH_OK : FLASH_OK;   /* BUG: "the other sector is empty" */
#endif
        if (st != FLASH_OK)
            return st;
        slot = 0;
    }

    e->seq = s.found ? s.best.seq + 1u : 1u;
    r.magic = JOURNAL_MAGIC;
    r.seq = e->seq;
    r.state = e->state;
    r.copied = e->copied;
    r.image_size = e->image_size;
    r.image_version = e->image_version;
    memcpy(r.digest, e->digest, sizeof r.digest);
    r.reserved = 0xFFFFFFFFu;
    r.crc = crc32_update(0, &r, offsetof(struct journal_record, crc));
    return flash_program(sector_addr[sec] + (uint32_t)slot * JOURNAL_RECORD_SIZE, &r, sizeof r);
}

/*
 * A record that did not read back (a program that did not take, a word disturbed) is
 * left where it is: it is not valid, so scan() passes over it, and the record goes into
 * the next slot (or, at the end of the sector, into the other sector by compaction).
 */
int journal_append(struct journal_entry *e)
{
    int attempt, st = FLASH_OK;

    for (attempt = 0; attempt < JOURNAL_APPEND_TRIES; attempt++) {
        st = append_once(e);
        if (st != FLASH_ERR_VERIFY)
            break;
    }
    return st;
}

const char *journal_state_name(uint32_t state)
{
    switch (state) {
    case JOURNAL_EMPTY: return "EMPTY";
    case JOURNAL_STAGED: return "STAGED";
    case JOURNAL_COPIED: return "COPIED";
    case JOURNAL_DONE: return "DONE";
    case JOURNAL_CANCELLED: return "CANCELLED";
    case JOURNAL_REJECTED: return "REJECTED";
    default: return "UNKNOWN";
    }
}
