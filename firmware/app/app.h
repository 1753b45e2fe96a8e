/* app.h - what the network services ask of the application's main loop. */
#ifndef APP_H
#define APP_H

#include <stdint.h>

#ifndef APP_VERSION
#define APP_VERSION 0
#endif
#ifndef APP_VERSION_STR
#define APP_VERSION_STR "0.0.0"
#endif
#ifndef AUTO_REBOOT
#define AUTO_REBOOT 0
#endif
#define AUTO_REBOOT_DELAY_MS 500u

/* Reboot delay_ms from now (the earliest request wins); main.c does the reset. */
void app_reboot_request(uint32_t delay_ms);
/* Milliseconds since start, for the status page. */
uint32_t app_uptime_ms(void);

#endif /* APP_H */
