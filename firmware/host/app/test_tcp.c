/* test_tcp.c - the TCP receive path, acknowledgements, window, retransmission, close. */
#include <string.h>

#include "check.h"
#include "fakes.h"
#include "harness.h"
#include "netif.h"
#include "tcp.h"

#define PORT 80
#define CPORT 40000
#define ISN 1000u

static uint8_t got[65536];
static size_t got_len;
static size_t consume_limit = (size_t)-1;   /* bytes the app takes per call */
static int accepted, peer_closed, closed, closed_reset;
static struct tcp_conn *conn;

static void on_accepted(struct tcp_conn *c)
{
    accepted++;
    conn = c;
}

static size_t on_received(struct tcp_conn *c, const uint8_t *data, size_t len)
{
    size_t n = len < consume_limit ? len : consume_limit;

    (void)c;
    memcpy(got + got_len, data, n);
    got_len += n;
    return n;
}

static void on_peer_closed(struct tcp_conn *c)
{
    (void)c;
    peer_closed++;
}

static void on_closed(struct tcp_conn *c, int reset)
{
    (void)c;
    closed++;
    closed_reset = reset;
}

static const struct tcp_handler handler = { on_accepted, on_received, on_peer_closed, on_closed };

static void reset(void)
{
    harness_init();
    tcp_listen(PORT, &handler);
    got_len = 0;
    consume_limit = (size_t)-1;
    accepted = peer_closed = closed = closed_reset = 0;
    conn = NULL;
    fake_now = 1000;
}

/* Three-way handshake from CPORT; returns the device's ISS + 1. */
static uint32_t handshake(uint16_t cport)
{
    struct tcp_seg s;

    harness_clear();
    send_tcp(cport, PORT, ISN, 0, TF_SYN, 65535, NULL, 0);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.flags, TF_SYN | TF_ACK);
    CHECK_EQ(s.ack, ISN + 1);
    CHECK_EQ(s.mss, 1460);
    CHECK_EQ(s.wnd, TCP_RX_BUF);
    send_tcp(cport, PORT, ISN + 1, s.seq + 1, TF_ACK, 65535, NULL, 0);
    CHECK_EQ(accepted, 1);
    return s.seq + 1;
}

static void test_in_order_out_of_order_duplicate(void)
{
    struct tcp_seg s;
    uint32_t iss1;

    reset();
    iss1 = handshake(CPORT);

    harness_clear();
    send_tcp(CPORT, PORT, ISN + 1, iss1, TF_ACK | TF_PSH, 65535, "hello", 5);
    CHECK_EQ(got_len, 5);
    CHECK_MEM(got, "hello", 5);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.ack, ISN + 6);
    CHECK(s.flags & TF_ACK);

    /* Out of order (a gap of 5 bytes): dropped, re-acknowledged at the gap. */
    harness_clear();
    send_tcp(CPORT, PORT, ISN + 11, iss1, TF_ACK, 65535, "world", 5);
    CHECK_EQ(got_len, 5);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.ack, ISN + 6);

    /* Duplicate of what we have: acknowledged, not delivered twice. */
    harness_clear();
    send_tcp(CPORT, PORT, ISN + 1, iss1, TF_ACK, 65535, "hello", 5);
    CHECK_EQ(got_len, 5);
    CHECK_EQ(count_tcp(), 1);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.ack, ISN + 6);

    /* Overlap: the old part is trimmed, the new part delivered once. */
    send_tcp(CPORT, PORT, ISN + 4, iss1, TF_ACK, 65535, "lo, w", 5);
    CHECK_EQ(got_len, 8);
    CHECK_MEM(got, "hello, w", 8);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.ack, ISN + 9);

    /* The gap filled: in-order data flows again. */
    send_tcp(CPORT, PORT, ISN + 9, iss1, TF_ACK, 65535, "orld", 4);
    CHECK_EQ(got_len, 12);
    CHECK_MEM(got, "hello, world", 12);
}

static void test_window_tracks_free_buffer(void)
{
    static uint8_t block[TCP_MSS];
    struct tcp_seg s;
    uint32_t iss1, seq = ISN + 1;
    int i;

    reset();
    iss1 = handshake(CPORT);
    consume_limit = 0;   /* the application takes nothing: the buffer fills */
    memset(block, 'x', sizeof block);
    for (i = 0; i < 3; i++) {
        send_tcp(CPORT, PORT, seq, iss1, TF_ACK, 65535, block, sizeof block);
        seq += sizeof block;
        CHECK_EQ(last_tcp(&s), 0);
        CHECK_EQ(s.ack, seq);
        CHECK_EQ(s.wnd, TCP_RX_BUF - (uint32_t)(i + 1) * TCP_MSS);
    }
    /* More than the window: only what fits is accepted. */
    send_tcp(CPORT, PORT, seq, iss1, TF_ACK, 65535, block, sizeof block);
    send_tcp(CPORT, PORT, seq + TCP_MSS, iss1, TF_ACK, 65535, block, sizeof block);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.wnd, 0);
    CHECK_EQ(s.ack, ISN + 1 + TCP_RX_BUF);
    /* The application drains: a window update goes out by itself. */
    consume_limit = (size_t)-1;
    harness_clear();
    fake_now += 1;
    tcp_poll(fake_now);
    CHECK_EQ(got_len, TCP_RX_BUF);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.wnd, TCP_RX_BUF);
}

static void test_retransmission_and_close(void)
{
    struct tcp_seg s;
    uint32_t iss1;

    reset();
    iss1 = handshake(CPORT);
    harness_clear();
    CHECK_EQ(tcp_send(conn, "response", 8), 8);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.seq, iss1);
    CHECK_EQ(s.len, 8);
    CHECK_MEM(s.data, "response", 8);

    /* Unacknowledged: after the timeout the same bytes go out again. */
    harness_clear();
    fake_now += TCP_RTO_INITIAL_MS - 1;
    tcp_poll(fake_now);
    CHECK_EQ(count_tcp(), 0);
    fake_now += 1;
    tcp_poll(fake_now);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.seq, iss1);
    CHECK_EQ(s.len, 8);

    /* Acknowledged: nothing more is resent. */
    send_tcp(CPORT, PORT, ISN + 1, iss1 + 8, TF_ACK, 65535, NULL, 0);
    harness_clear();
    fake_now += 10 * TCP_RTO_MAX_MS;
    tcp_poll(fake_now);
    CHECK_EQ(count_tcp(), 0);

    /* We close: FIN; the peer acknowledges and closes too; TIME_WAIT, then free. */
    tcp_close(conn);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK(s.flags & TF_FIN);
    CHECK_EQ(s.seq, iss1 + 8);
    send_tcp(CPORT, PORT, ISN + 1, iss1 + 9, TF_ACK | TF_FIN, 65535, NULL, 0);
    CHECK_EQ(tcp_state_of(conn), TCP_TIME_WAIT);
    CHECK_EQ(closed, 1);
    CHECK_EQ(closed_reset, 0);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.ack, ISN + 2);
    /* A retransmitted FIN in TIME_WAIT is acknowledged again. */
    harness_clear();
    send_tcp(CPORT, PORT, ISN + 1, iss1 + 9, TF_ACK | TF_FIN, 65535, NULL, 0);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.ack, ISN + 2);
    fake_now += TCP_TIME_WAIT_MS;
    tcp_poll(fake_now);
    CHECK_EQ(tcp_state_of(conn), TCP_CLOSED);
}

static void test_peer_close_and_reset(void)
{
    struct tcp_seg s;
    uint32_t iss1;

    reset();
    iss1 = handshake(CPORT);
    send_tcp(CPORT, PORT, ISN + 1, iss1, TF_ACK | TF_FIN, 65535, "bye", 3);
    CHECK_EQ(got_len, 3);
    CHECK_EQ(peer_closed, 1);
    CHECK_EQ(tcp_state_of(conn), TCP_CLOSE_WAIT);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.ack, ISN + 5);   /* 3 bytes and the FIN */
    tcp_close(conn);
    CHECK_EQ(tcp_state_of(conn), TCP_LAST_ACK);
    send_tcp(CPORT, PORT, ISN + 5, iss1 + 1, TF_ACK, 65535, NULL, 0);
    CHECK_EQ(tcp_state_of(conn), TCP_CLOSED);
    CHECK_EQ(closed, 1);

    /* A reset inside the window ends the connection; one outside is ignored. */
    reset();
    iss1 = handshake(CPORT + 1);
    send_tcp(CPORT + 1, PORT, ISN + 100000, 0, TF_RST, 0, NULL, 0);
    CHECK_EQ(closed, 0);
    send_tcp(CPORT + 1, PORT, ISN + 1, 0, TF_RST, 0, NULL, 0);
    CHECK_EQ(closed, 1);
    CHECK_EQ(closed_reset, 1);
    CHECK_EQ(tcp_active_count(), 0);
    (void)iss1;
}

static void test_stray_segments(void)
{
    struct tcp_seg s;
    uint8_t f[200];
    size_t n;

    reset();
    /* An ACK for no connection: RST with seq = its ack. */
    harness_clear();
    send_tcp(CPORT, PORT, 5, 777, TF_ACK, 100, NULL, 0);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK(s.flags & TF_RST);
    CHECK_EQ(s.seq, 777);
    /* A SYN to a closed port: RST|ACK. */
    harness_clear();
    send_tcp(CPORT, 81, 5, 0, TF_SYN, 100, NULL, 0);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.flags, TF_RST | TF_ACK);
    CHECK_EQ(s.ack, 6);
    /* A bad checksum: dropped silently. */
    harness_clear();
    n = build_tcp(f, CPORT, PORT, ISN, 0, TF_SYN, 100, NULL, 0);
    f[n - 1] ^= 0x55;
    harness_input(f, n);
    CHECK_EQ(out_count, 0);
    CHECK_EQ(tcp_active_count(), 0);
    /* A retransmitted SYN while SYN_RCVD: the SYN-ACK again, one connection. */
    send_tcp(CPORT, PORT, ISN, 0, TF_SYN, 100, NULL, 0);
    send_tcp(CPORT, PORT, ISN, 0, TF_SYN, 100, NULL, 0);
    CHECK_EQ(tcp_active_count(), 1);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.flags, TF_SYN | TF_ACK);
}

/* A SYN from port p: 1 when it was answered with a SYN-ACK. */
static int syn_answered(uint16_t p)
{
    struct tcp_seg s;
    size_t i;

    harness_clear();
    send_tcp(p, PORT, ISN, 0, TF_SYN, 65535, NULL, 0);
    for (i = 0; i < out_count; i++)
        if (parse_tcp(i, &s) == 0 && s.dport == p && s.flags == (TF_SYN | TF_ACK))
            return 1;
    return 0;
}

/* The port the stack sent a reset to among the captured frames, or 0. */
static uint16_t reset_sent_to(void)
{
    struct tcp_seg s;
    size_t i;

    for (i = 0; i < out_count; i++)
        if (parse_tcp(i, &s) == 0 && (s.flags & TF_RST))
            return s.dport;
    return 0;
}

/* n clients from first_port on complete the handshake, 10 ms apart; none sends data. */
static void fill_established(uint16_t first_port, unsigned n)
{
    unsigned p;

    for (p = 0; p < n; p++) {
        fake_now += 10;
        accepted = 0;
        handshake((uint16_t)(first_port + p));
    }
}

static void test_silent_connections_give_way_only_after_a_while(void)
{
    uint32_t oldest;

    /* Eight clients connect and say nothing (a browser's preconnects, or clients whose
     * requests are still on their way): a new SYN is dropped, not given their slot. */
    reset();
    fill_established(CPORT + 10, TCP_MAX_CONNS);
    oldest = fake_now - (TCP_MAX_CONNS - 1) * 10;
    CHECK_EQ(tcp_active_count(), TCP_MAX_CONNS);
    fake_now = oldest + TCP_EVICT_IDLE_MS - 1;
    CHECK(!syn_answered(CPORT + 30));
    CHECK_EQ(closed, 0);
    CHECK_EQ(tcp_stats.syn_dropped, 1);
    /* Silent for TCP_EVICT_IDLE_MS: the oldest silent one is reset for the newcomer. */
    fake_now = oldest + TCP_EVICT_IDLE_MS;
    CHECK(syn_answered(CPORT + 31));
    CHECK_EQ(reset_sent_to(), CPORT + 10);
    CHECK_EQ(closed, 1);
    CHECK_EQ(closed_reset, 1);
    CHECK_EQ(tcp_stats.evicted, 1);

    /* Clients that keep sending (a byte every 5 s) are never taken by TCP: the HTTP head
     * deadline is what ends a request that trickles in (test_http). */
    reset();
    fill_established(CPORT + 10, TCP_MAX_CONNS);
    {
        uint32_t sent = 0, iss[TCP_MAX_CONNS];
        unsigned p, round;
        struct tcp_seg s;

        for (p = 0; p < TCP_MAX_CONNS; p++) {
            send_tcp((uint16_t)(CPORT + 10 + p), PORT, ISN, 0, TF_SYN, 65535, NULL, 0);
            CHECK_EQ(last_tcp(&s), 0);   /* a repeated SYN: our SYN-ACK's ACK again */
            iss[p] = s.seq;
        }
        for (round = 0; round < 6; round++) {
            fake_now += 5000;
            for (p = 0; p < TCP_MAX_CONNS; p++)
                send_tcp((uint16_t)(CPORT + 10 + p), PORT, ISN + 1 + sent, iss[p], TF_ACK,
                         65535, "x", 1);
            sent++;
            CHECK(!syn_answered((uint16_t)(CPORT + 40 + round)));
        }
        CHECK_EQ(closed, 0);
        CHECK_EQ(got_len, sent * TCP_MAX_CONNS);
    }
}

static void test_half_open_connections_give_way_first(void)
{
    unsigned p;

    /* Four silent established connections, then four SYNs nobody completes. */
    reset();
    fill_established(CPORT + 10, TCP_MAX_CONNS / 2);
    for (p = 0; p < TCP_MAX_CONNS / 2; p++) {
        fake_now += 10;
        CHECK(syn_answered((uint16_t)(CPORT + 20 + p)));
    }
    CHECK_EQ(tcp_active_count(), TCP_MAX_CONNS);
    /* Young half-open connections (the ACK may be on its way), nothing silent for long:
     * the newcomer waits. */
    fake_now += TCP_EVICT_HALF_OPEN_MS - 50;
    CHECK(!syn_answered(CPORT + 30));
    /* The half-open ones have been silent TCP_EVICT_HALF_OPEN_MS: the oldest goes first,
     * while the established ones, though silent longer, stay. */
    fake_now += 50;
    CHECK(syn_answered(CPORT + 31));
    CHECK_EQ(reset_sent_to(), CPORT + 20);
    CHECK_EQ(closed, 0);   /* never accepted: the application never saw it */
    /* Every handshake left incomplete goes before any established connection. */
    for (p = 1; p < TCP_MAX_CONNS / 2; p++) {
        fake_now += 10;
        CHECK(syn_answered((uint16_t)(CPORT + 31 + p)));
        CHECK_EQ(reset_sent_to(), CPORT + 20 + p);
    }
    CHECK_EQ(closed, 0);
    CHECK_EQ(tcp_stats.evicted, TCP_MAX_CONNS / 2);
}

static void test_a_client_whose_ack_was_lost_keeps_its_slot(void)
{
    struct tcp_seg s;
    uint32_t iss1;

    /* The burst: our SYN-ACK reached the client, its ACK did not reach us. */
    reset();
    harness_clear();
    send_tcp(CPORT, PORT, ISN, 0, TF_SYN, 65535, NULL, 0);
    CHECK_EQ(last_tcp(&s), 0);
    iss1 = s.seq + 1;
    fill_established(CPORT + 10, TCP_MAX_CONNS - 1);
    accepted = 0;
    /* More clients of the burst knock while the table is full. */
    fake_now += TCP_EVICT_HALF_OPEN_MS / 2;
    CHECK(!syn_answered(CPORT + 30));
    CHECK(!syn_answered(CPORT + 31));
    CHECK_EQ(accepted, 0);
    /* The client's request arrives (carrying the ACK): accepted and delivered at once. */
    harness_clear();
    send_tcp(CPORT, PORT, ISN + 1, iss1, TF_ACK | TF_PSH, 65535, "GET /", 5);
    CHECK_EQ(accepted, 1);
    CHECK_EQ(got_len, 5);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(s.ack, ISN + 6);
    CHECK_EQ(reset_sent_to(), 0);
}

static void test_waiting_connections_give_way_at_once(void)
{
    struct tcp_seg s;
    struct tcp_conn *closing;
    uint32_t iss1;

    /* One connection we closed and the client acknowledged (FIN_WAIT_2), seven busy. */
    reset();
    fake_now += 10;
    iss1 = handshake(CPORT);
    closing = conn;
    tcp_close(closing);
    send_tcp(CPORT, PORT, ISN + 1, iss1 + 1, TF_ACK, 65535, NULL, 0);
    CHECK_EQ(tcp_state_of(closing), TCP_FIN_WAIT_2);
    fill_established(CPORT + 10, TCP_MAX_CONNS - 1);
    /* A newcomer takes its slot at once: everything we sent has been delivered. */
    CHECK(syn_answered(CPORT + 30));
    CHECK_EQ(reset_sent_to(), CPORT);
    /* A connection in TIME_WAIT goes without a reset. */
    reset();
    fake_now += 10;
    iss1 = handshake(CPORT);
    tcp_close(conn);
    send_tcp(CPORT, PORT, ISN + 1, iss1 + 1, TF_ACK | TF_FIN, 65535, NULL, 0);
    CHECK_EQ(tcp_state_of(conn), TCP_TIME_WAIT);
    fill_established(CPORT + 10, TCP_MAX_CONNS - 1);
    CHECK(syn_answered(CPORT + 30));
    CHECK_EQ(reset_sent_to(), 0);
    CHECK_EQ(last_tcp(&s), 0);
    CHECK_EQ(tcp_stats.evicted, 1);
}

int main(void)
{
    test_in_order_out_of_order_duplicate();
    test_window_tracks_free_buffer();
    test_retransmission_and_close();
    test_peer_close_and_reset();
    test_stray_segments();
    test_silent_connections_give_way_only_after_a_while();
    test_half_open_connections_give_way_first();
    test_a_client_whose_ack_was_lost_keeps_its_slot();
    test_waiting_connections_give_way_at_once();
    return check_report("tcp");
}
