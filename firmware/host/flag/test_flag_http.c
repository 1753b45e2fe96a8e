/*
 * test_flag_http.c - the sample-flag web server (app/flag_http.c, app/login.c) over the
 * TCP stack, with a recording staging writer: the pages of both modes, the login step
 * before the upload, refusals, the reset after the page has been delivered. Requests are
 * answered while the client keeps its side open: no test client sends a FIN first.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fakes.h"
#include "flag_http.h"
#include "harness.h"
#include "login.h"
#include "tcp.h"

struct client {
    uint16_t port;
    uint32_t snd, rcv;
    char resp[16384];
    size_t resp_len;
    int fin;
};

static uint16_t next_port = 41000;

/* Take the device's in-order segments to this client and acknowledge them. */
static void collect(struct client *c)
{
    struct tcp_seg s;
    size_t i;
    int got = 0;

    for (i = 0; i < out_count; i++) {
        if (parse_tcp(i, &s) != 0 || s.dport != c->port)
            continue;
        if (s.seq == c->rcv && s.len && c->resp_len + s.len < sizeof c->resp) {
            memcpy(c->resp + c->resp_len, s.data, s.len);
            c->resp_len += s.len;
            c->resp[c->resp_len] = '\0';
            c->rcv += (uint32_t)s.len;
            got = 1;
        }
        if ((s.flags & TF_FIN) && s.seq + s.len == c->rcv) {
            c->rcv++;
            c->fin = 1;
            got = 1;
        }
    }
    harness_clear();
    if (got)
        send_tcp(c->port, 80, c->snd, c->rcv, TF_ACK, 65535, NULL, 0);
    harness_clear();
}

static void client_send(struct client *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t n;

    while (len) {
        n = len < 1460 ? len : 1460;
        send_tcp(c->port, 80, c->snd, c->rcv, TF_ACK | TF_PSH, 65535, p, n);
        c->snd += (uint32_t)n;
        p += n;
        len -= n;
        collect(c);
    }
}

/* Open, send head and body, collect: the status code of the answer (-1: none). */
static int request(struct client *c, const char *head, const void *body, size_t len)
{
    struct tcp_seg s;

    memset(c, 0, sizeof *c);
    c->port = next_port++;
    harness_clear();
    send_tcp(c->port, 80, 9000, 0, TF_SYN, 65535, NULL, 0);
    CHECK_EQ(last_tcp(&s), 0);
    c->rcv = s.seq + 1;
    c->snd = 9001;
    harness_clear();
    send_tcp(c->port, 80, c->snd, c->rcv, TF_ACK, 65535, NULL, 0);
    client_send(c, head, strlen(head));
    if (len)
        client_send(c, body, len);
    return strncmp(c->resp, "HTTP/1.1 ", 9) == 0 ? atoi(c->resp + 9) : -1;
}

static int post(struct client *c, const char *path, const char *ctype, const void *body,
                size_t len)
{
    char head[512];

    snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: d\r\nContent-Type: %s\r\n"
             "Content-Length: %zu\r\n\r\n", path, ctype, len);
    return request(c, head, body, len);
}

static int login(struct client *c, const char *form)
{
    return post(c, "/login", "application/x-www-form-urlencoded", form, strlen(form));
}

#define BOUNDARY "----pybenchFlagBoundary"

static int upload(struct client *c, const uint8_t *file, size_t n)
{
    static uint8_t body[8192];
    size_t len = 0;
    int k = snprintf((char *)body, sizeof body,
                     "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"firmware\"; "
                     "filename=\"app.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n");

    len = (size_t)k;
    memcpy(body + len, file, n);
    len += n;
    len += (size_t)snprintf((char *)body + len, sizeof body - len, "\r\n--" BOUNDARY "--\r\n");
    return post(c, "/upload.cgi", "multipart/form-data; boundary=" BOUNDARY, body, len);
}

static void reset(int update_mode)
{
    harness_init();
    fakes_reset();
    fake_staging_reset();
    flag_http_init(80, update_mode);
    fake_now = 100;
}

static void test_normal_mode(void)
{
    struct client c;

    reset(0);
    CHECK_EQ(request(&c, "GET / HTTP/1.1\r\nHost: d\r\n\r\n", NULL, 0), 200);
    CHECK(c.fin);
    CHECK(strstr(c.resp, "Firmware version 7.0.0") != NULL);
    CHECK(strstr(c.resp, "action=\"/login\"") == NULL);
    CHECK_EQ(login(&c, "username=admin&password=stm32"), 404);
    CHECK_EQ(request(&c, "GET /reset.cgi HTTP/1.1\r\n\r\n", NULL, 0), 404);
    CHECK_EQ(fake_reboot_requests, 0);
}

static void test_login_then_upload(void)
{
    static uint8_t image[3000];
    struct client c;
    size_t i;

    for (i = 0; i < sizeof image; i++)
        image[i] = (uint8_t)(i * 7u + 1u);
    reset(1);
    CHECK_EQ(request(&c, "GET / HTTP/1.1\r\n\r\n", NULL, 0), 200);
    CHECK(strstr(c.resp, "<form method=\"post\" action=\"/login\">") != NULL);
    CHECK(strstr(c.resp, "name=\"username\"") != NULL);
    CHECK(strstr(c.resp, "name=\"password\"") != NULL);
    CHECK(strstr(c.resp, "Content-Length: ") != NULL &&
          (size_t)atoi(strstr(c.resp, "Content-Length: ") + 16) ==
          strlen(strstr(c.resp, "\r\n\r\n") + 4));

    /* No login yet: refused, nothing staged. */
    CHECK_EQ(upload(&c, image, sizeof image), 403);
    CHECK(strstr(c.resp, "Login required") != NULL);
    CHECK_EQ(fake_staging.begins, 0);

    CHECK_EQ(login(&c, "username=admin&password=wrong"), 403);
    CHECK(strstr(c.resp, "Login failed") != NULL);
    CHECK_EQ(upload(&c, image, sizeof image), 403);

    /* The right account, encoded as a browser may: the upload form, answered at once. */
    CHECK_EQ(login(&c, "username=ad%6Din&password=stm%332"), 200);
    CHECK(c.fin);
    CHECK(strstr(c.resp, "action=\"/upload.cgi\"") != NULL);
    CHECK(strstr(c.resp, "enctype=\"multipart/form-data\"") != NULL);
    CHECK(strstr(c.resp, "name=\"firmware\"") != NULL);

    CHECK_EQ(upload(&c, image, sizeof image), 200);
    CHECK(strstr(c.resp, "Update staged") != NULL);
    CHECK_EQ(fake_staging.begins, 1);
    CHECK_EQ(fake_staging.finishes, 1);
    CHECK_EQ(fake_staging.len, sizeof image);
    CHECK_MEM(fake_staging.data, image, sizeof image);

    /* Staging refuses the image: 400 with its reason. */
    fake_staging.fail_finish = 1;
    CHECK_EQ(upload(&c, image, sizeof image), 400);
    CHECK(strstr(c.resp, "Update refused: verification failed: digest") != NULL);
    fake_staging.fail_finish = 0;

    /* Not multipart and no file part: refused, the upload aborted. */
    CHECK_EQ(post(&c, "/upload.cgi", "multipart/form-data; boundary=" BOUNDARY,
                  "--" BOUNDARY "--\r\n", strlen("--" BOUNDARY "--\r\n")), 400);
    CHECK(strstr(c.resp, "Update refused") != NULL);
    CHECK_EQ(request(&c, "GET /nothing HTTP/1.1\r\n\r\n", NULL, 0), 404);
}

static void test_reset_after_the_page(void)
{
    struct client c;

    reset(1);
    CHECK_EQ(request(&c, "GET /reset.cgi HTTP/1.1\r\n\r\n", NULL, 0), 200);
    CHECK(strstr(c.resp, "Resetting") != NULL);
    CHECK_EQ(fake_reboot_requests, 1);          /* the fallback, in case of no ACK */
    CHECK_EQ(fake_reboot_delay, 2000);
    CHECK(c.fin);                               /* collect() acknowledged the FIN */
    flag_http_poll(fake_now);
    CHECK(fake_reboot_requests >= 2);
    CHECK_EQ(fake_reboot_delay, 0);
}

static void test_form_fields(void)
{
    char v[16];
    const char *f = "a=1&username=x+y%21&password=&b";

    CHECK_EQ(login_field(f, strlen(f), "username", v, sizeof v), 0);
    CHECK(strcmp(v, "x y!") == 0);
    CHECK_EQ(login_field(f, strlen(f), "password", v, sizeof v), 0);
    CHECK(strcmp(v, "") == 0);
    CHECK_EQ(login_field(f, strlen(f), "user", v, sizeof v), -1);
    CHECK_EQ(login_field(f, strlen(f), "b", v, sizeof v), -1);
    CHECK_EQ(login_field("username=%4", 11, "username", v, sizeof v), -1);
    CHECK_EQ(login_field("username=%zz", 12, "username", v, sizeof v), -1);
    CHECK_EQ(login_field("username=%00", 12, "username", v, sizeof v), -1);
    CHECK_EQ(login_field("username=0123456789abcdef", 25, "username", v, sizeof v), -1);
    CHECK(login_form_ok("password=stm32&username=admin", 29));
    CHECK(!login_form_ok("username=admin&password=stm32x", 30));
    CHECK(!login_form_ok("username=admin", 14));
}

int main(void)
{
    test_normal_mode();
    test_login_then_upload();
    test_reset_after_the_page();
    test_form_fields();
    return check_report("flag_http");
}
