/*
 * http.h - the always-on HTTP/1.1 server: GET / (status page with upload form),
 * GET /status (JSON), POST /update (multipart/form-data or a raw body, streamed into
 * the staging writer), POST /reboot. Every response closes its connection.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdint.h>

/* A client has this long from its connection's accept to complete its request head;
 * then 408 and the connection is closed (slow clients must not hold slots). */
#define HTTP_HEAD_TIMEOUT_MS 10000u

void http_init(uint16_t port);
/* Reboots wait until the 202 has been delivered, request heads have a deadline; call
 * from the main loop. */
void http_poll(uint32_t now_ms);

#endif /* HTTP_H */
