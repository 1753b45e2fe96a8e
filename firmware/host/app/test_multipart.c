/* test_multipart.c - the streaming multipart parser, split at every byte boundary. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "multipart.h"

static uint8_t sink_buf[8192];
static size_t sink_len;
static int sink_refuse_after = -1;

static int sink(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (sink_refuse_after >= 0 && sink_len + len > (size_t)sink_refuse_after)
        return -1;
    memcpy(sink_buf + sink_len, data, len);
    sink_len += len;
    return 0;
}

/* The file holds CRs, LFs, dashes and a near-boundary to trip a naive matcher. */
static const char file_content[] =
    "\x7f" "ELF\r\n--\r\n--XyZbounX\r\n--XyZboun\rd\r\r\n-\r\n--XyZ\r\n\r\n\x00\xff tail\r";

static size_t build_body(char *buf, const char *boundary)
{
    size_t n = 0;
    const size_t flen = sizeof file_content - 1;

    n += (size_t)sprintf(buf + n, "preamble to ignore\r\n--%s\r\n", boundary);
    n += (size_t)sprintf(buf + n, "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
                                  "not the file\r\n--%s\r\n", boundary);
    n += (size_t)sprintf(buf + n, "Content-Disposition: form-data; name=\"image\"; "
                                  "filename=\"app.img\"\r\n"
                                  "Content-Type: application/octet-stream\r\n\r\n");
    memcpy(buf + n, file_content, flen);
    n += flen;
    n += (size_t)sprintf(buf + n, "\r\n--%s\r\nContent-Disposition: form-data; name=\"x\"\r\n"
                                  "\r\nafter\r\n--%s--\r\nepilogue", boundary, boundary);
    return n;
}

static int parse_split(const char *body, size_t len, size_t split, const char *boundary)
{
    struct multipart mp;
    int st;

    sink_len = 0;
    CHECK_EQ(multipart_init(&mp, boundary, sink, NULL), MP_OK);
    st = multipart_feed(&mp, (const uint8_t *)body, split);
    if (st == MP_OK)
        st = multipart_feed(&mp, (const uint8_t *)body + split, len - split);
    if (st == MP_OK)
        st = multipart_finish(&mp);
    return st;
}

static void test_every_split(void)
{
    static char body[4096];
    size_t len = build_body(body, "XyZbound"), split;
    int bad = 0;

    for (split = 0; split <= len; split++) {
        int st = parse_split(body, len, split, "XyZbound");
        if (st != MP_OK || sink_len != sizeof file_content - 1 ||
            memcmp(sink_buf, file_content, sink_len) != 0) {
            if (!bad)
                fprintf(stderr, "split at %zu: status %d, %zu bytes\n", split, st, sink_len);
            bad++;
        }
    }
    CHECK_EQ(bad, 0);
}

static void test_byte_by_byte(void)
{
    static char body[4096];
    size_t len = build_body(body, "----WebKitFormBoundary7MA4YWxkTrZu0gW"), i;
    struct multipart mp;
    int st = MP_OK;

    sink_len = 0;
    CHECK_EQ(multipart_init(&mp, "----WebKitFormBoundary7MA4YWxkTrZu0gW", sink, NULL), MP_OK);
    for (i = 0; i < len && st == MP_OK; i++)
        st = multipart_feed(&mp, (const uint8_t *)body + i, 1);
    CHECK_EQ(st, MP_OK);
    CHECK_EQ(multipart_finish(&mp), MP_OK);
    CHECK_EQ(sink_len, sizeof file_content - 1);
    CHECK_MEM(sink_buf, file_content, sizeof file_content - 1);
}

static void test_errors(void)
{
    static char body[4096];
    size_t len = build_body(body, "XyZbound");
    struct multipart mp;
    char b[80];

    /* The wrong boundary: no delimiter is ever found. */
    CHECK_EQ(parse_split(body, len, len / 2, "Other"), MP_ERR_BOUNDARY);
    /* Cut before the closing delimiter. */
    CHECK_EQ(parse_split(body, len - 20, 7, "XyZbound"), MP_ERR_TRUNCATED);
    /* No part with a filename. */
    {
        const char *nf = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--\r\n";
        CHECK_EQ(parse_split(nf, strlen(nf), 3, "b"), MP_ERR_NO_FILE);
    }
    /* Garbage after a delimiter. */
    {
        const char *g = "--bXX\r\n";
        CHECK_EQ(parse_split(g, strlen(g), 1, "b"), MP_ERR_SYNTAX);
    }
    /* Part headers without Content-Disposition. */
    {
        const char *g = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--";
        CHECK_EQ(parse_split(g, strlen(g), 1, "b"), MP_ERR_SYNTAX);
    }
    /* Endless part headers are bounded. */
    {
        static char g[2048];
        size_t n = (size_t)sprintf(g, "--b\r\nX: ");
        memset(g + n, 'a', 1000);
        CHECK_EQ(parse_split(g, n + 1000, 1, "b"), MP_ERR_HEADERS);
    }
    /* The sink refusing stops the parser with MP_ERR_SINK. */
    sink_refuse_after = 4;
    CHECK_EQ(parse_split(body, len, 0, "XyZbound"), MP_ERR_SINK);
    sink_refuse_after = -1;
    /* Boundary extraction from Content-Type. */
    CHECK_EQ(multipart_boundary("multipart/form-data; boundary=abc123", b, sizeof b), MP_OK);
    CHECK(strcmp(b, "abc123") == 0);
    CHECK_EQ(multipart_boundary("Multipart/Form-Data; charset=x; BOUNDARY=\"q r\"", b, sizeof b),
             MP_OK);
    CHECK(strcmp(b, "q r") == 0);
    CHECK_EQ(multipart_boundary("multipart/form-data", b, sizeof b), MP_ERR_BOUNDARY);
    CHECK_EQ(multipart_boundary("multipart/form-data; boundary=", b, sizeof b), MP_ERR_BOUNDARY);
    CHECK_EQ(multipart_boundary("text/plain; boundary=abc", b, sizeof b), MP_ERR_BOUNDARY);
    CHECK_EQ(multipart_boundary("multipart/form-data; boundary=\"open", b, sizeof b),
             MP_ERR_BOUNDARY);
    memset(b, 0, sizeof b);
    {
        char ct[200];
        sprintf(ct, "multipart/form-data; boundary=%071d", 0);
        CHECK_EQ(multipart_boundary(ct, b, sizeof b), MP_ERR_BOUNDARY);   /* > 70 chars */
    }
    CHECK_EQ(multipart_init(&mp, "", sink, NULL), MP_ERR_BOUNDARY);
}

int main(void)
{
    test_every_split();
    test_byte_by_byte();
    test_errors();
    return check_report("multipart");
}
