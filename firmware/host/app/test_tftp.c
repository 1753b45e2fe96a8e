/* test_tftp.c - the TFTP write server: options, order, duplicates, timeouts, refusals. */
#include <string.h>

#include "byteorder.h"
#include "check.h"
#include "fakes.h"
#include "tftp.h"

#define CLIENT_IP   0xC0A80701u
#define CPORT       3333

struct pkt {
    uint32_t ip;
    uint16_t sport, dport;
    uint8_t data[600];
    size_t len;
};

static struct pkt sent[64];
static size_t nsent;
static uint16_t tid;

static void capture(uint32_t ip, uint16_t sport, uint16_t dport, const uint8_t *d, size_t len)
{
    if (nsent < 64 && len <= sizeof sent[0].data) {
        sent[nsent].ip = ip;
        sent[nsent].sport = sport;
        sent[nsent].dport = dport;
        memcpy(sent[nsent].data, d, len);
        sent[nsent].len = len;
        nsent++;
    }
}

static const struct pkt *last(void)
{
    return nsent ? &sent[nsent - 1] : NULL;
}

static int is_ack(const struct pkt *p, uint16_t block)
{
    return p && p->len == 4 && get_be16(p->data) == 4 && get_be16(p->data + 2) == block;
}

static int is_error(const struct pkt *p, uint16_t code)
{
    return p && p->len >= 5 && get_be16(p->data) == 5 && get_be16(p->data + 2) == code &&
           p->data[p->len - 1] == 0;
}

static void reset(void)
{
    fakes_reset();
    fake_staging_reset();
    tftp_init(69, capture);
    nsent = 0;
    fake_now = 5000;
}

static void wrq(uint16_t cport, const char *mode, const char *opts, size_t optlen)
{
    uint8_t p[200];
    size_t n = 2;

    put_be16(p, 2);
    n += (size_t)sprintf((char *)p + n, "app.img") + 1;
    n += (size_t)sprintf((char *)p + n, "%s", mode) + 1;
    memcpy(p + n, opts, optlen);
    n += optlen;
    tftp_input(CLIENT_IP, cport, 69, p, n, fake_now);
}

static void data(uint16_t cport, uint16_t block, const uint8_t *d, size_t len)
{
    uint8_t p[1600];

    put_be16(p, 3);
    put_be16(p + 2, block);
    memcpy(p + 4, d, len);
    tftp_input(CLIENT_IP, cport, tid, p, 4 + len, fake_now);
}

static void test_blksize_transfer(void)
{
    static const char opts[] = "blksize\0" "16\0" "tsize\0" "40\0" "bogus\0" "1";
    uint8_t img[40];
    unsigned i;

    reset();
    for (i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 7);
    wrq(CPORT, "OCTET", opts, sizeof opts);
    CHECK_EQ(nsent, 1);
    /* OACK with exactly the options we took, sent from a new port (the TID). */
    CHECK_EQ(get_be16(last()->data), 6);
    CHECK_EQ(last()->len, 2 + sizeof "blksize\0" "16\0" "tsize\0" "40");
    CHECK_MEM(last()->data + 2, "blksize\0" "16\0" "tsize\0" "40", last()->len - 2);
    CHECK(last()->sport != 69);
    CHECK_EQ(last()->dport, CPORT);
    CHECK_EQ(fake_staging.begins, 1);
    CHECK_EQ(fake_staging.expected, 40);
    tid = last()->sport;

    data(CPORT, 1, img, 16);
    CHECK(is_ack(last(), 1));
    /* Duplicate block 1: re-acknowledged, not written twice. */
    data(CPORT, 1, img, 16);
    CHECK(is_ack(last(), 1));
    CHECK_EQ(fake_staging.len, 16);
    /* Out of order (block 3 before 2): ignored, the last ACK repeated. */
    data(CPORT, 3, img + 32, 8);
    CHECK(is_ack(last(), 1));
    CHECK_EQ(fake_staging.len, 16);
    CHECK_EQ(fake_staging.finishes, 0);
    data(CPORT, 2, img + 16, 16);
    CHECK(is_ack(last(), 2));
    /* A short block ends the transfer: verified, then acknowledged. */
    data(CPORT, 3, img + 32, 8);
    CHECK(is_ack(last(), 3));
    CHECK_EQ(fake_staging.finishes, 1);
    CHECK_EQ(fake_staging.len, 40);
    CHECK_MEM(fake_staging.data, img, 40);
    CHECK(!tftp_busy());
    /* Our last ACK lost: the client repeats block 3 and gets it again, nothing rewritten. */
    nsent = 0;
    data(CPORT, 3, img + 32, 8);
    CHECK(is_ack(last(), 3));
    CHECK_EQ(fake_staging.finishes, 1);
}

static void test_plain_transfer_and_timeouts(void)
{
    uint8_t block[512];
    unsigned i;

    reset();
    memset(block, 0xA5, sizeof block);
    wrq(CPORT, "octet", "", 0);
    CHECK(is_ack(last(), 0));   /* no options: ACK 0 */
    tid = last()->sport;
    CHECK_EQ(fake_staging.expected, 0);
    /* The WRQ repeated by the client: the ACK 0 again, one transfer. */
    wrq(CPORT, "octet", "", 0);
    CHECK(is_ack(last(), 0));
    CHECK_EQ(fake_staging.begins, 1);
    data(CPORT, 1, block, 512);
    CHECK(is_ack(last(), 1));
    /* A second client meanwhile is refused. */
    wrq(CPORT + 1, "octet", "", 0);
    CHECK(is_error(last(), 0));
    CHECK_EQ(last()->dport, CPORT + 1);
    CHECK_EQ(fake_staging.begins, 1);
    /* A stranger on our TID port gets "unknown transfer ID"; the transfer goes on. */
    {
        uint8_t p[8] = { 0, 3, 0, 2, 1, 2, 3, 4 };
        tftp_input(CLIENT_IP + 5, CPORT, tid, p, sizeof p, fake_now);
        CHECK(is_error(last(), 5));
        CHECK_EQ(fake_staging.len, 512);
    }
    /* Silence: the last ACK is retransmitted after the timeout, then the transfer dies. */
    nsent = 0;
    fake_now += TFTP_TIMEOUT_MS - 1;
    tftp_poll(fake_now);
    CHECK_EQ(nsent, 0);
    fake_now += 1;
    tftp_poll(fake_now);
    CHECK(is_ack(last(), 1));
    for (i = 0; i < TFTP_MAX_RETRIES; i++) {
        fake_now += TFTP_TIMEOUT_MS;
        tftp_poll(fake_now);
    }
    CHECK(is_error(last(), 0));
    CHECK_EQ(fake_staging.aborts, 1);
    CHECK(!tftp_busy());
}

static void test_refusals(void)
{
    static const char big[] = "tsize\0" "99999999";
    uint8_t rrq[32] = { 0, 1 };
    uint8_t block[512] = { 0 };

    reset();
    memcpy(rrq + 2, "app.img\0octet", 14);
    tftp_input(CLIENT_IP, CPORT, 69, rrq, 16, fake_now);
    CHECK(is_error(last(), 2));
    wrq(CPORT, "netascii", "", 0);
    CHECK(is_error(last(), 4));
    CHECK_EQ(fake_staging.begins, 0);
    /* A malformed request: no NUL after the mode. */
    {
        uint8_t p[] = { 0, 2, 'a', 0, 'o', 'c', 't', 'e', 't' };
        tftp_input(CLIENT_IP, CPORT, 69, p, sizeof p, fake_now);
        CHECK(is_error(last(), 4));
    }
    /* Announced too large: disk full, before anything is erased. */
    wrq(CPORT, "octet", big, sizeof big);
    CHECK(is_error(last(), 3));
    CHECK_EQ(fake_staging.begins, 0);
    /* Too large while streaming: disk full. */
    fake_staging.limit = 600;
    wrq(CPORT, "octet", "", 0);
    tid = last()->sport;
    data(CPORT, 1, block, 512);
    CHECK(is_ack(last(), 1));
    data(CPORT, 2, block, 512);
    CHECK(is_error(last(), 3));
    CHECK(!tftp_busy());
    /* An image that fails verification: ERROR with the reason, no final ACK. */
    fake_staging_reset();
    fake_staging.fail_finish = 1;
    wrq(CPORT, "octet", "", 0);
    tid = last()->sport;
    data(CPORT, 1, block, 100);
    CHECK(is_error(last(), 0));
    CHECK(strstr((const char *)last()->data + 4, "digest") != NULL);
    /* blksize below 8 is refused (RFC 2348). */
    reset();
    wrq(CPORT, "octet", "blksize\0" "4", 10);
    CHECK(is_error(last(), 8));
    /* A block larger than negotiated ends the transfer. */
    reset();
    wrq(CPORT, "octet", "blksize\0" "8", 10);
    tid = last()->sport;
    data(CPORT, 1, block, 9);
    CHECK(is_error(last(), 4));
    CHECK_EQ(fake_staging.len, 0);
}

int main(void)
{
    test_blksize_transfer();
    test_plain_transfer_and_timeouts();
    test_refusals();
    return check_report("tftp");
}
