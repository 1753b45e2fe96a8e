/* status.h - the device status as JSON (GET /status) and as the HTML page (GET /). */
#ifndef STATUS_H
#define STATUS_H

#include "strbuf.h"

void status_json(struct strbuf *sb);
void status_html(struct strbuf *sb);

#endif /* STATUS_H */
