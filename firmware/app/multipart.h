/*
 * multipart.h - a streaming multipart/form-data parser (RFC 7578, RFC 2046 section 5.1).
 *
 * Bytes arrive in pieces of any size (a TCP segment may end inside a delimiter); the
 * body of the first part that carries a filename is passed to the sink, all other parts
 * are skipped. Memory is bounded: one delimiter, one part-header block, one output chunk.
 */
#ifndef MULTIPART_H
#define MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#define MULTIPART_BOUNDARY_MAX  70
#define MULTIPART_HEADERS_MAX   512
#define MULTIPART_CHUNK         256

enum multipart_status {
    MP_OK = 0,
    MP_ERR_BOUNDARY = -1,    /* boundary missing or malformed */
    MP_ERR_SYNTAX = -2,      /* bad delimiter line or part headers */
    MP_ERR_HEADERS = -3,     /* part headers too long */
    MP_ERR_NO_FILE = -4,     /* the body ended without a file part */
    MP_ERR_TRUNCATED = -5,   /* the body ended before the closing delimiter */
    MP_ERR_SINK = -6         /* the sink refused the data */
};

/* Receives file bytes; returns 0 to go on, non-zero to stop the parser. */
typedef int (*multipart_sink_fn)(void *ctx, const uint8_t *data, size_t len);

struct multipart {
    char delim[4 + MULTIPART_BOUNDARY_MAX];   /* "\r\n--" boundary */
    size_t delim_len;
    size_t match;            /* bytes of delim matched so far */
    int state;
    int in_file;             /* the current part is the file */
    int file_seen;
    int file_done;
    char headers[MULTIPART_HEADERS_MAX];
    size_t headers_len;
    uint8_t out[MULTIPART_CHUNK];
    size_t out_len;
    multipart_sink_fn sink;
    void *ctx;
    uint32_t file_bytes;
};

/* Extract the boundary parameter of a Content-Type value into out (NUL-terminated). */
int multipart_boundary(const char *content_type, char *out, size_t cap);
int multipart_init(struct multipart *mp, const char *boundary, multipart_sink_fn sink,
                   void *ctx);
int multipart_feed(struct multipart *mp, const uint8_t *data, size_t len);
/* The body is complete: MP_OK only when a file part was read and closed properly. */
int multipart_finish(struct multipart *mp);
const char *multipart_strerror(int status);

#endif /* MULTIPART_H */
