/* http_parser.c - bounded, incremental parsing of an HTTP/1.x request head. */
#include "http_parser.h"

#include <string.h>

void http_head_init(struct http_head *h)
{
    h->len = 0;
    h->buf[0] = '\0';
}

int http_head_feed(struct http_head *h, const uint8_t *data, size_t len, size_t *used)
{
    size_t i;

    for (i = 0; i < len; i++) {
        /* Leading empty lines before a request are allowed (RFC 9112 section 2.2). */
        if (h->len == 0 && (data[i] == '\r' || data[i] == '\n'))
            continue;
        if (h->len >= sizeof h->buf - 1) {
            *used = i;
            return 431;
        }
        h->buf[h->len++] = (char)data[i];
        h->buf[h->len] = '\0';
        if (h->len >= 4 && memcmp(h->buf + h->len - 4, "\r\n\r\n", 4) == 0) {
            *used = i + 1;
            return 1;
        }
    }
    *used = len;
    return 0;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int name_is(const char *name, size_t n, const char *want)
{
    size_t i;

    if (strlen(want) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (lower(name[i]) != want[i])
            return 0;
    return 1;
}

static int is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int parse_request_line(char *line, struct http_request *req)
{
    char *sp1 = strchr(line, ' '), *sp2;
    size_t n;

    if (sp1 == NULL)
        return 400;
    sp2 = strchr(sp1 + 1, ' ');
    if (sp2 == NULL || strchr(sp2 + 1, ' ') != NULL)
        return 400;
    n = (size_t)(sp1 - line);
    if (n == 0 || n >= sizeof req->method)
        return 400;
    memcpy(req->method, line, n);
    req->method[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(req->method[i]))
            return 400;
    n = (size_t)(sp2 - sp1 - 1);
    if (n == 0 || sp1[1] != '/')
        return 400;
    if (n >= sizeof req->path)
        return 414;
    memcpy(req->path, sp1 + 1, n);
    req->path[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)req->path[i] <= 0x20 || (unsigned char)req->path[i] >= 0x7F)
            return 400;
    /* A query string does not change what we serve. */
    if (strchr(req->path, '?') != NULL)
        *strchr(req->path, '?') = '\0';
    if (strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return 400;
    if (sp2[8] < '0' || sp2[8] > '9' || sp2[9] != '\0')
        return 400;
    req->version_minor = sp2[8] - '0';
    return 0;
}

static int parse_length(const char *v, uint32_t *out)
{
    uint32_t n = 0;

    if (*v == '\0')
        return -1;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || n > 429496729u || (n == 429496729u && *v > '5'))
            return -1;
        n = n * 10u + (uint32_t)(*v - '0');
    }
    *out = n;
    return 0;
}

static int parse_header(char *line, struct http_request *req)
{
    char *colon = strchr(line, ':'), *v, *end;
    size_t n;
    uint32_t len;

    if (colon == NULL || colon == line)
        return 400;
    n = (size_t)(colon - line);
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(line[i]))
            return 400;   /* also refuses whitespace before the colon (RFC 9112 5.1) */
    v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    end = v + strlen(v);
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    for (char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return 400;

    if (name_is(line, n, "content-length")) {
        if (parse_length(v, &len) != 0)
            return 400;
        if (req->has_length && req->content_length != len)
            return 400;
        req->has_length = 1;
        req->content_length = len;
    } else if (name_is(line, n, "content-type")) {
        if (strlen(v) >= sizeof req->content_type)
            return 400;
        strcpy(req->content_type, v);
    } else if (name_is(line, n, "transfer-encoding")) {
        req->chunked = 1;
    } else if (name_is(line, n, "expect")) {
        req->expect_continue = 1;
    } else if (name_is(line, n, "connection")) {
        req->close = v[0] == 'c' || v[0] == 'C';
    }
    return 0;
}

int http_parse_request(struct http_head *h, struct http_request *req)
{
    char *line = h->buf, *eol;
    int first = 1, st;

    memset(req, 0, sizeof *req);
    while ((eol = strstr(line, "\r\n")) != NULL) {
        *eol = '\0';
        if (*line == '\0')
            break;   /* the empty line that ends the head */
        /* A bare CR or LF inside a line is not HTTP. */
        if (strchr(line, '\r') != NULL || strchr(line, '\n') != NULL)
            return 400;
        if (first) {
            st = parse_request_line(line, req);
            first = 0;
        } else {
            if (*line == ' ' || *line == '\t')
                return 400;   /* obsolete line folding */
            st = parse_header(line, req);
        }
        if (st != 0)
            return st;
        line = eol + 2;
    }
    if (first)
        return 400;
    if (req->has_length && req->chunked)
        return 400;
    return 0;
}
