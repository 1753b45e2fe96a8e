/*
 * http_parser.h - HTTP/1.x request head parsing (RFC 9112): request line and the few
 * headers this server acts on. The head is collected in a bounded buffer as it streams
 * in; a head that does not fit is refused with 431.
 */
#ifndef HTTP_PARSER_H
#define HTTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX       2048   /* browsers send 600-1200 bytes of headers */
#define HTTP_METHOD_MAX     8
#define HTTP_PATH_MAX       64
#define HTTP_CTYPE_MAX      128

struct http_request {
    char method[HTTP_METHOD_MAX];
    char path[HTTP_PATH_MAX];
    int version_minor;            /* HTTP/1.<minor> */
    int has_length;
    uint32_t content_length;
    char content_type[HTTP_CTYPE_MAX];
    int expect_continue;
    int chunked;                  /* Transfer-Encoding present: not supported */
    int close;                    /* Connection: close */
};

struct http_head {
    char buf[HTTP_HEAD_MAX];
    size_t len;
};

void http_head_init(struct http_head *h);
/*
 * Collect head bytes. Returns 0 when more are needed, 1 when the head is complete
 * (*used bytes were taken: the rest of data is body), or an HTTP status (431) on error.
 */
int http_head_feed(struct http_head *h, const uint8_t *data, size_t len, size_t *used);
/* Parse a complete head: 0, or the HTTP status to answer with (400, 505). */
int http_parse_request(struct http_head *h, struct http_request *req);

#endif /* HTTP_PARSER_H */
