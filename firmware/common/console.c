/* console.c - polled USART1 console on PA9 (TX) / PA10 (RX), 115200 8N1. */
#include "console.h"

#include <stdarg.h>

#include "regs/gpio.h"
#include "regs/rcc.h"
#include "regs/usart.h"

#define CONSOLE_BAUD 115200u
#define CONSOLE_AF_USART1 7u

void console_init(uint32_t pclk2_hz)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
    (void)RCC_APB2ENR;   /* RM0090 2.2.3: a read after enabling a clock lets it settle */

    /* PA9, PA10: alternate function 7, pull-up on RX so a floating line reads idle. */
    GPIO_MODER(GPIOA_BASE) = (GPIO_MODER(GPIOA_BASE) & ~(0xFu << 18)) |
                             (GPIO_MODE_AF << 18) | (GPIO_MODE_AF << 20);
    GPIO_OSPEEDR(GPIOA_BASE) |= (GPIO_SPEED_HIGH << 18) | (GPIO_SPEED_HIGH << 20);
    GPIO_PUPDR(GPIOA_BASE) = (GPIO_PUPDR(GPIOA_BASE) & ~(3u << 20)) | (GPIO_PULL_UP << 20);
    GPIO_AFRH(GPIOA_BASE) = (GPIO_AFRH(GPIOA_BASE) & ~0xFF0u) |
                            (CONSOLE_AF_USART1 << 4) | (CONSOLE_AF_USART1 << 8);

    USART_CR1(USART1_BASE) = 0;
    /* Oversampling by 16: BRR holds USARTDIV in 12.4 fixed point, rounded. */
    USART_BRR(USART1_BASE) = (pclk2_hz + CONSOLE_BAUD / 2u) / CONSOLE_BAUD;
    USART_CR1(USART1_BASE) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

void console_putc(char c)
{
    while (!(USART_SR(USART1_BASE) & USART_SR_TXE))
        ;
    USART_DR(USART1_BASE) = (uint8_t)c;
}

void console_puts(const char *s)
{
    while (*s)
        console_putc(*s++);
}

void console_flush(void)
{
    while (!(USART_SR(USART1_BASE) & USART_SR_TC))
        ;
}

int console_getc(void)
{
    uint32_t sr = USART_SR(USART1_BASE);

    if (sr & (USART_SR_RXNE | USART_SR_ORE))
        return (int)(USART_DR(USART1_BASE) & 0xFFu);   /* reading DR also clears ORE */
    return -1;
}

static void put_padded(const char *s, unsigned len, unsigned width, char pad)
{
    while (width > len) {
        console_putc(pad);
        width--;
    }
    while (len--)
        console_putc(*s++);
}

static void put_number(uint32_t v, unsigned base, int upper, int negative,
                       unsigned width, char pad)
{
    char buf[12];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    unsigned n = 0;

    do {
        buf[sizeof buf - 1 - n++] = digits[v % base];
        v /= base;
    } while (v);
    if (negative) {
        if (pad == '0') {
            console_putc('-');
            width = width ? width - 1 : 0;
        } else {
            buf[sizeof buf - 1 - n++] = '-';
        }
    }
    put_padded(&buf[sizeof buf - n], n, width, pad);
}

void console_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    while (*fmt) {
        char pad = ' ';
        unsigned width = 0;

        if (*fmt != '%') {
            console_putc(*fmt++);
            continue;
        }
        fmt++;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10u + (unsigned)(*fmt++ - '0');
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            unsigned len = 0;
            if (!s)
                s = "(null)";
            while (s[len])
                len++;
            put_padded(s, len, width, ' ');
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_padded(&c, 1, width, ' ');
            break;
        }
        case 'd': {
            int v = va_arg(ap, int);
            put_number(v < 0 ? 0u - (uint32_t)v : (uint32_t)v, 10, 0, v < 0, width, pad);
            break;
        }
        case 'u': put_number(va_arg(ap, unsigned), 10, 0, 0, width, pad); break;
        case 'x': put_number(va_arg(ap, unsigned), 16, 0, 0, width, pad); break;
        case 'X': put_number(va_arg(ap, unsigned), 16, 1, 0, width, pad); break;
        case '%': console_putc('%'); break;
        case '\0': fmt--; break;   /* a lone '%' at the end: print nothing more */
        default: console_putc('%'); console_putc(*fmt); break;
        }
        fmt++;
    }
    va_end(ap);
}
