/*
 * test_tftp_flag.c - the sample-flag device's TFTP server: app/tftp.c as its build sets it
 * (no options, "[tftp] " lines, a reset 0.5 s after staging) over the real flag staging
 * writer and the simulated flash. The write request is acknowledged only after all
 * staging sectors are erased; a repeated request never starts a second transfer.
 */
#include <string.h>

#include "byteorder.h"
#include "check.h"
#include "crc32.h"
#include "fakes.h"
#include "flash_layout.h"
#include "flash_sim.h"
#include "tftp.h"

#define CLIENT_IP 0x0A000001u
#define CPORT     3333

struct pkt {
    uint16_t sport, dport;
    uint8_t data[600];
    size_t len;
    unsigned long ops;       /* flash operations done when it was sent */
};

static struct pkt sent[64];
static size_t nsent;
static struct sim_op oplog[200000];
static uint16_t tid;   /* the server's port for the current transfer */

static void capture(uint32_t ip, uint16_t sport, uint16_t dport, const uint8_t *d, size_t len)
{
    struct pkt *p;

    (void)ip;
    if (len > sizeof sent[0].data)
        return;
    if (nsent == sizeof sent / sizeof sent[0])
        nsent--;   /* full: the newest replaces the last one kept */
    p = &sent[nsent++];
    p->sport = sport;
    p->dport = dport;
    memcpy(p->data, d, len);
    p->len = len;
    p->ops = flash_sim_log_len();
}

static const struct pkt *last(void)
{
    return nsent ? &sent[nsent - 1] : NULL;
}

static int is_ack(const struct pkt *p, uint16_t block)
{
    return p && p->len == 4 && get_be16(p->data) == 4 && get_be16(p->data + 2) == block;
}

static void wrq(uint16_t cport, const char *name, int with_blksize)
{
    uint8_t p[64];
    size_t n = 2;

    put_be16(p, 2);
    strcpy((char *)p + n, name);
    n += strlen(name) + 1;
    strcpy((char *)p + n, "octet");
    n += 6;
    if (with_blksize) {
        memcpy(p + n, "blksize\0" "1428\0", 13);
        n += 13;
    }
    tftp_input(CLIENT_IP, cport, 69, p, n, fake_now);
    if (is_ack(last(), 0))
        tid = last()->sport;
}

static void data(uint16_t cport, uint16_t block, const uint8_t *d, size_t len)
{
    uint8_t p[4 + 512];

    put_be16(p, 3);
    put_be16(p + 2, block);
    memcpy(p + 4, d, len);
    tftp_input(CLIENT_IP, cport, tid, p, 4 + len, fake_now);
}

static void reset(void)
{
    flash_sim_reset();
    flash_sim_log(oplog, sizeof oplog / sizeof oplog[0]);
    fakes_reset();
    tftp_init(69, capture);
    nsent = 0;
    fake_now = 1000;
}

static uint32_t word(uint32_t addr)
{
    uint32_t w;

    memcpy(&w, flash_sim_at(addr), 4);
    return w;
}

static void make_image(uint8_t *img, size_t size)
{
    uint32_t sp = SRAM_BASE_ADDR + SRAM_TOTAL_SIZE, rst = (APP_SLOT_ADDR + 0x201u) | 1u;
    size_t i;

    for (i = 0; i < size; i++)
        img[i] = (uint8_t)(i * 13u + 5u);
    memcpy(img, &sp, 4);
    memcpy(img + 4, &rst, 4);
}

/* Send the image in 512-byte blocks; 0 when every block was acknowledged. */
static int send_image(uint16_t cport, const uint8_t *img, size_t size)
{
    size_t off = 0;
    uint16_t block = 1;

    for (;;) {
        size_t n = size - off < 512 ? size - off : 512;
        data(cport, block, img + off, n);
        if (!is_ack(last(), block))
            return -1;
        off += n;
        block++;
        if (n < 512)
            return 0;
    }
}

static void test_erase_before_ack(void)
{
    static uint8_t img[5000];
    unsigned long ops_at_ack, i;
    size_t before;

    reset();
    memset(flash_sim_at(STAGING_ADDR), 0, 64);   /* old contents to be erased */
    make_image(img, sizeof img);
    wrq(CPORT, "anything.bin", 1);
    CHECK_EQ(nsent, 1);
    CHECK(is_ack(last(), 0));                     /* no OACK: the option is ignored */
    CHECK(last()->sport != 69);
    ops_at_ack = last()->ops;
    CHECK_EQ(ops_at_ack, STAGING_LAST_SECTOR - STAGING_FIRST_SECTOR + 1);
    for (i = 0; i < ops_at_ack && i < 3; i++) {
        CHECK_EQ(oplog[i].kind, SIM_OP_ERASE);
        CHECK_EQ(oplog[i].addr, STAGING_FIRST_SECTOR + i);
    }
    CHECK(strstr(fake_console, "[tftp] write anything.bin blksize 512") != NULL);

    /* The client's WRQ again (it waited out the erase): ACK 0 again, no second erase. */
    before = nsent;
    wrq(CPORT, "anything.bin", 1);
    CHECK_EQ(nsent, before + 1);
    CHECK(is_ack(last(), 0));
    CHECK_EQ(flash_sim_log_len(), ops_at_ack);

    CHECK_EQ(send_image(CPORT, img, sizeof img), 0);
    CHECK(strstr(fake_console, "[tftp] image staged, resetting") != NULL);
    CHECK_EQ(fake_reboot_requests, 1);
    CHECK_EQ(fake_reboot_delay, 500);
    CHECK_MEM(flash_sim_at(STAGING_ADDR), img, sizeof img);
    CHECK_EQ(word(FLAG_AREA_ADDR + FLAG_WORD_OFFSET), FLAG_SET_VALUE);
    CHECK_EQ(word(FLAG_AREA_ADDR + FLAG_SIZE_OFFSET), sizeof img);
    CHECK_EQ(word(FLAG_AREA_ADDR + FLAG_CRC_OFFSET), crc32_update(0, img, sizeof img));
    /* The flag word is the last thing programmed. */
    CHECK_EQ(oplog[flash_sim_log_len() - 1].addr, FLAG_AREA_ADDR + FLAG_WORD_OFFSET);

    /* A late duplicate of the WRQ after the transfer: ignored, staging untouched. */
    before = nsent;
    wrq(CPORT, "anything.bin", 0);
    CHECK_EQ(nsent, before);
    CHECK_EQ(word(FLAG_AREA_ADDR + FLAG_WORD_OFFSET), FLAG_SET_VALUE);
}

static void test_new_upload_clears_the_flag_first(void)
{
    static uint8_t img[1024];

    reset();
    make_image(img, sizeof img);
    memcpy(flash_sim_at(FLAG_AREA_ADDR), "\xAA\x55\xAA\x55", 4);
    wrq(CPORT, "x", 0);
    CHECK(is_ack(last(), 0));
    CHECK_EQ(oplog[0].kind, SIM_OP_ERASE);
    CHECK_EQ(oplog[0].addr, FLAG_AREA_SECTOR);
    CHECK_EQ(last()->ops, 4);

    /* Another client while the transfer runs: busy. The first one goes on. */
    wrq(CPORT + 1, "y", 0);
    CHECK(last()->len > 4 && get_be16(last()->data) == 5 && last()->dport == CPORT + 1);
    CHECK_EQ(send_image(CPORT, img, sizeof img), 0);   /* 1024: two full blocks + empty */
    CHECK_EQ(word(FLAG_AREA_ADDR + FLAG_SIZE_OFFSET), sizeof img);
}

static void test_bad_image_refused(void)
{
    static uint8_t img[700];

    reset();
    make_image(img, sizeof img);
    memset(img + 4, 0, 4);   /* reset handler 0: not for the slot */
    wrq(CPORT, "bad.bin", 0);
    data(CPORT, 1, img, 512);
    CHECK(last()->len > 4 && get_be16(last()->data) == 5);
    CHECK(strstr(fake_console, "[tftp] image refused: vector table not for the application slot")
          != NULL);
    CHECK_EQ(fake_reboot_requests, 0);
    CHECK_EQ(word(FLAG_AREA_ADDR + FLAG_WORD_OFFSET), 0xFFFFFFFFu);

    /* Too large for the slot: refused when the data passes the slot's size. */
    reset();
    make_image(img, sizeof img);
    wrq(CPORT, "big.bin", 0);
    {
        uint16_t block;
        static uint8_t filler[512];

        memcpy(filler, img, 8);
        for (block = 1; block <= APP_SLOT_SIZE / 512u + 1u; block++) {
            data(CPORT, block, filler, 512);
            if (!is_ack(last(), block))
                break;
        }
        CHECK_EQ(block, APP_SLOT_SIZE / 512u + 1u);
    }
    CHECK(get_be16(last()->data) == 5);
    CHECK(strstr(fake_console, "[tftp] image refused: image larger than the application slot")
          != NULL);
    CHECK_EQ(word(FLAG_AREA_ADDR + FLAG_WORD_OFFSET), 0xFFFFFFFFu);
}

int main(void)
{
    test_erase_before_ack();
    test_new_upload_clears_the_flag_first();
    test_bad_image_refused();
    return check_report("tftp_flag");
}
