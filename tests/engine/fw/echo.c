/* Console input: bytes from the bench come back as a line once "\r" arrives. */
#include "fw.h"

int main(void)
{
    char line[64];
    unsigned len = 0;
    uart_init();
    uart_puts("echo ready\r\n");
    for (;;) {
        int c = uart_getc();
        if (c < 0)
            continue;
        if (c == '\r') {
            line[len] = 0;
            uart_puts("echo: ");
            uart_puts(line);
            uart_puts("\r\n");
            len = 0;
        } else if (len < sizeof line - 1) {
            line[len++] = (char)c;
        }
    }
}
