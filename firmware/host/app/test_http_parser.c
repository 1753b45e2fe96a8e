/* test_http_parser.c - request heads: good ones, malformed ones, oversized ones. */
#include <string.h>

#include "check.h"
#include "http_parser.h"

static struct http_request req;

/* Feed a head in pieces of `step` bytes; returns the parse status (or 431), 1 if short. */
static int parse(const char *text, size_t step, size_t *body_at)
{
    static struct http_head h;
    size_t off = 0, used, n;
    int st = 0;

    http_head_init(&h);
    while (off < strlen(text)) {
        n = strlen(text) - off < step ? strlen(text) - off : step;
        st = http_head_feed(&h, (const uint8_t *)text + off, n, &used);
        off += used;
        if (st != 0)
            break;
    }
    if (body_at)
        *body_at = off;
    if (st == 0)
        return 1;
    if (st != 1)
        return st;
    return http_parse_request(&h, &req);
}

static void test_good(void)
{
    const char *post = "POST /update?x=1 HTTP/1.1\r\nHost: 192.168.7.2\r\n"
                       "Content-Type: multipart/form-data; boundary=abc\r\n"
                       "content-length:  459264 \r\nExpect: 100-continue\r\n\r\nBODY";
    size_t step, at;

    for (step = 1; step < 40; step++) {
        CHECK_EQ(parse(post, step, &at), 0);
        CHECK_EQ(at, strlen(post) - 4);   /* the body starts right after the head */
    }
    CHECK(strcmp(req.method, "POST") == 0);
    CHECK(strcmp(req.path, "/update") == 0);
    CHECK_EQ(req.version_minor, 1);
    CHECK_EQ(req.has_length, 1);
    CHECK_EQ(req.content_length, 459264);
    CHECK(strcmp(req.content_type, "multipart/form-data; boundary=abc") == 0);
    CHECK_EQ(req.expect_continue, 1);
    CHECK_EQ(req.chunked, 0);

    CHECK_EQ(parse("\r\nGET / HTTP/1.0\r\n\r\n", 3, NULL), 0);
    CHECK(strcmp(req.path, "/") == 0);
    CHECK_EQ(req.version_minor, 0);
    CHECK_EQ(req.has_length, 0);
}

static void test_bad(void)
{
    static char big[5000];
    size_t n;

    CHECK_EQ(parse("GET /\r\n\r\n", 5, NULL), 400);                      /* no version */
    CHECK_EQ(parse("GET  / HTTP/1.1\r\n\r\n", 5, NULL), 400);            /* double space */
    CHECK_EQ(parse("GET / HTTP/2.0\r\n\r\n", 5, NULL), 400);
    CHECK_EQ(parse("GET x HTTP/1.1\r\n\r\n", 5, NULL), 400);             /* not a path */
    CHECK_EQ(parse("G(T / HTTP/1.1\r\n\r\n", 5, NULL), 400);             /* not a token */
    CHECK_EQ(parse("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 5, NULL), 400);
    CHECK_EQ(parse("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 5, NULL), 400);
    CHECK_EQ(parse("GET / HTTP/1.1\r\n: x\r\n\r\n", 5, NULL), 400);
    CHECK_EQ(parse("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 5, NULL), 400);
    CHECK_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 5, NULL), 400);
    CHECK_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 5, NULL), 400);
    CHECK_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 5,
                   NULL), 400);
    CHECK_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                   5, NULL), 400);
    CHECK_EQ(parse("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 5, NULL), 400);  /* bare CR */
    /* Not complete yet: more bytes are needed. */
    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\n", 5, NULL), 1);
    /* Oversized head: 431, whatever the piece size. */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nCookie: ");
    memset(big + n, 'c', sizeof big - n - 1);
    big[sizeof big - 1] = '\0';
    CHECK_EQ(parse(big, 7, NULL), 431);
    CHECK_EQ(parse(big, 1500, NULL), 431);
    CHECK_EQ(parse(big, 4999, NULL), 431);
    /* A path longer than we keep. */
    n = (size_t)sprintf(big, "GET /");
    memset(big + n, 'p', 100);
    strcpy(big + n + 100, " HTTP/1.1\r\n\r\n");
    CHECK_EQ(parse(big, 9, NULL), 414);
}

int main(void)
{
    test_good();
    test_bad();
    return check_report("http_parser");
}
