/*
 * unit.c - the host build's small tools for tests/test_firmware_host.py, which checks
 * their answers against Python (hashlib, zlib, pybench.journal, pybench.image):
 *   unit sha256 FILE         SHA-256 of the file, hex
 *   unit crc32 FILE          CRC-32 of the file, hex
 *   unit verify IMAGE        load IMAGE into staging, print image_verify_slot()'s word
 *   unit journal-read A B    load two sector images, print the current state
 *   unit journal-append N A B   append N records from an empty journal, write the sectors
 *   unit boot SLOT STAGING A B  load the files ("-": erased) into the application slot,
 *                               staging and journal sectors, run boot_decide() with its
 *                               console lines on stdout, then "outcome N version V journal S seq Q"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_logic.h"
#include "crc32.h"
#include "flash.h"
#include "flash_layout.h"
#include "flash_sim.h"
#include "image.h"
#include "journal.h"
#include "sha256.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n;

    if (!f) {
        fprintf(stderr, "unit: %s: cannot open\n", path);
        exit(2);
    }
    *len = 0;
    do {
        if (*len + 65536 > cap) {
            cap = cap * 2 + 65536;
            buf = realloc(buf, cap);
            if (!buf)
                exit(2);
        }
        n = fread(buf + *len, 1, cap - *len, f);
        *len += n;
    } while (n);
    fclose(f);
    return buf;
}

static void spit(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
        fprintf(stderr, "unit: %s: cannot write\n", path);
        exit(2);
    }
}

extern int console_host_verbose;

static void load_region(const char *path, uint32_t addr, uint32_t max)
{
    size_t len;
    uint8_t *data;

    if (!strcmp(path, "-"))
        return;
    data = slurp(path, &len);
    if (len > max) {
        fprintf(stderr, "unit: %s: %zu bytes, larger than its region\n", path, len);
        exit(2);
    }
    memcpy(flash_sim_at(addr), data, len);
    free(data);
}

static void load_sector(const char *path, uint32_t addr)
{
    size_t len;
    uint8_t *data = slurp(path, &len);

    if (len != JOURNAL_SECTOR_SIZE) {
        fprintf(stderr, "unit: %s: %zu bytes, not a journal sector\n", path, len);
        exit(2);
    }
    memcpy(flash_sim_at(addr), data, len);
    free(data);
}

int main(int argc, char **argv)
{
    size_t len;
    uint8_t *data;
    unsigned i;

    flash_sim_reset();
    if (argc == 3 && !strcmp(argv[1], "sha256")) {
        struct sha256_ctx ctx;
        uint8_t d[32];
        size_t off;
        data = slurp(argv[2], &len);
        sha256_init(&ctx);
        /* Uneven pieces, so the buffering in sha256_update is exercised too. */
        for (off = 0, i = 1; off < len; off += i, i = i * 7 % 131 + 1)
            sha256_update(&ctx, data + off, len - off < i ? len - off : i);
        sha256_final(&ctx, d);
        for (i = 0; i < 32; i++)
            printf("%02x", d[i]);
        printf("\n");
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "crc32")) {
        data = slurp(argv[2], &len);
        printf("%08x\n", (unsigned)crc32_update(crc32_update(0, data, len / 2),
                                                data + len / 2, len - len / 2));
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "verify")) {
        data = slurp(argv[2], &len);
        if (len > STAGING_SIZE) {
            printf("%s\n", image_strerror(IMAGE_ERR_SIZE));
            return 0;
        }
        memcpy(flash_sim_at(STAGING_ADDR), data, len);
        printf("%s\n", image_strerror(image_verify_slot_signed(STAGING_ADDR, NULL)));
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "journal-read")) {
        struct journal_entry e;
        load_sector(argv[2], JOURNAL_A_ADDR);
        load_sector(argv[3], JOURNAL_B_ADDR);
        journal_read(&e);
        printf("%s seq %u copied %u size %u version %u floor %u\n",
               journal_state_name(e.state), (unsigned)e.seq, (unsigned)e.copied,
               (unsigned)e.image_size, (unsigned)e.image_version, (unsigned)e.floor);
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "journal-append")) {
        unsigned n = (unsigned)strtoul(argv[2], NULL, 0);
        for (i = 0; i < n; i++) {
            struct journal_entry e;
            memset(&e, 0, sizeof e);
            e.state = JOURNAL_STAGED + i % 3u;
            e.copied = i % 3u;
            e.image_size = 1000u + i;
            e.image_version = i;
            e.floor = i * 7u % 5u;   /* goes up and down: the journal keeps the largest */
            memset(e.digest, (int)(i & 0xFFu), sizeof e.digest);
            if (journal_append(&e) != FLASH_OK) {
                fprintf(stderr, "unit: append %u failed\n", i);
                return 1;
            }
        }
        spit(argv[3], flash_sim_at(JOURNAL_A_ADDR), JOURNAL_SECTOR_SIZE);
        spit(argv[4], flash_sim_at(JOURNAL_B_ADDR), JOURNAL_SECTOR_SIZE);
        return 0;
    }
    if (argc == 6 && !strcmp(argv[1], "boot")) {
        struct boot_decision d;
        struct journal_entry e;
        load_region(argv[2], APP_SLOT_ADDR, APP_SLOT_SIZE);
        load_region(argv[3], STAGING_ADDR, STAGING_SIZE);
        load_region(argv[4], JOURNAL_A_ADDR, JOURNAL_SECTOR_SIZE);
        load_region(argv[5], JOURNAL_B_ADDR, JOURNAL_SECTOR_SIZE);
        console_host_verbose = 1;
        boot_decide(&d);
        journal_read(&e);
        printf("outcome %d version %u journal %s seq %u\n", (int)d.outcome,
               (unsigned)d.version, journal_state_name(e.state), (unsigned)e.seq);
        return 0;
    }
    fprintf(stderr, "usage: unit sha256|crc32|verify FILE | journal-read A B |"
                    " journal-append N A B | boot SLOT STAGING A B\n");
    return 2;
}
