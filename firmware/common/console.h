/*
 * console.h - the USART1 console (PA9 TX, PA10 RX, 115200 8N1).
 *
 * The bench reads these lines to know what the firmware decided, so every line is
 * written whole, ending in "\r\n".
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stdint.h>

void console_init(uint32_t pclk2_hz);
void console_putc(char c);
void console_puts(const char *s);               /* as is, no newline added */
/* printf subset: %s %c %d %u %x %X %% with width and 0 flag (e.g. %08x). */
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int console_getc(void);                          /* -1 when nothing was received */
void console_flush(void);                        /* returns when the last byte has left */

#endif /* CONSOLE_H */
