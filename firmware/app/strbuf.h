/* strbuf.h - bounded text building without printf: responses, JSON, console reasons. */
#ifndef STRBUF_H
#define STRBUF_H

#include <stddef.h>
#include <stdint.h>

struct strbuf {
    char *buf;
    size_t cap;      /* including the terminating NUL */
    size_t len;
    int overflow;    /* something did not fit: the text is truncated */
};

void sb_init(struct strbuf *sb, char *buf, size_t cap);
void sb_putc(struct strbuf *sb, char c);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putu(struct strbuf *sb, uint32_t v);
void sb_puthex(struct strbuf *sb, const uint8_t *data, size_t len);
/* A JSON string literal, quotes included, with control characters escaped. */
void sb_putjson(struct strbuf *sb, const char *s);
/* Text safe inside HTML element content. */
void sb_puthtml(struct strbuf *sb, const char *s);

#endif /* STRBUF_H */
