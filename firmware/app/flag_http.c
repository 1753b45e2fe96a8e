/* flag_http.c - routes, pages and upload streaming of the sample-flag web server. */
#include "flag_http.h"

#include <string.h>

#include "app.h"
#include "http_parser.h"
#include "login.h"
#include "multipart.h"
#include "staging.h"
#include "strbuf.h"
#include "tcp.h"

#define RESET_FALLBACK_MS 2000u   /* reset even if the client never acknowledges */

enum phase {
    P_HEAD = 0,     /* collecting the request head */
    P_FORM,         /* collecting a login form body */
    P_UPLOAD,       /* streaming an upload body into staging */
    P_DISCARD       /* answered: whatever else arrives is dropped */
};

struct conn {
    struct tcp_conn *tcp;
    enum phase phase;
    int multipart;
    uint32_t body_left;
    int staging_status;
    int reset;            /* reset once this response has been delivered */
    struct http_head head;
    struct http_request req;
    char form[LOGIN_FORM_MAX];
    size_t form_len;
};

static struct conn conns[TCP_MAX_CONNS];
static struct conn *uploader;
static struct multipart mp;
static int update_mode;
static char response[TCP_TX_BUF];
static char page[TCP_TX_BUF - 256];

static const char *reason_phrase(int code)
{
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    default: return "Error";
    }
}

/* Send a whole HTML response and close our side. */
static void respond(struct conn *c, int code, const char *body, size_t len)
{
    struct strbuf sb;

    sb_init(&sb, response, sizeof response);
    sb_puts(&sb, "HTTP/1.1 ");
    sb_putu(&sb, (uint32_t)code);
    sb_putc(&sb, ' ');
    sb_puts(&sb, reason_phrase(code));
    sb_puts(&sb, "\r\nServer: sample-flag/" APP_VERSION_STR
                 "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ");
    sb_putu(&sb, (uint32_t)len);
    sb_puts(&sb, "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
    if (sb.len + len < sizeof response) {
        memcpy(response + sb.len, body, len);
        sb.len += len;
    }
    (void)tcp_send(c->tcp, response, sb.len);
    tcp_close(c->tcp);
    c->phase = P_DISCARD;
}

static void page_start(struct strbuf *sb, const char *title)
{
    sb_init(sb, page, sizeof page);
    sb_puts(sb, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>sample-flag: ");
    sb_puts(sb, title);
    sb_puts(sb, "</title></head><body>\n<h1>sample-flag v");
    sb_putu(sb, APP_VERSION);
    sb_puts(sb, "</h1>\n");
}

static void page_send(struct conn *c, int code, struct strbuf *sb)
{
    sb_puts(sb, "</body></html>\n");
    respond(c, code, page, sb->len);
}

/* A page with one paragraph: "text" or "text: detail". */
static void message(struct conn *c, int code, const char *text, const char *detail)
{
    struct strbuf sb;

    page_start(&sb, text);
    sb_puts(&sb, "<p>");
    sb_puthtml(&sb, text);
    if (detail != NULL && *detail) {
        sb_puts(&sb, ": ");
        sb_puthtml(&sb, detail);
    }
    sb_puts(&sb, "</p>\n");
    page_send(c, code, &sb);
}

static void status_page(struct conn *c)
{
    struct strbuf sb;

    page_start(&sb, "status");
    sb_puts(&sb, "<p>Firmware version " APP_VERSION_STR ", running.</p>\n");
    page_send(c, 200, &sb);
}

static void login_page(struct conn *c, int code, const char *note)
{
    struct strbuf sb;

    page_start(&sb, "login");
    if (note != NULL)
        sb_puts(&sb, note);
    sb_puts(&sb, "<form method=\"post\" action=\"/login\">\n"
                 "<p>User <input type=\"text\" name=\"username\"></p>\n"
                 "<p>Password <input type=\"password\" name=\"password\"></p>\n"
                 "<p><input type=\"submit\" value=\"Login\"></p>\n</form>\n");
    page_send(c, code, &sb);
}

static void upload_page(struct conn *c)
{
    struct strbuf sb;

    page_start(&sb, "update");
    sb_puts(&sb, "<form method=\"post\" action=\"/upload.cgi\" "
                 "enctype=\"multipart/form-data\">\n"
                 "<p><input type=\"file\" name=\"firmware\"></p>\n"
                 "<p><input type=\"submit\" value=\"Upload\"></p>\n</form>\n");
    page_send(c, 200, &sb);
}

static void upload_done(struct conn *c)
{
    if (uploader == c)
        uploader = NULL;
}

static void refused(struct conn *c, const char *why)
{
    upload_done(c);
    message(c, 400, "Update refused", why);
}

static int multipart_sink(void *ctx, const uint8_t *data, size_t len)
{
    struct conn *c = ctx;

    c->staging_status = staging_write(data, len);
    return c->staging_status;
}

static void start_upload(struct conn *c)
{
    struct http_request *r = &c->req;
    char boundary[MULTIPART_BOUNDARY_MAX + 1];

    if (!login_active()) {
        message(c, 403, "Login required", NULL);
        return;
    }
    if (r->chunked || !r->has_length) {
        refused(c, "a Content-Length is needed");
        return;
    }
    c->multipart = strncmp(r->content_type, "multipart/", 10) == 0;
    if (c->multipart && multipart_boundary(r->content_type, boundary, sizeof boundary) != MP_OK) {
        refused(c, "bad multipart boundary");
        return;
    }
    if (uploader != NULL || staging_state() == STAGING_RECEIVING) {
        refused(c, "another upload is in progress");
        return;
    }
    /* Erases the staging sectors: seconds during which the connection just waits. */
    if (staging_begin(c->multipart ? 0 : r->content_length) != STAGING_OK) {
        refused(c, staging_error());
        return;
    }
    uploader = c;
    c->staging_status = STAGING_OK;
    if (c->multipart)
        (void)multipart_init(&mp, boundary, multipart_sink, c);
    c->body_left = r->content_length;
    c->phase = P_UPLOAD;
    if (r->expect_continue)
        (void)tcp_send(c->tcp, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    if (c->body_left == 0)
        refused(c, "empty body");
}

static void finish_upload(struct conn *c)
{
    struct strbuf sb;
    int st;

    if (c->multipart) {
        st = multipart_finish(&mp);
        if (st != MP_OK) {
            staging_abort(multipart_strerror(st));
            refused(c, multipart_strerror(st));
            return;
        }
    }
    if (staging_finish() != STAGING_OK) {
        refused(c, staging_error());
        return;
    }
    upload_done(c);
    page_start(&sb, "staged");
    sb_puts(&sb, "<p>Update staged: ");
    sb_putu(&sb, staging_bytes());
    sb_puts(&sb, " bytes. <a href=\"/reset.cgi\">Reset</a> to install it.</p>\n");
    page_send(c, 200, &sb);
}

static void feed_upload(struct conn *c, const uint8_t *data, size_t n)
{
    int st;

    if (!c->multipart) {
        if (staging_write(data, n) != STAGING_OK) {
            refused(c, staging_error());
            return;
        }
    } else {
        st = multipart_feed(&mp, data, n);
        if (st == MP_ERR_SINK) {
            refused(c, staging_error());
            return;
        }
        if (st != MP_OK) {
            staging_abort(multipart_strerror(st));
            refused(c, multipart_strerror(st));
            return;
        }
    }
    c->body_left -= (uint32_t)n;
    if (c->body_left == 0)
        finish_upload(c);
}

static void login_done(struct conn *c)
{
    if (login_form_ok(c->form, c->form_len)) {
        login_set(1);
        upload_page(c);
    } else {
        login_page(c, 403, "<p>Login failed.</p>\n");
    }
}

static void start_login(struct conn *c)
{
    if (c->req.chunked || !c->req.has_length || c->req.content_length > LOGIN_FORM_MAX) {
        message(c, c->req.content_length > LOGIN_FORM_MAX ? 413 : 400,
                "Bad login form", NULL);
        return;
    }
    c->form_len = 0;
    c->body_left = c->req.content_length;
    c->phase = P_FORM;
    if (c->req.expect_continue)
        (void)tcp_send(c->tcp, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    if (c->body_left == 0)
        login_done(c);
}

static void dispatch(struct conn *c)
{
    struct http_request *r = &c->req;
    int st = http_parse_request(&c->head, r);
    int get = strcmp(r->method, "GET") == 0, post = strcmp(r->method, "POST") == 0;

    if (st != 0) {
        message(c, st, "Malformed request", NULL);
    } else if (strcmp(r->path, "/") == 0 && get) {
        if (update_mode)
            login_page(c, 200, NULL);
        else
            status_page(c);
    } else if (!update_mode) {
        message(c, 404, "Not found", r->path);
    } else if (strcmp(r->path, "/login") == 0 && post) {
        start_login(c);
    } else if (strcmp(r->path, "/upload.cgi") == 0 && post) {
        start_upload(c);
    } else if (strcmp(r->path, "/reset.cgi") == 0 && get) {
        message(c, 200, "Resetting", NULL);
        c->reset = 1;
        app_reboot_request(RESET_FALLBACK_MS);
    } else {
        message(c, 404, "Not found", r->path);
    }
}

static size_t on_received(struct tcp_conn *t, const uint8_t *data, size_t len)
{
    struct conn *c = tcp_app(t);
    size_t off = 0, used, n;
    int st;

    while (off < len && c->tcp == t) {
        if (c->phase == P_HEAD) {
            st = http_head_feed(&c->head, data + off, len - off, &used);
            off += used;
            if (st == 1)
                dispatch(c);
            else if (st != 0)
                message(c, st, "Request head too large", NULL);
        } else if (c->phase == P_FORM) {
            n = len - off < c->body_left ? len - off : c->body_left;
            memcpy(c->form + c->form_len, data + off, n);
            c->form_len += n;
            c->body_left -= (uint32_t)n;
            off += n;
            if (c->body_left == 0)
                login_done(c);
        } else if (c->phase == P_UPLOAD) {
            n = len - off < c->body_left ? len - off : c->body_left;
            feed_upload(c, data + off, n);
            off += n;
        } else {
            break;
        }
    }
    return len;
}

static void on_accepted(struct tcp_conn *t)
{
    unsigned i;

    for (i = 0; i < TCP_MAX_CONNS; i++) {
        if (conns[i].tcp == NULL) {
            memset(&conns[i], 0, sizeof conns[i]);
            conns[i].tcp = t;
            http_head_init(&conns[i].head);
            tcp_set_app(t, &conns[i]);
            return;
        }
    }
    tcp_abort(t);
}

static void on_peer_closed(struct tcp_conn *t)
{
    struct conn *c = tcp_app(t);

    if (c->phase == P_UPLOAD) {
        staging_abort("connection closed before the upload completed");
        refused(c, "connection closed before the upload completed");
    } else if (c->phase == P_FORM || (c->phase == P_HEAD && c->head.len > 0)) {
        message(c, 400, "Incomplete request", NULL);
    }
    tcp_close(t);
}

static void on_closed(struct tcp_conn *t, int reset)
{
    struct conn *c = tcp_app(t);

    (void)reset;
    if (c == NULL)
        return;
    if (c->phase == P_UPLOAD && uploader == c) {
        staging_abort("connection lost during the upload");
        upload_done(c);
    }
    if (c->reset)
        app_reboot_request(0);
    c->tcp = NULL;
}

static const struct tcp_handler handler = {
    .accepted = on_accepted,
    .received = on_received,
    .peer_closed = on_peer_closed,
    .closed = on_closed,
};

void flag_http_init(uint16_t port, int update)
{
    memset(conns, 0, sizeof conns);
    uploader = NULL;
    update_mode = update;
    login_reset();
    (void)tcp_listen(port, &handler);
}

void flag_http_poll(uint32_t now_ms)
{
    unsigned i;
    enum tcp_state s;

    (void)now_ms;
    for (i = 0; i < TCP_MAX_CONNS; i++) {
        if (conns[i].tcp == NULL || !conns[i].reset)
            continue;
        /* Our FIN is acknowledged, so the page before it has been delivered. */
        s = tcp_state_of(conns[i].tcp);
        if (s == TCP_FIN_WAIT_2 || s == TCP_TIME_WAIT || s == TCP_CLOSED)
            app_reboot_request(0);
    }
}
