/* http.c - routes, upload streaming and responses of the HTTP server. */
#include "http.h"

#include <string.h>

#include "app.h"
#include "flash_layout.h"
#include "http_parser.h"
#include "multipart.h"
#include "staging.h"
#include "status.h"
#include "strbuf.h"
#include "tcp.h"

enum phase {
    P_HEAD = 0,     /* collecting the request head */
    P_BODY,         /* streaming an upload body */
    P_DISCARD       /* answered: whatever else arrives is dropped until the close */
};

enum body_kind { BODY_RAW = 0, BODY_MULTIPART };

struct http_conn {
    struct tcp_conn *tcp;
    enum phase phase;
    enum body_kind kind;
    uint32_t body_left;
    int staging_status;       /* last staging result seen by the multipart sink */
    int reboot;               /* reboot once this response has been delivered */
    uint32_t accepted_ms;     /* the request head is due HTTP_HEAD_TIMEOUT_MS after this */
    struct http_head head;
    struct http_request req;
};

static struct http_conn hconns[TCP_MAX_CONNS];
static struct http_conn *uploader;    /* the one connection feeding the staging writer */
static struct multipart mp;           /* one upload at a time, so one parser */
static char response[TCP_TX_BUF];
static uint32_t http_now;             /* the time of the last http_poll() */

static const char *reason_phrase(int code)
{
    switch (code) {
    case 100: return "Continue";
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    default: return "Error";
    }
}

/* Send a whole response and close; the body is text (one line for errors). */
static void respond(struct http_conn *hc, int code, const char *ctype, const char *allow,
                    const char *body, size_t body_len)
{
    struct strbuf sb;

    sb_init(&sb, response, sizeof response);
    sb_puts(&sb, "HTTP/1.1 ");
    sb_putu(&sb, (uint32_t)code);
    sb_putc(&sb, ' ');
    sb_puts(&sb, reason_phrase(code));
    sb_puts(&sb, "\r\nServer: pybench-app/" APP_VERSION_STR "\r\nContent-Type: ");
    sb_puts(&sb, ctype);
    sb_puts(&sb, "\r\nContent-Length: ");
    sb_putu(&sb, (uint32_t)body_len);
    if (allow != NULL) {
        sb_puts(&sb, "\r\nAllow: ");
        sb_puts(&sb, allow);
    }
    sb_puts(&sb, "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
    if (sb.len + body_len < sizeof response) {
        memcpy(response + sb.len, body, body_len);
        sb.len += body_len;
    }
    (void)tcp_send(hc->tcp, response, sb.len);
    tcp_close(hc->tcp);
    hc->phase = P_DISCARD;
}

static void respond_text(struct http_conn *hc, int code, const char *a, const char *b)
{
    char line[160];
    struct strbuf sb;

    sb_init(&sb, line, sizeof line);
    sb_puts(&sb, a);
    if (b != NULL && *b) {
        sb_puts(&sb, ": ");
        sb_puts(&sb, b);
    }
    sb_puts(&sb, "\n");
    respond(hc, code, "text/plain; charset=utf-8", NULL, line, sb.len);
}

/* A buffer for pages, separate from response[] which respond() assembles into. */
static char page[TCP_TX_BUF - 256];

static void serve_get(struct http_conn *hc, int json)
{
    struct strbuf sb;

    sb_init(&sb, page, sizeof page);
    if (json)
        status_json(&sb);
    else
        status_html(&sb);
    respond(hc, 200, json ? "application/json" : "text/html; charset=utf-8", NULL, page, sb.len);
}

static int staging_http_code(int st)
{
    switch (st) {
    case STAGING_ERR_BUSY: return 409;
    case STAGING_ERR_TOO_LARGE: return 413;
    case STAGING_ERR_INVALID: return 422;
    default: return 500;
    }
}

static void upload_done(struct http_conn *hc)
{
    if (uploader == hc)
        uploader = NULL;
}

static void upload_failed(struct http_conn *hc, int st)
{
    upload_done(hc);
    respond_text(hc, staging_http_code(st), staging_error(), NULL);
}

static int multipart_sink(void *ctx, const uint8_t *data, size_t len)
{
    struct http_conn *hc = ctx;

    hc->staging_status = staging_write(data, len);
    return hc->staging_status;
}

static void start_upload(struct http_conn *hc)
{
    struct http_request *r = &hc->req;
    char boundary[MULTIPART_BOUNDARY_MAX + 1];
    int st, multipart = strncmp(r->content_type, "multipart/", 10) == 0;

    if (r->chunked) {
        respond_text(hc, 400, "chunked bodies are not supported", "send Content-Length");
        return;
    }
    if (!r->has_length) {
        respond_text(hc, 400, "missing Content-Length", NULL);
        return;
    }
    if (multipart && multipart_boundary(r->content_type, boundary, sizeof boundary) != MP_OK) {
        respond_text(hc, 400, "bad multipart boundary", NULL);
        return;
    }
    /* A multipart body adds part headers around the image; the slot bounds the rest. */
    if (r->content_length > (multipart ? STAGING_SIZE : IMAGE_MAX_SIZE)) {
        respond_text(hc, 413, "image too large", "Content-Length exceeds the slot");
        return;
    }
    if (uploader != NULL || staging_state() == STAGING_RECEIVING) {
        respond_text(hc, 409, "another upload is in progress", NULL);
        return;
    }
    st = staging_begin(multipart ? 0 : r->content_length);
    if (st != STAGING_OK) {
        respond_text(hc, staging_http_code(st), staging_error(), NULL);
        return;
    }
    uploader = hc;
    hc->kind = multipart ? BODY_MULTIPART : BODY_RAW;
    hc->staging_status = STAGING_OK;
    if (multipart)
        (void)multipart_init(&mp, boundary, multipart_sink, hc);
    hc->body_left = r->content_length;
    hc->phase = P_BODY;
    if (r->expect_continue)
        (void)tcp_send(hc->tcp, "HTTP/1.1 100 Continue\r\n\r\n", 25);
}

static void finish_upload(struct http_conn *hc)
{
    char msg[64];
    struct strbuf sb;
    int st;

    if (hc->kind == BODY_MULTIPART) {
        st = multipart_finish(&mp);
        if (st != MP_OK) {
            staging_abort(multipart_strerror(st));
            upload_done(hc);
            respond_text(hc, 400, multipart_strerror(st), NULL);
            return;
        }
    }
    st = staging_finish();
    if (st != STAGING_OK) {
        upload_failed(hc, st);
        return;
    }
    upload_done(hc);
    sb_init(&sb, msg, sizeof msg);
    sb_puts(&sb, "staged v");
    sb_putu(&sb, staging_version());
    sb_puts(&sb, " (");
    sb_putu(&sb, staging_bytes());
    sb_puts(&sb, " bytes)\n");
    respond(hc, 202, "text/plain; charset=utf-8", NULL, msg, sb.len);
}

static void feed_body(struct http_conn *hc, const uint8_t *data, size_t n)
{
    int st;

    if (hc->kind == BODY_RAW) {
        st = staging_write(data, n);
        if (st != STAGING_OK) {
            upload_failed(hc, st);
            return;
        }
    } else {
        st = multipart_feed(&mp, data, n);
        if (st == MP_ERR_SINK) {
            upload_failed(hc, hc->staging_status);
            return;
        }
        if (st != MP_OK) {
            staging_abort(multipart_strerror(st));
            upload_done(hc);
            respond_text(hc, 400, multipart_strerror(st), NULL);
            return;
        }
    }
    hc->body_left -= (uint32_t)n;
    if (hc->body_left == 0)
        finish_upload(hc);
}

static void dispatch(struct http_conn *hc)
{
    struct http_request *r = &hc->req;
    int st = http_parse_request(&hc->head, r);
    int get = strcmp(r->method, "GET") == 0, post = strcmp(r->method, "POST") == 0;

    if (st != 0) {
        respond_text(hc, st, "malformed request", NULL);
        return;
    }
    if (strcmp(r->path, "/") == 0 || strcmp(r->path, "/status") == 0) {
        if (!get)
            respond(hc, 405, "text/plain", "GET", "method not allowed\n", 19);
        else
            serve_get(hc, r->path[1] != '\0');
    } else if (strcmp(r->path, "/update") == 0) {
        if (!post)
            respond(hc, 405, "text/plain", "POST", "method not allowed\n", 19);
        else
            start_upload(hc);
    } else if (strcmp(r->path, "/reboot") == 0) {
        if (!post) {
            respond(hc, 405, "text/plain", "POST", "method not allowed\n", 19);
        } else if (staging_state() == STAGING_RECEIVING) {
            respond_text(hc, 409, "an upload is in progress", NULL);
        } else {
            respond(hc, 202, "text/plain", NULL, "rebooting\n", 10);
            hc->reboot = 1;
            app_reboot_request(2000);   /* in case the client never acknowledges */
        }
    } else {
        respond_text(hc, 404, "not found", r->path);
    }
}

static size_t on_received(struct tcp_conn *c, const uint8_t *data, size_t len)
{
    struct http_conn *hc = tcp_app(c);
    size_t off = 0, used, n;
    int st;

    while (off < len && hc->tcp == c) {
        if (hc->phase == P_HEAD) {
            st = http_head_feed(&hc->head, data + off, len - off, &used);
            off += used;
            if (st == 1)
                dispatch(hc);
            else if (st != 0)
                respond_text(hc, st, "request head too large", NULL);
        } else if (hc->phase == P_BODY) {
            n = len - off < hc->body_left ? len - off : hc->body_left;
            feed_body(hc, data + off, n);
            off += n;
        } else {
            break;
        }
    }
    return len;   /* all consumed: the upload streams straight into flash */
}

static void on_accepted(struct tcp_conn *c)
{
    unsigned i;

    for (i = 0; i < TCP_MAX_CONNS; i++) {
        if (hconns[i].tcp == NULL) {
            memset(&hconns[i], 0, sizeof hconns[i]);
            hconns[i].tcp = c;
            hconns[i].accepted_ms = http_now;
            http_head_init(&hconns[i].head);
            tcp_set_app(c, &hconns[i]);
            return;
        }
    }
    tcp_abort(c);   /* cannot happen: there are as many slots as connections */
}

static void on_peer_closed(struct tcp_conn *c)
{
    struct http_conn *hc = tcp_app(c);

    if (hc->phase == P_BODY) {
        staging_abort("connection closed before the upload completed");
        upload_done(hc);
    }
    /* A half-closed client still reads: answer an incomplete request with 400. */
    if (hc->phase == P_BODY || (hc->phase == P_HEAD && hc->head.len > 0))
        respond_text(hc, 400, "incomplete request", NULL);
    tcp_close(c);
}

static void on_closed(struct tcp_conn *c, int reset)
{
    struct http_conn *hc = tcp_app(c);

    (void)reset;
    if (hc == NULL)
        return;
    if (hc->phase == P_BODY && uploader == hc) {
        staging_abort("connection lost during the upload");
        upload_done(hc);
    }
    if (hc->reboot)
        app_reboot_request(0);
    hc->tcp = NULL;
}

static const struct tcp_handler handler = {
    .accepted = on_accepted,
    .received = on_received,
    .peer_closed = on_peer_closed,
    .closed = on_closed,
};

void http_init(uint16_t port)
{
    memset(hconns, 0, sizeof hconns);
    http_now = 0;
    uploader = NULL;
    (void)tcp_listen(port, &handler);
}

/* Slow headers ("slowloris"): a head still incomplete at its deadline gets 408. */
static void head_deadlines(uint32_t now_ms)
{
    unsigned i;

    for (i = 0; i < TCP_MAX_CONNS; i++)
        if (hconns[i].tcp != NULL && hconns[i].phase == P_HEAD &&
            now_ms - hconns[i].accepted_ms >= HTTP_HEAD_TIMEOUT_MS)
            respond_text(&hconns[i], 408, "request head not complete in time", NULL);
}

void http_poll(uint32_t now_ms)
{
    unsigned i;
    enum tcp_state s;

    http_now = now_ms;
    head_deadlines(now_ms);
    for (i = 0; i < TCP_MAX_CONNS; i++) {
        if (hconns[i].tcp == NULL || !hconns[i].reboot)
            continue;
        /* Our FIN is acknowledged, so the 202 before it has been delivered. */
        s = tcp_state_of(hconns[i].tcp);
        if (s == TCP_FIN_WAIT_2 || s == TCP_TIME_WAIT || s == TCP_CLOSED)
            app_reboot_request(0);
    }
}
