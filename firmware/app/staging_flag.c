/*
 * staging_flag.c - staging.h for the sample-flag device (docs/sample-flag.md): a raw
 * binary into sectors STAGING_FIRST..LAST, then its size and CRC-32 and last the flag
 * word (update_flag.h) that tells the bootloader an update was received.
 *
 * begin() clears a flag left from an earlier upload and erases the whole staging area
 * before it returns (three 128 KiB sectors, seconds), as ST's AN3968 servers do: a TFTP
 * server acknowledges the write request only after that. The image's vector table is
 * checked as soon as its first 8 bytes are in, its size as the bytes arrive.
 */
#include <string.h>

#include "console.h"
#include "flash.h"
#include "flash_layout.h"
#include "staging.h"
#include "strbuf.h"
#include "update_flag.h"

#define CHUNK 256u

static enum staging_state state;
static uint32_t received;     /* image bytes taken by staging_write() */
static uint32_t programmed;   /* of them, bytes in flash (a multiple of CHUNK until finish) */
static uint8_t chunk[CHUNK] __attribute__((aligned(4)));
static uint32_t vectors[2];
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
    console_printf("[staging] refused: %s\r\n", reason);
    return status;
}

static int flash_fail(const char *what, int st)
{
    return fail(STAGING_ERR_FLASH, what, flash_strerror(st));
}

int staging_begin(uint32_t expected_size)
{
    unsigned sector;
    int st;

    if (state == STAGING_RECEIVING)
        return STAGING_ERR_BUSY;
    received = programmed = 0;
    reason[0] = '\0';
    state = STAGING_RECEIVING;
    if (expected_size > APP_SLOT_SIZE)
        return fail(STAGING_ERR_TOO_LARGE, "image larger than the application slot", NULL);
    /* The flag first: the bootloader must never take a staging area being rewritten. */
    if (!update_flag_erased()) {
        st = update_flag_clear();
        if (st != FLASH_OK)
            return flash_fail("clearing the flag failed", st);
    }
    for (sector = STAGING_FIRST_SECTOR; sector <= STAGING_LAST_SECTOR; sector++) {
        st = flash_erase_sector(sector);
        if (st != FLASH_OK)
            return flash_fail("erase failed", st);
    }
    console_printf("[staging] receiving\r\n");
    return STAGING_OK;
}

static int program_chunk(uint32_t len)
{
    int st = flash_program(STAGING_ADDR + programmed, chunk, len);

    if (st != FLASH_OK)
        return flash_fail("program failed", st);
    programmed += len;
    return STAGING_OK;
}

int staging_write(const uint8_t *data, size_t len)
{
    size_t n;
    int st;

    if (state != STAGING_RECEIVING)
        return STAGING_ERR_STATE;
    if (len > APP_SLOT_SIZE - received)
        return fail(STAGING_ERR_TOO_LARGE, "image larger than the application slot", NULL);
    while (len > 0) {
        uint32_t at = received - programmed;

        n = CHUNK - at < len ? CHUNK - at : len;
        memcpy(chunk + at, data, n);
        if (received < sizeof vectors) {
            uint32_t v = (uint32_t)(sizeof vectors - received);
            memcpy((uint8_t *)vectors + received, data, n < v ? n : v);
        }
        received += (uint32_t)n;
        data += n;
        len -= n;
        if (received >= sizeof vectors && received - n < sizeof vectors &&
            !update_vectors_ok(vectors[0], vectors[1]))
            return fail(STAGING_ERR_INVALID, "vector table not for the application slot", NULL);
        if (received - programmed == CHUNK) {
            st = program_chunk(CHUNK);
            if (st != STAGING_OK)
                return st;
        }
    }
    return STAGING_OK;
}

int staging_finish(void)
{
    uint32_t tail = received - programmed, crc;
    const char *problem;
    int st;

    if (state != STAGING_RECEIVING)
        return STAGING_ERR_STATE;
    if (tail) {
        memset(chunk + tail, 0xFF, CHUNK - tail);   /* pad to a word: erased bytes */
        st = program_chunk((tail + 3u) & ~3u);
        if (st != STAGING_OK)
            return st;
    }
    problem = update_image_problem(STAGING_ADDR, received, 0, 0);
    if (problem != NULL)
        return fail(STAGING_ERR_INVALID, problem, NULL);
    crc = update_crc(STAGING_ADDR, received);
    st = update_flag_commit(received, crc);
    if (st != FLASH_OK)
        return flash_fail("writing the flag failed", st);
    state = STAGING_STAGED;
    console_printf("[staging] image staged: %u bytes, crc %08x\r\n", (unsigned)received,
                   (unsigned)crc);
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
    return 0;   /* a raw binary carries no version */
}

const char *staging_error(void)
{
    return reason;
}
