/*
 * multipart.c - streaming multipart/form-data.
 *
 * The parser looks for "\r\n--boundary" as if the body began with "\r\n", so the first
 * delimiter needs no special case. A boundary holds no CR (RFC 2046 bchars), so after a
 * partial match fails only a CR can start a new match: no backtracking table is needed.
 */
#include "multipart.h"

#include <string.h>

enum {
    S_PREAMBLE = 0,  /* before the first delimiter */
    S_DELIM_TAIL,    /* after a delimiter: "--" closes, optional blanks then CRLF opens */
    S_CLOSE_DASH,    /* saw the first '-' of "--" */
    S_DELIM_LF,      /* saw CR after a delimiter */
    S_HEADERS,       /* part header lines up to the empty line */
    S_BODY,          /* part content */
    S_EPILOGUE,      /* after the close delimiter: ignored */
    S_FAILED
};

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive search of needle in the first n bytes of hay; index or -1. */
static long find_ci(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle), i, j;

    for (i = 0; i + k <= n; i++) {
        for (j = 0; j < k && lower(hay[i + j]) == lower(needle[j]); j++)
            ;
        if (j == k)
            return (long)i;
    }
    return -1;
}

int multipart_boundary(const char *ct, char *out, size_t cap)
{
    long at = find_ci(ct, strlen(ct), "boundary=");
    const char *p;
    size_t n = 0;
    int quoted;

    if (find_ci(ct, strlen(ct), "multipart/form-data") != 0 || at < 0)
        return MP_ERR_BOUNDARY;
    p = ct + at + 9;
    quoted = *p == '"';
    if (quoted)
        p++;
    while (*p && (quoted ? *p != '"' : (*p != ';' && *p != ' ' && *p != '\t'))) {
        if (n + 1 >= cap || n >= MULTIPART_BOUNDARY_MAX || *p == '\r' || *p == '\n')
            return MP_ERR_BOUNDARY;
        out[n++] = *p++;
    }
    if (quoted && *p != '"')
        return MP_ERR_BOUNDARY;
    if (n == 0)
        return MP_ERR_BOUNDARY;
    out[n] = '\0';
    return MP_OK;
}

int multipart_init(struct multipart *mp, const char *boundary, multipart_sink_fn sink,
                   void *ctx)
{
    size_t n = strlen(boundary), i;

    memset(mp, 0, sizeof *mp);
    if (n == 0 || n > MULTIPART_BOUNDARY_MAX)
        return MP_ERR_BOUNDARY;
    for (i = 0; i < n; i++)
        if (boundary[i] == '\r' || boundary[i] == '\n')
            return MP_ERR_BOUNDARY;
    memcpy(mp->delim, "\r\n--", 4);
    memcpy(mp->delim + 4, boundary, n);
    mp->delim_len = 4 + n;
    mp->match = 2;   /* the body starts as if after a CRLF */
    mp->state = S_PREAMBLE;
    mp->sink = sink;
    mp->ctx = ctx;
    return MP_OK;
}

static int flush(struct multipart *mp)
{
    int st = 0;

    if (mp->out_len && mp->in_file)
        st = mp->sink(mp->ctx, mp->out, mp->out_len);
    mp->file_bytes += (uint32_t)(mp->in_file ? mp->out_len : 0);
    mp->out_len = 0;
    if (st != 0) {
        mp->state = S_FAILED;
        return MP_ERR_SINK;
    }
    return MP_OK;
}

static int emit(struct multipart *mp, const uint8_t *data, size_t len)
{
    size_t n;
    int st;

    if (!mp->in_file)
        return MP_OK;
    while (len) {
        n = sizeof mp->out - mp->out_len < len ? sizeof mp->out - mp->out_len : len;
        memcpy(mp->out + mp->out_len, data, n);
        mp->out_len += n;
        data += n;
        len -= n;
        if (mp->out_len == sizeof mp->out && (st = flush(mp)) != MP_OK)
            return st;
    }
    return MP_OK;
}

/* The part headers are complete: is this the file part? */
static int end_headers(struct multipart *mp)
{
    const char *h = mp->headers;
    size_t n = mp->headers_len;
    long cd = find_ci(h, n, "content-disposition:");

    if (cd < 0)
        return MP_ERR_SYNTAX;
    mp->in_file = !mp->file_seen && find_ci(h + cd, n - (size_t)cd, "filename=") >= 0;
    if (mp->in_file)
        mp->file_seen = 1;
    mp->state = S_BODY;
    mp->match = 0;
    return MP_OK;
}

/* A whole delimiter matched. */
static int delimiter(struct multipart *mp)
{
    int st;

    if (mp->state == S_BODY) {
        if ((st = flush(mp)) != MP_OK)
            return st;
        if (mp->in_file)
            mp->file_done = 1;
        mp->in_file = 0;
    }
    mp->match = 0;
    mp->state = S_DELIM_TAIL;
    return MP_OK;
}

static int fail(struct multipart *mp, int st)
{
    mp->state = S_FAILED;
    return st;
}

int multipart_feed(struct multipart *mp, const uint8_t *data, size_t len)
{
    size_t i;
    int st;
    uint8_t c;

    for (i = 0; i < len; i++) {
        c = data[i];
        switch (mp->state) {
        case S_PREAMBLE:
        case S_BODY:
            if (c == (uint8_t)mp->delim[mp->match]) {
                if (++mp->match == mp->delim_len && (st = delimiter(mp)) != MP_OK)
                    return fail(mp, st);
                break;
            }
            /* The held prefix was content after all. */
            if (mp->state == S_BODY && mp->match &&
                (st = emit(mp, (const uint8_t *)mp->delim, mp->match)) != MP_OK)
                return fail(mp, st);
            if (c == '\r') {
                mp->match = 1;
            } else {
                mp->match = 0;
                if (mp->state == S_BODY && (st = emit(mp, &c, 1)) != MP_OK)
                    return fail(mp, st);
            }
            break;
        case S_DELIM_TAIL:
            if (c == '-')
                mp->state = S_CLOSE_DASH;
            else if (c == '\r')
                mp->state = S_DELIM_LF;
            else if (c != ' ' && c != '\t')
                return fail(mp, MP_ERR_SYNTAX);
            break;
        case S_CLOSE_DASH:
            if (c != '-')
                return fail(mp, MP_ERR_SYNTAX);
            mp->state = S_EPILOGUE;
            break;
        case S_DELIM_LF:
            if (c != '\n')
                return fail(mp, MP_ERR_SYNTAX);
            mp->state = S_HEADERS;
            mp->headers_len = 0;
            break;
        case S_HEADERS:
            if (mp->headers_len >= sizeof mp->headers - 1)
                return fail(mp, MP_ERR_HEADERS);
            mp->headers[mp->headers_len++] = (char)c;
            mp->headers[mp->headers_len] = '\0';
            /* An empty line ends the headers: CRLF at the start or CRLFCRLF. */
            if ((mp->headers_len == 2 && memcmp(mp->headers, "\r\n", 2) == 0) ||
                (mp->headers_len >= 4 &&
                 memcmp(mp->headers + mp->headers_len - 4, "\r\n\r\n", 4) == 0)) {
                if ((st = end_headers(mp)) != MP_OK)
                    return fail(mp, st);
            }
            break;
        case S_EPILOGUE:
            return MP_OK;
        default:
            return MP_ERR_SYNTAX;
        }
    }
    return MP_OK;
}

int multipart_finish(struct multipart *mp)
{
    if (mp->state == S_FAILED)
        return MP_ERR_SYNTAX;
    if (mp->state == S_PREAMBLE)
        return MP_ERR_BOUNDARY;   /* not one delimiter: the boundary does not match */
    if (mp->state != S_EPILOGUE)
        return MP_ERR_TRUNCATED;
    if (!mp->file_done)
        return MP_ERR_NO_FILE;
    return MP_OK;
}

const char *multipart_strerror(int status)
{
    switch (status) {
    case MP_OK: return "ok";
    case MP_ERR_BOUNDARY: return "multipart boundary missing or not found in the body";
    case MP_ERR_SYNTAX: return "malformed multipart body";
    case MP_ERR_HEADERS: return "multipart part headers too long";
    case MP_ERR_NO_FILE: return "no file part in the multipart body";
    case MP_ERR_TRUNCATED: return "multipart body ends before its closing boundary";
    case MP_ERR_SINK: return "upload refused";
    default: return "multipart error";
    }
}
