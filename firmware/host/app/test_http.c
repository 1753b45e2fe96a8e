/* test_http.c - the HTTP server end to end over the TCP stack, with a recording staging. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fakes.h"
#include "harness.h"
#include "http.h"
#include "tcp.h"

struct client {
    uint16_t port;
    uint32_t snd, rcv;
    char resp[16384];
    size_t resp_len;
    int fin, rst;
};

static uint16_t next_port = 50000;

/* Take the device's segments to this client, in order, and acknowledge them. */
static void collect(struct client *c)
{
    struct tcp_seg s;
    size_t i;
    int got = 0;

    for (i = 0; i < out_count; i++) {
        if (parse_tcp(i, &s) != 0 || s.dport != c->port)
            continue;
        if (s.flags & TF_RST)
            c->rst = 1;
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

static void client_open(struct client *c)
{
    struct tcp_seg s;

    memset(c, 0, sizeof *c);
    c->port = next_port++;
    harness_clear();
    send_tcp(c->port, 80, 7000, 0, TF_SYN, 65535, NULL, 0);
    CHECK_EQ(last_tcp(&s), 0);
    c->rcv = s.seq + 1;
    c->snd = 7001;
    harness_clear();
    send_tcp(c->port, 80, c->snd, c->rcv, TF_ACK, 65535, NULL, 0);
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

static void client_close(struct client *c)
{
    send_tcp(c->port, 80, c->snd, c->rcv, TF_ACK | TF_FIN, 65535, NULL, 0);
    c->snd++;
    collect(c);
}

static int status_of(const struct client *c)
{
    return strncmp(c->resp, "HTTP/1.1 ", 9) == 0 ? atoi(c->resp + 9) : -1;
}

/* Request with a body; the response is complete when the device has sent its FIN. */
static int request(struct client *c, const char *head, const void *body, size_t len)
{
    client_open(c);
    client_send(c, head, strlen(head));
    if (len)
        client_send(c, body, len);
    return status_of(c);
}

static void reset(void)
{
    harness_init();
    fakes_reset();
    fake_staging_reset();
    http_init(80);
    fake_now = 100;
}

static void test_get(void)
{
    struct client c;
    char *body;

    reset();
    CHECK_EQ(request(&c, "GET /status HTTP/1.1\r\nHost: d\r\n\r\n", NULL, 0), 200);
    CHECK(c.fin);
    CHECK(strstr(c.resp, "Content-Type: application/json") != NULL);
    CHECK(strstr(c.resp, "\"version_number\":7") != NULL);
    CHECK(strstr(c.resp, "\"version\":\"7.0.0\"") != NULL);
    CHECK(strstr(c.resp, "\"journal\":{\"state\":\"empty\"") != NULL);
    body = strstr(c.resp, "\r\n\r\n");
    CHECK(body != NULL);
    if (body)
        CHECK_EQ(atoi(strstr(c.resp, "Content-Length: ") + 16), strlen(body + 4));
    client_close(&c);

    CHECK_EQ(request(&c, "GET / HTTP/1.1\r\n\r\n", NULL, 0), 200);
    CHECK(strstr(c.resp, "<input type=\"file\"") != NULL);
    CHECK(strstr(c.resp, "enctype=\"multipart/form-data\"") != NULL);
    CHECK(strstr(c.resp, "action=\"/update\"") != NULL);
    client_close(&c);

    CHECK_EQ(request(&c, "GET /nope HTTP/1.1\r\n\r\n", NULL, 0), 404);
    CHECK_EQ(request(&c, "PUT /status HTTP/1.1\r\n\r\n", NULL, 0), 405);
    CHECK(strstr(c.resp, "Allow: GET") != NULL);
    CHECK_EQ(request(&c, "GET /update HTTP/1.1\r\n\r\n", NULL, 0), 405);
    CHECK_EQ(request(&c, "GARBAGE\r\n\r\n", NULL, 0), 400);
    {
        static char head[5000];
        size_t n = (size_t)sprintf(head, "GET / HTTP/1.1\r\nX-Long: ");
        memset(head + n, 'a', 4000);
        strcpy(head + n + 4000, "\r\n\r\n");
        CHECK_EQ(request(&c, head, NULL, 0), 431);
    }
}

static uint8_t image[300000];

static void test_uploads(void)
{
    static char body[320000];
    struct client c;
    char head[512];
    size_t i, n;

    for (i = 0; i < sizeof image; i++)
        image[i] = (uint8_t)(i * 131u + (i >> 8));

    /* The browser's multipart form, with curl's Expect: 100-continue. */
    reset();
    n = (size_t)sprintf(body, "------b0undary\r\nContent-Disposition: form-data; name=\"image\"; "
                              "filename=\"app.img\"\r\nContent-Type: application/octet-stream"
                              "\r\n\r\n");
    memcpy(body + n, image, sizeof image);
    n += sizeof image;
    n += (size_t)sprintf(body + n, "\r\n------b0undary--\r\n");
    sprintf(head, "POST /update HTTP/1.1\r\nContent-Type: multipart/form-data; "
                  "boundary=----b0undary\r\nContent-Length: %zu\r\nExpect: 100-continue\r\n\r\n",
            n);
    client_open(&c);
    client_send(&c, head, strlen(head));
    CHECK(strcmp(c.resp, "HTTP/1.1 100 Continue\r\n\r\n") == 0);
    c.resp_len = 0;
    client_send(&c, body, n);
    CHECK_EQ(status_of(&c), 202);
    CHECK(strstr(c.resp, "staged v7") != NULL);
    CHECK_EQ(fake_staging.len, sizeof image);
    CHECK_MEM(fake_staging.data, image, sizeof image);
    CHECK_EQ(fake_staging.finishes, 1);
    client_close(&c);

    /* A raw body (curl --data-binary): the size is known up front. */
    reset();
    sprintf(head, "POST /update HTTP/1.1\r\nContent-Type: application/octet-stream\r\n"
                  "Content-Length: %zu\r\n\r\n", sizeof image);
    CHECK_EQ(request(&c, head, image, sizeof image), 202);
    CHECK_EQ(fake_staging.expected, sizeof image);
    CHECK_EQ(fake_staging.len, sizeof image);
    CHECK_MEM(fake_staging.data, image, sizeof image);

    /* The declared boundary is not the one in the body. */
    reset();
    sprintf(head, "POST /update HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=other\r\n"
                  "Content-Length: %zu\r\n\r\n", n);
    CHECK_EQ(request(&c, head, body, n), 400);
    CHECK(strstr(c.resp, "boundary") != NULL);
    CHECK_EQ(fake_staging.finishes, 0);

    /* No boundary parameter at all. */
    reset();
    CHECK_EQ(request(&c, "POST /update HTTP/1.1\r\nContent-Type: multipart/form-data\r\n"
                         "Content-Length: 10\r\n\r\n", NULL, 0), 400);
    CHECK_EQ(fake_staging.begins, 0);
    /* Missing Content-Length. */
    CHECK_EQ(request(&c, "POST /update HTTP/1.1\r\nContent-Type: application/octet-stream\r\n\r\n",
                     NULL, 0), 400);
    /* Larger than the slot: 413 before a byte is written. */
    CHECK_EQ(request(&c, "POST /update HTTP/1.1\r\nContent-Type: application/octet-stream\r\n"
                         "Content-Length: 9999999\r\n\r\n", NULL, 0), 413);
    CHECK_EQ(fake_staging.begins, 0);
    /* The image grows too large while streaming (the writer says so): 413. */
    reset();
    fake_staging.limit = 10000;
    sprintf(head, "POST /update HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", (size_t)20000);
    CHECK_EQ(request(&c, head, image, 20000), 413);
    /* Verification fails at the end: 422 with the reason. */
    reset();
    fake_staging.fail_finish = 1;
    sprintf(head, "POST /update HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", (size_t)4096);
    CHECK_EQ(request(&c, head, image, 4096), 422);
    CHECK(strstr(c.resp, "digest") != NULL);

    /* The client vanishes mid-upload: the transfer is abandoned, the writer freed. */
    reset();
    sprintf(head, "POST /update HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", sizeof image);
    client_open(&c);
    client_send(&c, head, strlen(head));
    client_send(&c, image, 5000);
    send_tcp(c.port, 80, c.snd, 0, TF_RST, 0, NULL, 0);
    CHECK_EQ(fake_staging.aborts, 1);
    CHECK_EQ(request(&c, head, image, sizeof image), 202);   /* a new upload is accepted */
}

static void test_reboot(void)
{
    struct client c;

    reset();
    CHECK_EQ(request(&c, "POST /reboot HTTP/1.1\r\nContent-Length: 0\r\n\r\n", NULL, 0), 202);
    CHECK(c.fin);
    /* The client has acknowledged our FIN: the response is delivered, reboot now. */
    fake_reboot_requests = 0;
    http_poll(fake_now);
    CHECK(fake_reboot_requests >= 1);
    CHECK_EQ(fake_reboot_delay, 0);
}

static void test_request_head_deadline(void)
{
    struct client slow, up;
    char head[128];
    unsigned i;

    reset();
    http_poll(fake_now);
    /* A client trickles its head a byte every 3 s ("slowloris"); another one sends an
     * upload's head at once and its body slowly, from the same instant. */
    client_open(&slow);
    client_send(&slow, "GET / HTTP/1.1\r\n", 16);
    sprintf(head, "POST /update HTTP/1.1\r\nContent-Length: %u\r\n\r\n", 4000u);
    client_open(&up);
    client_send(&up, head, strlen(head));
    for (i = 0; i < HTTP_HEAD_TIMEOUT_MS / 3000; i++) {
        fake_now += 3000;
        http_poll(fake_now);
        client_send(&slow, "X", 1);
        client_send(&up, image, 1000);
        CHECK_EQ(slow.resp_len, 0);
    }
    /* The bytes kept coming, but the head is not complete at the deadline: 408, FIN. */
    fake_now += HTTP_HEAD_TIMEOUT_MS % 3000 - 1;
    http_poll(fake_now);
    collect(&slow);
    CHECK_EQ(slow.resp_len, 0);
    fake_now += 1;
    http_poll(fake_now);
    collect(&slow);
    CHECK_EQ(status_of(&slow), 408);
    CHECK(strstr(slow.resp, "request head not complete in time") != NULL);
    CHECK(slow.fin);
    /* The deadline is for the head only: the upload's body goes on past it. */
    CHECK_EQ(up.resp_len, 0);
    CHECK_EQ(fake_staging.len, 3000);
    fake_now += 1000;
    http_poll(fake_now);
    client_send(&up, image + 3000, 1000);
    CHECK_EQ(status_of(&up), 202);
    CHECK_EQ(fake_staging.finishes, 1);
}

int main(void)
{
    test_get();
    test_uploads();
    test_reboot();
    test_request_head_deadline();
    return check_report("http");
}
