/*
 * journal.h - the update journal: append-only records in flash sectors 1 and 2
 * (docs/journal.md).
 *
 * NOR flash clears bits by programming and sets them only by erasing a whole sector,
 * so "clearing a flag" in place is not atomic. Every state change is instead a new
 * 64-byte record, programmed once into erased space, that carries the whole update
 * state. The current state is the valid record with the highest sequence number; a
 * record torn by a power cut fails its CRC and is ignored.
 */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stdint.h>

#define JOURNAL_MAGIC 0x4C4E524Au  /* "JRNL" */
/* journal_append() tries this many slots before it gives up on a record that does not
 * read back (docs/powercut.md, "Flash failures"). */
#define JOURNAL_APPEND_TRIES 3

enum journal_state {
    JOURNAL_EMPTY = 0,      /* no valid record: nothing to do */
    JOURNAL_STAGED = 1,     /* a verified image waits in staging: copy it down */
    JOURNAL_COPIED = 2,     /* copy-down in progress: `copied` slot sectors are done */
    JOURNAL_DONE = 3,       /* the staged image is in the application slot */
    JOURNAL_CANCELLED = 4,  /* staging is being rewritten: it holds nothing to copy */
    JOURNAL_REJECTED = 5    /* the staged image failed verification at boot */
};

/* The state a record carries (the on-flash record adds magic, seq and CRC). */
struct journal_entry {
    uint32_t seq;           /* assigned by journal_append() */
    uint32_t state;         /* enum journal_state */
    uint32_t copied;        /* JOURNAL_COPIED: number of application slot sectors copied */
    uint32_t image_size;    /* header + body bytes of the staged image */
    uint32_t image_version; /* image_version of the staged image */
    uint8_t  digest[32];    /* body SHA-256 of the staged image */
};

/* Read the current state: the valid record with the highest seq (JOURNAL_EMPTY if none). */
void journal_read(struct journal_entry *out);

/*
 * Append a record with the next seq, in the sector that holds the current state.
 * When that sector is full, the other sector is erased and the new record is written
 * there first (compaction: each record carries the whole state, so one record is
 * enough). Returns FLASH_OK or a flash_status.
 */
int journal_append(struct journal_entry *e);

const char *journal_state_name(uint32_t state);

#endif /* JOURNAL_H */
