/*
 * test_staging.c - the real staging writer over the simulated flash with the real journal
 * and image checks: what is appended, when, and that the application slot is never touched.
 */
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "crc32.h"
#include "fakes.h"
#include "flash_layout.h"
#include "flash_sim.h"
#include "image.h"
#include "journal.h"
#include "sha256.h"
#include "image_host.h"
#include "staging.h"

#define BODY 6000u

static uint8_t img[IMAGE_HEADER_SIZE + BODY];

static void make_image(uint32_t version, uint32_t body_size)
{
    struct image_header h;
    uint32_t i, vec[2] = { SRAM_BASE_ADDR + SRAM_TOTAL_SIZE, APP_LOAD_ADDR + 0x101u };

    memset(img, 0xFF, sizeof img);
    for (i = 0; i < BODY; i++)
        img[IMAGE_HEADER_SIZE + i] = (uint8_t)(i * 13u + version);
    memcpy(img + IMAGE_HEADER_SIZE, vec, sizeof vec);
    host_image_header(&h, version, body_size, img + IMAGE_HEADER_SIZE, BODY);
    memcpy(img, &h, sizeof h);
}

static int app_slot_erased(void)
{
    const uint8_t *p = flash_sim_at(APP_SLOT_ADDR);
    uint32_t i;

    for (i = 0; i < APP_SLOT_SIZE; i++)
        if (p[i] != 0xFF)
            return 0;
    return 1;
}

/* Stream the image in uneven pieces; returns the first non-OK status or finish()'s. */
static int upload(const uint8_t *data, size_t len, uint32_t expected)
{
    size_t off = 0, n, step = 1;
    int st = staging_begin(expected);

    while (st == STAGING_OK && off < len) {
        n = len - off < step ? len - off : step;
        st = staging_write(data + off, n);
        off += n;
        step = step * 3 + 1;   /* 1, 4, 13, 40, ...: crosses page boundaries unevenly */
    }
    return st == STAGING_OK ? staging_finish() : st;
}

int main(void)
{
    struct journal_entry e;
    struct image_header h;

    fakes_reset();
    flash_sim_reset();

    /* A good image: staged, journal STAGED with its digest, size and version. */
    make_image(9, BODY);
    CHECK_EQ(upload(img, sizeof img, 0), STAGING_OK);
    CHECK_MEM(flash_sim_at(STAGING_ADDR), img, sizeof img);
    journal_read(&e);
    CHECK_EQ(e.state, JOURNAL_STAGED);
    CHECK_EQ(e.image_version, 9);
    CHECK_EQ(e.image_size, sizeof img);
    memcpy(&h, img, sizeof h);
    CHECK_MEM(e.digest, h.body_sha256, 32);
    CHECK_EQ(staging_state(), STAGING_STAGED);
    CHECK(strstr(fake_console, "staging: receiving\r\n") != NULL);
    CHECK(strstr(fake_console, "staging: staged v9 (6512 bytes)\r\n") != NULL);

    /* A new upload first cancels the staged one, before any erase. */
    make_image(10, BODY);
    img[IMAGE_HEADER_SIZE + 100] ^= 1;   /* body no longer matches the digest */
    CHECK_EQ(upload(img, sizeof img, sizeof img), STAGING_ERR_INVALID);
    journal_read(&e);
    CHECK_EQ(e.state, JOURNAL_CANCELLED);   /* and nothing after it */
    CHECK(strstr(staging_error(), "digest") != NULL);
    CHECK(strstr(fake_console, "staging: rejected: verification failed: digest\r\n") != NULL);

    /* A header claiming more than the application slot: too large, at the header. */
    make_image(11, IMAGE_MAX_SIZE);
    CHECK_EQ(upload(img, sizeof img, 0), STAGING_ERR_TOO_LARGE);
    /* Announced larger than the slot: refused at begin. */
    CHECK_EQ(staging_begin(IMAGE_MAX_SIZE + 4), STAGING_ERR_TOO_LARGE);
    /* A broken header CRC: invalid as soon as the header is in. */
    make_image(12, BODY);
    img[0x40] ^= 0xFF;
    CHECK_EQ(upload(img, sizeof img, 0), STAGING_ERR_INVALID);
    CHECK(strstr(staging_error(), "header-crc") != NULL);
    /* Truncated: invalid at finish. */
    make_image(13, BODY);
    CHECK_EQ(upload(img, sizeof img - 4, 0), STAGING_ERR_INVALID);
    CHECK(strstr(staging_error(), "truncated") != NULL);
    /* Transfer size differing from the header. */
    CHECK_EQ(upload(img, sizeof img, sizeof img + 4), STAGING_ERR_INVALID);
    /* Busy while receiving. */
    CHECK_EQ(staging_begin(0), STAGING_OK);
    CHECK_EQ(staging_begin(0), STAGING_ERR_BUSY);
    staging_abort("test");
    journal_read(&e);
    CHECK_EQ(e.state, JOURNAL_CANCELLED);

    /* And a good one again after all that. */
    make_image(14, BODY);
    CHECK_EQ(upload(img, sizeof img, sizeof img), STAGING_OK);
    journal_read(&e);
    CHECK_EQ(e.state, JOURNAL_STAGED);
    CHECK_EQ(e.image_version, 14);
    CHECK(app_slot_erased());
    CHECK_EQ(flash_sim_overprograms(), 0);
    return check_report("staging");
}
