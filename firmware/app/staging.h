/*
 * staging.h - the staging writer shared by HTTP and TFTP: streams an image into the
 * staging slot (sectors 8-11) and, only once it verifies, appends STAGED to the journal.
 * The header's checks, its signature and the anti-rollback floor come first: a refused
 * image never erases staging.
 *
 * begin() first appends CANCELLED when the journal points at staging (STAGED/COPIED), so
 * the bootloader never copies a slot being rewritten. Sectors are erased as the data
 * reaches them. Any failure appends nothing and never touches the application slot.
 */
#ifndef STAGING_H
#define STAGING_H

#include <stddef.h>
#include <stdint.h>

enum staging_state {
    STAGING_IDLE = 0,
    STAGING_RECEIVING,
    STAGING_STAGED,
    STAGING_REJECTED
};

enum staging_status {
    STAGING_OK = 0,
    STAGING_ERR_BUSY = -1,       /* another transfer owns the writer */
    STAGING_ERR_TOO_LARGE = -2,  /* larger than the application slot */
    STAGING_ERR_INVALID = -3,    /* the image failed a check */
    STAGING_ERR_FLASH = -4,      /* erase, program or journal append failed */
    STAGING_ERR_STATE = -5       /* write/finish without begin */
};

/* expected_size: the image's total size when the transport knows it, else 0. */
int staging_begin(uint32_t expected_size);
int staging_write(const uint8_t *data, size_t len);
int staging_finish(void);
/* Give up on the current transfer (client gone, protocol error): nothing is appended. */
void staging_abort(const char *reason);

enum staging_state staging_state(void);
const char *staging_state_name(enum staging_state s);
uint32_t staging_bytes(void);        /* bytes received in the current/last transfer */
uint32_t staging_version(void);      /* image_version of the last staged image */
/* Anti-rollback: the lowest version accepted (the journal's floor, or APP_VERSION). */
uint32_t staging_floor(void);
const char *staging_error(void);     /* why the last transfer failed ("" if it did not) */

#endif /* STAGING_H */
