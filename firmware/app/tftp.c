/* tftp.c - lock-step TFTP write server feeding the staging writer. */
#include "tftp.h"

#include <string.h>

#include "app.h"
#include "byteorder.h"
#include "console.h"
#include "flash_layout.h"
#include "staging.h"
#include "strbuf.h"

#define OP_RRQ   1u
#define OP_WRQ   2u
#define OP_DATA  3u
#define OP_ACK   4u
#define OP_ERROR 5u
#define OP_OACK  6u

/*
 * Build-time options (the sample-flag device sets them, docs/sample-flag.md):
 * TFTP_OPTIONS 0 ignores RFC 2347 options (plain 512-byte blocks, no OACK);
 * TFTP_LOG is the console prefix; TFTP_RESET_AFTER_STAGED_MS, when defined, says
 * "image staged, resetting" and resets that long after a staged image, or says
 * "image refused: <why>" when staging refused it.
 */
#ifndef TFTP_OPTIONS
#define TFTP_OPTIONS 1
#endif
#ifndef TFTP_LOG
#define TFTP_LOG "tftp: "
#endif

enum { T_IDLE = 0, T_RECEIVING, T_DALLY };

static struct {
    int state;
    uint16_t port;           /* the well-known port: requests */
    uint16_t tid;            /* our port for the current transfer */
    uint16_t tid_next;
    uint32_t peer_ip;
    uint16_t peer_port;
    uint16_t block;          /* last block acknowledged */
    uint16_t blksize;
    uint32_t timeout_ms;
    uint32_t last_ms;
    unsigned retries;
    uint8_t last[64];        /* last ACK/OACK sent: resent on timeout and duplicates */
    size_t last_len;
    tftp_send_fn send;
} t;

static void send_error(uint32_t ip, uint16_t sport, uint16_t dport, uint16_t code,
                       const char *msg)
{
    uint8_t pkt[4 + 128];
    size_t n = strlen(msg);

    if (n > sizeof pkt - 5)
        n = sizeof pkt - 5;
    put_be16(pkt, OP_ERROR);
    put_be16(pkt + 2, code);
    memcpy(pkt + 4, msg, n);
    pkt[4 + n] = 0;
    console_printf(TFTP_LOG "error %u: %s\r\n", (unsigned)code, msg);
    t.send(ip, sport, dport, pkt, 5 + n);
}

static void send_last(void)
{
    t.send(t.peer_ip, t.tid, t.peer_port, t.last, t.last_len);
}

static void send_ack(uint16_t block, uint32_t now_ms)
{
    put_be16(t.last, OP_ACK);
    put_be16(t.last + 2, block);
    t.last_len = 4;
    t.last_ms = now_ms;
    t.retries = 0;
    send_last();
}

/* End the transfer with an error to the peer; staging has been told already. */
static void fail(uint16_t code, const char *msg)
{
#ifdef TFTP_RESET_AFTER_STAGED_MS
    console_printf(TFTP_LOG "image refused: %s\r\n", msg);
#endif
    send_error(t.peer_ip, t.tid, t.peer_port, code, msg);
    t.state = T_IDLE;
}

static int staging_tftp_code(int st)
{
    return st == STAGING_ERR_TOO_LARGE ? TFTP_ERR_DISK_FULL : TFTP_ERR_UNDEFINED;
}

static int ci_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        if (x != *b)
            return 0;
    }
    return *a == *b;
}

static int parse_uint(const char *s, uint32_t *out)
{
    uint32_t v = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 99999999u)
            return -1;
        v = v * 10u + (uint32_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static void oack_put(struct strbuf *sb, const char *name, uint32_t value)
{
    sb_puts(sb, name);
    sb_putc(sb, '\0');   /* the NULs stay: the packet length is sb->len */
    sb_putu(sb, value);
    sb_putc(sb, '\0');
}

static void write_request(uint32_t ip, uint16_t port, const uint8_t *data, size_t len,
                          uint32_t now_ms)
{
    const char *field[16];
    size_t nfields = 0, i = 2, start;
    uint32_t blksize = TFTP_BLKSIZE_DEFAULT, tsize = 0, timeout_s = 0, v;
    int has_blksize = 0, has_tsize = 0, st;
    struct strbuf sb;

    /* Every field is NUL-terminated: filename, mode, then option/value pairs. */
    while (i < len && nfields < 16) {
        start = i;
        while (i < len && data[i] != 0)
            i++;
        if (i == len)
            break;
        field[nfields++] = (const char *)data + start;
        i++;
    }
    if (nfields < 2 || i != len || (nfields & 1u)) {
        send_error(ip, t.port, port, TFTP_ERR_ILLEGAL, "malformed request");
        return;
    }
    if (!ci_equal(field[1], "octet")) {
        send_error(ip, t.port, port, TFTP_ERR_ILLEGAL, "only octet mode is supported");
        return;
    }
    for (i = 2; TFTP_OPTIONS && i + 1 < nfields; i += 2) {
        if (ci_equal(field[i], "blksize") && parse_uint(field[i + 1], &v) == 0) {
            if (v < 8) {
                send_error(ip, t.port, port, TFTP_ERR_OPTION, "blksize below 8");
                return;
            }
            blksize = v > TFTP_BLKSIZE_MAX ? TFTP_BLKSIZE_MAX : v;
            has_blksize = 1;
        } else if (ci_equal(field[i], "tsize") && parse_uint(field[i + 1], &v) == 0) {
            tsize = v;
            has_tsize = 1;
        } else if (ci_equal(field[i], "timeout") && parse_uint(field[i + 1], &v) == 0 &&
                   v >= 1 && v <= 255) {
            timeout_s = v;
        }
    }
    if (has_tsize && tsize > IMAGE_MAX_SIZE) {
        send_error(ip, t.port, port, TFTP_ERR_DISK_FULL, "image larger than the application slot");
        return;
    }
    st = staging_begin(tsize);
    if (st != STAGING_OK) {
        send_error(ip, t.port, port, st == STAGING_ERR_BUSY ? TFTP_ERR_UNDEFINED :
                   (uint16_t)staging_tftp_code(st),
                   st == STAGING_ERR_BUSY ? "server busy: another upload is in progress" :
                   staging_error());
        return;
    }
    t.state = T_RECEIVING;
    t.peer_ip = ip;
    t.peer_port = port;
    t.tid = t.tid_next;
    t.tid_next = (uint16_t)(t.tid_next + 1u < 65535u ? t.tid_next + 1u : TFTP_TID_BASE);
    t.block = 0;
    t.blksize = (uint16_t)blksize;
    t.timeout_ms = timeout_s ? timeout_s * 1000u : TFTP_TIMEOUT_MS;
    console_printf(TFTP_LOG "write %s blksize %u\r\n", field[0], (unsigned)blksize);
    if (!has_blksize && !has_tsize && timeout_s == 0) {
        send_ack(0, now_ms);
        return;
    }
    sb_init(&sb, (char *)t.last + 2, sizeof t.last - 2);
    if (has_blksize)
        oack_put(&sb, "blksize", blksize);
    if (has_tsize)
        oack_put(&sb, "tsize", tsize);
    if (timeout_s)
        oack_put(&sb, "timeout", timeout_s);
    put_be16(t.last, OP_OACK);
    t.last_len = 2 + sb.len;
    t.last_ms = now_ms;
    t.retries = 0;
    send_last();
}

static void data_block(const uint8_t *data, size_t len, uint32_t now_ms)
{
    uint16_t blk = get_be16(data + 2);
    size_t n = len - 4;
    int st;

    if (t.state == T_DALLY) {
        if (blk == t.block)
            send_last();   /* our last ACK was lost: the client repeats its last block */
        return;
    }
    if (blk != (uint16_t)(t.block + 1u)) {
        send_last();       /* duplicate or out of order: nothing written, re-ack */
        return;
    }
    if (n > t.blksize) {
        staging_abort("tftp block larger than blksize");
        fail(TFTP_ERR_ILLEGAL, "block larger than the negotiated blksize");
        return;
    }
    st = staging_write(data + 4, n);
    if (st != STAGING_OK) {
        fail((uint16_t)staging_tftp_code(st), staging_error());
        return;
    }
    if (n < t.blksize) {
        /* The last block: verify before acknowledging it, so a bad image is an ERROR. */
        st = staging_finish();
        if (st != STAGING_OK) {
            fail((uint16_t)staging_tftp_code(st), staging_error());
            return;
        }
        t.block = blk;
        send_ack(blk, now_ms);
        t.state = T_DALLY;
#ifdef TFTP_RESET_AFTER_STAGED_MS
        console_printf(TFTP_LOG "image staged, resetting\r\n");
        app_reboot_request(TFTP_RESET_AFTER_STAGED_MS);
#endif
        return;
    }
    t.block = blk;
    send_ack(blk, now_ms);
}

void tftp_input(uint32_t src_ip, uint16_t src_port, uint16_t dst_port, const uint8_t *data,
                size_t len, uint32_t now_ms)
{
    uint16_t op;

    if (len < 2)
        return;
    op = get_be16(data);
    if (dst_port == t.port) {
        if (op == OP_RRQ) {
            send_error(src_ip, t.port, src_port, TFTP_ERR_ACCESS,
                       "reads are not supported: this server only accepts writes");
        } else if (op == OP_WRQ) {
            if (t.state != T_IDLE && src_ip == t.peer_ip && src_port == t.peer_port) {
                /* The client's WRQ repeated (our reply was lost, or it waited out a slow
                 * erase): never a second transfer; before block 1, answer it again. */
                if (t.state == T_RECEIVING && t.block == 0)
                    send_last();
            } else if (t.state == T_RECEIVING) {
                send_error(src_ip, t.port, src_port, TFTP_ERR_UNDEFINED,
                           "server busy: one transfer at a time");
            } else {
                write_request(src_ip, src_port, data, len, now_ms);
            }
        } else {
            send_error(src_ip, t.port, src_port, TFTP_ERR_ILLEGAL, "expected RRQ or WRQ");
        }
        return;
    }
    if (t.state == T_IDLE || dst_port != t.tid)
        return;
    if (src_ip != t.peer_ip || src_port != t.peer_port) {
        send_error(src_ip, t.tid, src_port, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
        return;
    }
    t.last_ms = now_ms;
    if (op == OP_DATA && len >= 4) {
        data_block(data, len, now_ms);
    } else if (op == OP_ERROR) {
        if (t.state == T_RECEIVING)
            staging_abort("tftp client sent an error");
        t.state = T_IDLE;
    } else if (t.state == T_RECEIVING) {
        staging_abort("tftp protocol error");
        fail(TFTP_ERR_ILLEGAL, "expected DATA");
    }
}

void tftp_poll(uint32_t now_ms)
{
    if (t.state == T_DALLY && now_ms - t.last_ms >= TFTP_DALLY_MS)
        t.state = T_IDLE;
    if (t.state != T_RECEIVING || now_ms - t.last_ms < t.timeout_ms)
        return;
    if (++t.retries > TFTP_MAX_RETRIES) {
        staging_abort("tftp timeout");
        fail(TFTP_ERR_UNDEFINED, "timeout");
        return;
    }
    t.last_ms = now_ms;
    send_last();
}

void tftp_init(uint16_t port, tftp_send_fn send)
{
    memset(&t, 0, sizeof t);
    t.port = port;
    t.tid_next = TFTP_TID_BASE;
    t.send = send;
}

int tftp_busy(void)
{
    return t.state == T_RECEIVING;
}
