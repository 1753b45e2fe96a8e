/*
 * fakes.h - host stand-ins for what the protocol tests do not exercise: the console
 * (captured), the application hooks, the journal (for the status page) and, unless the
 * test links the real staging.c, a recording staging writer.
 */
#ifndef FAKES_H
#define FAKES_H

#include <stddef.h>
#include <stdint.h>

#define FAKE_STAGING_CAP (600u * 1024u)

struct fake_staging {
    int begins, finishes, aborts;
    uint32_t expected;                /* the size given to begin() */
    uint8_t data[FAKE_STAGING_CAP];   /* what write() received */
    size_t len;
    int fail_finish;                  /* finish() reports a verification failure */
    uint32_t limit;                   /* write() beyond this is "too large" (0: none) */
};

extern struct fake_staging fake_staging;
extern char fake_console[8192];
extern size_t fake_console_len;
extern int fake_reboot_requests;
extern uint32_t fake_reboot_delay;
extern uint32_t fake_now;

void fakes_reset(void);          /* console and reboot requests */
void fake_staging_reset(void);

#endif /* FAKES_H */
