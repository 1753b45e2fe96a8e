/* staging.c - stream an image into the staging slot, verify it, then journal it. */
#include "staging.h"

#include <string.h>

#include "console.h"
#include "flash.h"
#include "flash_layout.h"
#include "image.h"
#include "journal.h"
#include "strbuf.h"

#define PAGE_SIZE 256u   /* programmed in whole pages of words */

static enum staging_state state;
static uint32_t received;          /* bytes accepted from the transport */
static uint32_t programmed;        /* bytes written to flash (a multiple of PAGE_SIZE) */
static uint32_t erased_end;        /* staging is erased below this address */
static uint32_t expected;          /* 0: unknown until the header arrives */
static uint32_t total;             /* from the header; 0 until it is in */
static uint32_t staged_version;
static uint8_t page[PAGE_SIZE] __attribute__((aligned(4)));
static struct image_header header;
static char reason[96];

static int fail(int status, const char *what, const char *detail)
{
    struct strbuf sb;

    sb_init(&sb, reason, sizeof reason);
    sb_puts(&sb, what);
    if (detail != NULL) {
        sb_puts(&sb, ": ");
        sb_puts(&sb, detail);
    }
    state = STAGING_REJECTED;
    console_printf("staging: rejected: %s\r\n", reason);
    return status;
}

static int flash_fail(const char *what, int st)
{
    return fail(STAGING_ERR_FLASH, what, flash_strerror(st));
}

static int program_page(uint32_t len)
{
    uint32_t addr = STAGING_ADDR + programmed;
    int st, sector;

    /* Erase lazily: a sector is erased only when the image reaches it. */
    while (addr + len > erased_end) {
        sector = flash_sector_of(erased_end);
        if (sector < STAGING_FIRST_SECTOR || sector > STAGING_LAST_SECTOR)
            return fail(STAGING_ERR_TOO_LARGE, "image too large", "beyond the staging slot");
        st = flash_erase_sector((unsigned)sector);
        if (st != FLASH_OK)
            return flash_fail("erase failed", st);
        erased_end += flash_sector_size((unsigned)sector);
    }
    st = flash_program(addr, page, len);
    if (st != FLASH_OK)
        return flash_fail("program failed", st);
    programmed += len;
    return STAGING_OK;
}

static int check_header(void)
{
    struct strbuf sb;
    char n[48];
    int st;

    total = image_total_size(&header);
    if (header.magic == IMAGE_MAGIC && total > IMAGE_MAX_SIZE) {
        sb_init(&sb, n, sizeof n);
        sb_putu(&sb, total);
        sb_puts(&sb, " bytes > slot");
        return fail(STAGING_ERR_TOO_LARGE, "image too large", n);
    }
    st = image_check_header(&header);
    if (st != IMAGE_OK)
        return fail(STAGING_ERR_INVALID, "bad image header", image_strerror(st));
    if (expected != 0 && expected != total)
        return fail(STAGING_ERR_INVALID, "bad image size", "transfer size differs from header");
    if (header.image_version < staging_floor())
        return fail(STAGING_ERR_INVALID, "bad image version", image_strerror(IMAGE_ERR_ROLLBACK));
    /* The signature covers the header, the body's digest with it: checked before a byte
     * of staging is erased, the body's digest once it is all in. */
    st = image_check_signature(&header);
    if (st != IMAGE_OK)
        return fail(STAGING_ERR_INVALID, "bad image signature", image_strerror(st));
    return STAGING_OK;
}

uint32_t staging_floor(void)
{
    struct journal_entry e;

    journal_read(&e);
    /* The journal's floor, or this program's own version if the journal predates it. */
    return e.floor > (uint32_t)APP_VERSION ? e.floor : (uint32_t)APP_VERSION;
}

int staging_begin(uint32_t expected_size)
{
    struct journal_entry e;
    int st;

    if (state == STAGING_RECEIVING)
        return STAGING_ERR_BUSY;
    received = 0;
    programmed = 0;
    total = 0;
    expected = expected_size;
    erased_end = STAGING_ADDR;
    reason[0] = '\0';
    state = STAGING_RECEIVING;
    console_printf("staging: receiving\r\n");
    if (expected_size > IMAGE_MAX_SIZE)
        return fail(STAGING_ERR_TOO_LARGE, "image too large", "larger than the application slot");

    journal_read(&e);
    if (e.state == JOURNAL_STAGED || e.state == JOURNAL_COPIED) {
        e.state = JOURNAL_CANCELLED;
        e.copied = 0;
        st = journal_append(&e);
        if (st != FLASH_OK)
            return flash_fail("journal append failed", st);
    }
    return STAGING_OK;
}

int staging_write(const uint8_t *data, size_t len)
{
    size_t fill, n;
    int st;

    if (state != STAGING_RECEIVING)
        return STAGING_ERR_STATE;
    while (len > 0) {
        if (total != 0 && received + len > total)
            return fail(STAGING_ERR_INVALID, "bad image size",
                        "more data than the header declares");
        if (received + len > IMAGE_MAX_SIZE)
            return fail(STAGING_ERR_TOO_LARGE, "image too large",
                        "larger than the application slot");
        fill = received - programmed;
        n = PAGE_SIZE - fill < len ? PAGE_SIZE - fill : len;
        /* Keep the header in RAM so it is checked before the body is written. */
        if (received < sizeof header) {
            size_t h = sizeof header - received < n ? sizeof header - received : n;
            memcpy((uint8_t *)&header + received, data, h);
        }
        memcpy(page + fill, data, n);
        received += (uint32_t)n;
        data += n;
        len -= n;
        if (total == 0 && received >= sizeof header) {
            st = check_header();
            if (st != STAGING_OK)
                return st;
        }
        if (received - programmed == PAGE_SIZE) {
            st = program_page(PAGE_SIZE);
            if (st != STAGING_OK)
                return st;
        }
    }
    return STAGING_OK;
}

int staging_finish(void)
{
    struct journal_entry e;
    struct image_header h;
    struct strbuf sb;
    char n[48];
    uint32_t tail;
    int st;

    if (state != STAGING_RECEIVING)
        return STAGING_ERR_STATE;
    if (total == 0 || received != total) {
        sb_init(&sb, n, sizeof n);
        sb_puts(&sb, "got ");
        sb_putu(&sb, received);
        sb_puts(&sb, " of ");
        sb_putu(&sb, total ? total : (uint32_t)sizeof header);
        sb_puts(&sb, " bytes");
        return fail(STAGING_ERR_INVALID, "image truncated", n);
    }
    tail = received - programmed;
    if (tail != 0) {
        /* Pad to whole words with the erased value: flash programs words only. */
        memset(page + tail, 0xFF, PAGE_SIZE - tail);
        st = program_page((tail + 3u) & ~3u);
        if (st != STAGING_OK)
            return st;
    }
    st = image_verify_slot(STAGING_ADDR, &h);
    if (st != IMAGE_OK)
        return fail(STAGING_ERR_INVALID, "verification failed", image_strerror(st));
    if (memcmp(&h, &header, sizeof h))   /* what was signed is what is in flash */
        return fail(STAGING_ERR_INVALID, "verification failed", "header changed in flash");
    if (h.target_id != IMAGE_TARGET_F407)
        return fail(STAGING_ERR_INVALID, "verification failed", "target");
    if (image_total_size(&h) > IMAGE_MAX_SIZE)
        return fail(STAGING_ERR_TOO_LARGE, "image too large", "larger than the application slot");

    memset(&e, 0, sizeof e);
    e.state = JOURNAL_STAGED;
    e.copied = 0;
    e.image_size = image_total_size(&h);
    e.image_version = h.image_version;
    memcpy(e.digest, h.body_sha256, sizeof e.digest);
    st = journal_append(&e);
    if (st != FLASH_OK)
        return flash_fail("journal append failed", st);
    state = STAGING_STAGED;
    staged_version = h.image_version;
    console_printf("staging: staged v%u (%u bytes)\r\n", (unsigned)h.image_version,
                   (unsigned)e.image_size);
    return STAGING_OK;
}

void staging_abort(const char *why)
{
    if (state == STAGING_RECEIVING)
        (void)fail(STAGING_ERR_INVALID, why, NULL);
}

enum staging_state staging_state(void)
{
    return state;
}

const char *staging_state_name(enum staging_state s)
{
    switch (s) {
    case STAGING_IDLE: return "idle";
    case STAGING_RECEIVING: return "receiving";
    case STAGING_STAGED: return "staged";
    case STAGING_REJECTED: return "rejected";
    default: return "unknown";
    }
}

uint32_t staging_bytes(void)
{
    return received;
}

uint32_t staging_version(void)
{
    return staged_version;
}

const char *staging_error(void)
{
    return reason;
}
