/* fake_console.c - console.h into a buffer the tests read. */
#include <stdarg.h>
#include <stdio.h>

#include "console.h"
#include "fakes.h"

char fake_console[8192];
size_t fake_console_len;

void console_init(uint32_t pclk2_hz)
{
    (void)pclk2_hz;
}

void console_putc(char c)
{
    if (fake_console_len + 1 < sizeof fake_console) {
        fake_console[fake_console_len++] = c;
        fake_console[fake_console_len] = '\0';
    }
}

void console_puts(const char *s)
{
    while (*s)
        console_putc(*s++);
}

void console_printf(const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    console_puts(line);
}

int console_getc(void)
{
    return -1;
}
