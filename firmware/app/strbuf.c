/* strbuf.c - bounded, always NUL-terminated text building. */
#include "strbuf.h"

void sb_init(struct strbuf *sb, char *buf, size_t cap)
{
    sb->buf = buf;
    sb->cap = cap;
    sb->len = 0;
    sb->overflow = 0;
    if (cap)
        buf[0] = '\0';
}

void sb_putc(struct strbuf *sb, char c)
{
    if (sb->len + 1 >= sb->cap) {
        sb->overflow = 1;
        return;
    }
    sb->buf[sb->len++] = c;
    sb->buf[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s)
{
    while (*s)
        sb_putc(sb, *s++);
}

void sb_putu(struct strbuf *sb, uint32_t v)
{
    char tmp[10];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n)
        sb_putc(sb, tmp[--n]);
}

void sb_puthex(struct strbuf *sb, const uint8_t *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        sb_putc(sb, hex[data[i] >> 4]);
        sb_putc(sb, hex[data[i] & 15u]);
    }
}

void sb_putjson(struct strbuf *sb, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    sb_putc(sb, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            sb_putc(sb, '\\');
            sb_putc(sb, (char)c);
        } else if (c < 0x20) {
            sb_puts(sb, "\\u00");
            sb_putc(sb, hex[c >> 4]);
            sb_putc(sb, hex[c & 15u]);
        } else {
            sb_putc(sb, (char)c);
        }
    }
    sb_putc(sb, '"');
}

void sb_puthtml(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            sb_puts(sb, "&lt;");
        else if (*s == '>')
            sb_puts(sb, "&gt;");
        else if (*s == '&')
            sb_puts(sb, "&amp;");
        else if (*s == '"')
            sb_puts(sb, "&quot;");
        else
            sb_putc(sb, *s);
    }
}
