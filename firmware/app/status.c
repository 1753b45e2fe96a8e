/* status.c - render version, uptime, staging and journal state. */
#include "status.h"

#include "app.h"
#include "journal.h"
#include "staging.h"

/* The version the bootloader installs at the next reset, 0 if none: the journal's word. */
static uint32_t staged_version(const struct journal_entry *e)
{
    return e->state == JOURNAL_STAGED || e->state == JOURNAL_COPIED ? e->image_version : 0;
}

void status_json(struct strbuf *sb)
{
    struct journal_entry e;

    journal_read(&e);
    sb_puts(sb, "{\"version\":");
    sb_putjson(sb, APP_VERSION_STR);
    sb_puts(sb, ",\"version_number\":");
    sb_putu(sb, APP_VERSION);
    sb_puts(sb, ",\"uptime_ms\":");
    sb_putu(sb, app_uptime_ms());
    sb_puts(sb, ",\"staging\":{\"state\":");
    sb_putjson(sb, staging_state_name(staging_state()));
    sb_puts(sb, ",\"bytes\":");
    sb_putu(sb, staging_bytes());
    sb_puts(sb, ",\"error\":");
    sb_putjson(sb, staging_error());
    sb_puts(sb, "},\"journal\":{\"state\":");
    sb_putjson(sb, journal_state_name(e.state));
    sb_puts(sb, ",\"seq\":");
    sb_putu(sb, e.seq);
    sb_puts(sb, ",\"image_version\":");
    sb_putu(sb, e.image_version);
    sb_puts(sb, ",\"image_size\":");
    sb_putu(sb, e.image_size);
    sb_puts(sb, "},\"staged_version\":");
    if (staged_version(&e))
        sb_putu(sb, staged_version(&e));
    else
        sb_puts(sb, "null");
    sb_puts(sb, ",\"min_version\":");
    sb_putu(sb, staging_floor());
    sb_puts(sb, "}\n");
}

void status_html(struct strbuf *sb)
{
    struct journal_entry e;

    journal_read(&e);
    sb_puts(sb, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                "<title>pybench device</title></head><body>\n<h1>Firmware ");
    sb_puthtml(sb, APP_VERSION_STR);
    sb_puts(sb, "</h1>\n<table>\n<tr><th>version</th><td>");
    sb_putu(sb, APP_VERSION);
    sb_puts(sb, "</td></tr>\n<tr><th>uptime</th><td>");
    sb_putu(sb, app_uptime_ms() / 1000u);
    sb_puts(sb, " s</td></tr>\n<tr><th>staging</th><td>");
    sb_puthtml(sb, staging_state_name(staging_state()));
    sb_puts(sb, " (");
    sb_putu(sb, staging_bytes());
    sb_puts(sb, " bytes) ");
    sb_puthtml(sb, staging_error());
    sb_puts(sb, "</td></tr>\n<tr><th>journal</th><td>");
    sb_puthtml(sb, journal_state_name(e.state));
    sb_puts(sb, "</td></tr>\n<tr><th>staged</th><td>");
    if (staged_version(&e)) {
        sb_puts(sb, "v");
        sb_putu(sb, staged_version(&e));
        sb_puts(sb, ", installed at the next reboot");
    } else {
        sb_puts(sb, "none");
    }
    sb_puts(sb, "</td></tr>\n<tr><th>oldest version accepted</th><td>");
    sb_putu(sb, staging_floor());
    sb_puts(sb, "</td></tr>\n</table>\n"
                "<form method=\"post\" action=\"/update\" enctype=\"multipart/form-data\">\n"
                "<input type=\"file\" name=\"image\"> <input type=\"submit\" value=\"Upload\">\n"
                "</form>\n"
                "<form method=\"post\" action=\"/reboot\"><input type=\"submit\" "
                "value=\"Reboot\"></form>\n</body></html>\n");
}
