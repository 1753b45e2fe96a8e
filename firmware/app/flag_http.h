/*
 * flag_http.h - the sample-flag device's web server (docs/sample-flag.md).
 *
 * Normal mode: GET / answers a status page with the version. Update mode (the button
 * held at power-on): GET / answers a login page; POST /login (username, password) opens
 * the session and answers the upload form; POST /upload.cgi (multipart, file field
 * "firmware") stages the image when logged in (403 otherwise); GET /reset.cgi answers
 * "Resetting" and resets once the response has been delivered. A request is acted on as
 * soon as it is complete (Content-Length): the client need not close its side.
 */
#ifndef FLAG_HTTP_H
#define FLAG_HTTP_H

#include <stdint.h>

void flag_http_init(uint16_t port, int update_mode);
void flag_http_poll(uint32_t now_ms);

#endif /* FLAG_HTTP_H */
