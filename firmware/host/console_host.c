/*
 * console_host.c - console.h for the host tests: lines go to stdout only when
 * console_host_verbose is set, so a campaign of thousands of boots stays quiet.
 */
#include <stdarg.h>
#include <stdio.h>

#include "console.h"

int console_host_verbose;

void console_init(uint32_t pclk2_hz) { (void)pclk2_hz; }
void console_putc(char c) { if (console_host_verbose) putchar(c); }
void console_puts(const char *s) { if (console_host_verbose) fputs(s, stdout); }
int console_getc(void) { return -1; }
void console_flush(void) { fflush(stdout); }

void console_printf(const char *fmt, ...)
{
    va_list ap;

    if (!console_host_verbose)
        return;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}
