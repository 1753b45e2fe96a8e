/* tcp.c - passive-open TCP with retransmission, flow control and a short TIME_WAIT. */
#include "tcp.h"

#include <string.h>

#include "byteorder.h"
#include "checksum.h"
#include "ipv4.h"
#include "net_config.h"
#include "netif.h"

#define TCP_HDR_LEN 20u
#define F_FIN 0x01u
#define F_SYN 0x02u
#define F_RST 0x04u
#define F_PSH 0x08u
#define F_ACK 0x10u

#define SEQ_LT(a, b)  ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b)  ((int32_t)((a) - (b)) > 0)

struct tcp_conn {
    enum tcp_state state;
    uint32_t remote_ip;
    uint16_t remote_port;
    uint16_t local_port;
    const struct tcp_handler *h;
    void *app;
    uint8_t attached;        /* the application still owns it (closed() not yet called) */
    uint8_t fin_queued;      /* the application closed: FIN after the queued data */
    uint8_t fin_sent;        /* our FIN is counted in snd_nxt (cleared to resend it) */
    uint8_t fin_ever;        /* our FIN went out at least once */
    uint8_t fin_acked;
    uint8_t ack_now;
    uint8_t rtx_running;
    uint8_t retries;
    uint16_t peer_mss;
    uint32_t iss, irs;
    uint32_t snd_una, snd_nxt, snd_wnd;
    uint32_t snd_max;        /* highest snd_nxt: a timeout rewinds snd_nxt, not this */
    uint32_t rcv_nxt;
    uint32_t last_adv_wnd;
    uint32_t rto_ms, rtx_deadline;
    uint32_t last_rx_ms, time_wait_ms;
    size_t rx_len, tx_len;
    uint8_t rx[TCP_RX_BUF];
    uint8_t tx[TCP_TX_BUF];   /* tx[0] is the byte at snd_una (after the SYN) */
};

struct tcp_listener {
    uint16_t port;
    const struct tcp_handler *h;
};

/* The table is the stack's largest piece of RAM: in CCM on the chip (net_config.h),
 * which the startup code does not zero (and a reset keeps): table_ready, in .bss, says
 * whether this run cleared it yet; every entry point does so first. */
static struct tcp_conn conns[TCP_MAX_CONNS] NET_BIG_RAM;
static uint8_t table_ready;
struct tcp_stats tcp_stats;

static void table_init(void)
{
    if (!table_ready) {
        memset(conns, 0, sizeof conns);
        table_ready = 1;
    }
}
static struct tcp_listener listeners[TCP_MAX_LISTENERS];
static uint32_t tcp_now;
static uint32_t iss_seed = 0x1F2E3D4Cu;

static uint32_t rx_free(const struct tcp_conn *c)
{
    return (uint32_t)(TCP_RX_BUF - c->rx_len);
}

static void send_raw(uint32_t dst_ip, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                     uint8_t flags, uint16_t wnd, const uint8_t *data, size_t len, int mss_opt)
{
    uint8_t *t = ipv4_tx_payload();
    size_t hlen = TCP_HDR_LEN + (mss_opt ? 4u : 0u);
    uint32_t sum;

    put_be16(t, sport);
    put_be16(t + 2, dport);
    put_be32(t + 4, seq);
    put_be32(t + 8, (flags & F_ACK) ? ack : 0);
    t[12] = (uint8_t)((hlen / 4u) << 4);
    t[13] = flags;
    put_be16(t + 14, wnd);
    put_be16(t + 16, 0);
    put_be16(t + 18, 0);
    if (mss_opt) {
        t[20] = 2;   /* MSS option */
        t[21] = 4;
        put_be16(t + 22, TCP_MSS);
    }
    if (len)
        memcpy(t + hlen, data, len);
    sum = csum_pseudo(netif.ip, dst_ip, IPV4_PROTO_TCP, (uint16_t)(hlen + len));
    put_be16(t + 16, csum_finish(csum_add(sum, t, hlen + len)));
    (void)ipv4_output(dst_ip, IPV4_PROTO_TCP, hlen + len, tcp_now);
}

static void send_segment(struct tcp_conn *c, uint32_t seq, uint8_t flags, const uint8_t *data,
                         size_t len)
{
    uint32_t wnd = rx_free(c);

    if (wnd > 0xFFFFu)
        wnd = 0xFFFFu;
    c->last_adv_wnd = wnd;
    c->ack_now = 0;
    send_raw(c->remote_ip, c->local_port, c->remote_port, seq, c->rcv_nxt, flags | F_ACK,
             (uint16_t)wnd, data, len, (flags & F_SYN) != 0);
}

static void timer_start(struct tcp_conn *c)
{
    c->rtx_running = 1;
    c->rtx_deadline = tcp_now + c->rto_ms;
}

static void conn_free(struct tcp_conn *c)
{
    c->state = TCP_CLOSED;
    c->rtx_running = 0;
    c->rx_len = 0;
    c->tx_len = 0;
}

static void detach(struct tcp_conn *c, int reset)
{
    if (c->attached) {
        c->attached = 0;
        if (c->h->closed != NULL)
            c->h->closed(c, reset);
    }
}

static void enter_time_wait(struct tcp_conn *c)
{
    c->state = TCP_TIME_WAIT;
    c->rtx_running = 0;
    c->time_wait_ms = tcp_now;
    detach(c, 0);
}

static void tcp_output(struct tcp_conn *c)
{
    uint32_t off, n, wnd_left;

    if (c->state == TCP_SYN_RCVD) {
        if (c->ack_now)
            send_segment(c, c->iss, F_SYN, NULL, 0);
        return;
    }
    if (c->state == TCP_CLOSED || c->state == TCP_TIME_WAIT) {
        if (c->ack_now && c->state == TCP_TIME_WAIT)
            send_segment(c, c->snd_nxt, 0, NULL, 0);
        return;
    }
    for (;;) {
        off = c->snd_nxt - c->snd_una;
        if (!c->fin_sent && off < c->tx_len) {
            wnd_left = c->snd_wnd > off ? c->snd_wnd - off : 0;
            n = (uint32_t)c->tx_len - off;
            if (n > c->peer_mss)
                n = c->peer_mss;
            if (n > wnd_left)
                n = wnd_left;
            if (n == 0)
                break;   /* the peer's window is closed: the persist timer probes it */
            send_segment(c, c->snd_nxt, off + n == c->tx_len ? F_PSH : 0, c->tx + off, n);
            c->snd_nxt += n;
            if (SEQ_GT(c->snd_nxt, c->snd_max))
                c->snd_max = c->snd_nxt;
            continue;
        }
        if (c->fin_queued && !c->fin_sent && off == c->tx_len) {
            send_segment(c, c->snd_nxt, F_FIN, NULL, 0);
            c->snd_nxt++;
            if (SEQ_GT(c->snd_nxt, c->snd_max))
                c->snd_max = c->snd_nxt;
            c->fin_sent = 1;
            c->fin_ever = 1;
            if (c->state == TCP_ESTABLISHED)
                c->state = TCP_FIN_WAIT_1;
            else if (c->state == TCP_CLOSE_WAIT)
                c->state = TCP_LAST_ACK;
        }
        break;
    }
    if (c->ack_now)
        send_segment(c, c->snd_nxt, 0, NULL, 0);
    if ((c->snd_max != c->snd_una || c->tx_len > 0 || (c->fin_queued && !c->fin_sent)) &&
        !c->rtx_running)
        timer_start(c);
}

static void abort_conn(struct tcp_conn *c, int send_rst)
{
    if (send_rst && c->state != TCP_CLOSED && c->state != TCP_TIME_WAIT)
        send_raw(c->remote_ip, c->local_port, c->remote_port, c->snd_nxt, c->rcv_nxt,
                 F_RST | F_ACK, 0, NULL, 0, 0);
    conn_free(c);
    detach(c, 1);
}

/* Offer buffered data to the application; drop what it consumed. */
static void offer_buffered(struct tcp_conn *c)
{
    size_t used;

    if (c->rx_len == 0 || !c->attached || c->h->received == NULL)
        return;
    used = c->h->received(c, c->rx, c->rx_len);
    if (c->state == TCP_CLOSED)
        return;
    if (used > c->rx_len)
        used = c->rx_len;
    memmove(c->rx, c->rx + used, c->rx_len - used);
    c->rx_len -= used;
}

/* Take in-order data (at most the free window); returns the bytes accepted. */
static size_t take_data(struct tcp_conn *c, const uint8_t *data, size_t len)
{
    size_t take = len, used = 0;

    if (take > rx_free(c))
        take = rx_free(c);
    if (take == 0)
        return 0;
    c->rcv_nxt += (uint32_t)take;
    if (c->rx_len == 0 && c->attached && c->h->received != NULL) {
        used = c->h->received(c, data, take);
        if (c->state == TCP_CLOSED)
            return take;
        if (used > take)
            used = take;
    }
    memcpy(c->rx + c->rx_len, data + used, take - used);
    c->rx_len += take - used;
    if (used == 0)
        offer_buffered(c);
    return take;
}

static struct tcp_conn *find_conn(uint32_t ip, uint16_t sport, uint16_t dport)
{
    unsigned i;

    for (i = 0; i < TCP_MAX_CONNS; i++)
        if (conns[i].state != TCP_CLOSED && conns[i].remote_ip == ip &&
            conns[i].remote_port == sport && conns[i].local_port == dport)
            return &conns[i];
    return NULL;
}

/*
 * How willingly a connection gives its slot to a new SYN when none is free; 0: never.
 * Only waiting, half-open or silent connections give way, in this order:
 *   4  TIME_WAIT: only waiting for stray segments;
 *   3  FIN_WAIT_2: everything we sent is acknowledged, only the peer's FIN is missing;
 *   2  SYN_RECEIVED silent for TCP_EVICT_HALF_OPEN_MS: a handshake nobody completes (a
 *      SYN flood); a younger one may be a client whose ACK was lost, and we resend our
 *      SYN-ACK;
 *   1  any other state silent for TCP_EVICT_IDLE_MS: a peer that trickles its request
 *      or never sends one (the HTTP head deadline ends those earlier), or went away.
 * A connection that received something more recently is never taken: a client whose
 * ACK and request were lost in a burst retransmits them well within that (its
 * retransmissions may lose to the SYNs of the same burst several times in a row).
 */
static int evict_rank(const struct tcp_conn *c)
{
    uint32_t silent = tcp_now - c->last_rx_ms;

    switch (c->state) {
    case TCP_CLOSED: return 0;
    case TCP_TIME_WAIT: return 4;
    case TCP_FIN_WAIT_2: return 3;
    case TCP_SYN_RCVD: return silent >= TCP_EVICT_HALF_OPEN_MS ? 2 : 0;
    default: return silent >= TCP_EVICT_IDLE_MS ? 1 : 0;
    }
}

/* When the connection became what it is now: the oldest of a rank goes first. */
static uint32_t evict_since(const struct tcp_conn *c)
{
    return c->state == TCP_TIME_WAIT ? c->time_wait_ms : c->last_rx_ms;
}

static struct tcp_conn *alloc_conn(void)
{
    struct tcp_conn *victim = NULL;
    int rank, best = 0;
    unsigned i;

    for (i = 0; i < TCP_MAX_CONNS; i++)
        if (conns[i].state == TCP_CLOSED)
            return &conns[i];
    for (i = 0; i < TCP_MAX_CONNS; i++) {
        rank = evict_rank(&conns[i]);
        if (rank > best || (rank == best && rank > 0 &&
                            SEQ_LT(evict_since(&conns[i]), evict_since(victim)))) {
            victim = &conns[i];
            best = rank;
        }
    }
    if (victim == NULL)
        return NULL;
    tcp_stats.evicted++;
    if (victim->state == TCP_TIME_WAIT)
        conn_free(victim);
    else
        abort_conn(victim, 1);
    return victim;
}

static uint16_t parse_mss(const uint8_t *opt, size_t len)
{
    size_t i = 0;

    while (i < len) {
        if (opt[i] == 0)
            break;
        if (opt[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len)
            break;
        if (opt[i] == 2 && opt[i + 1] == 4) {
            uint16_t mss = get_be16(opt + i + 2);
            if (mss < 64)
                mss = 64;
            return mss > TCP_MSS ? TCP_MSS : mss;
        }
        i += opt[i + 1];
    }
    return 536;   /* RFC 1122's default when the peer sends no MSS option */
}

static void passive_open(uint32_t src_ip, uint16_t sport, uint16_t dport, uint32_t seq,
                         uint16_t wnd, const uint8_t *opt, size_t optlen)
{
    const struct tcp_handler *h = NULL;
    struct tcp_conn *c;
    unsigned i;

    for (i = 0; i < TCP_MAX_LISTENERS; i++)
        if (listeners[i].h != NULL && listeners[i].port == dport)
            h = listeners[i].h;
    if (h == NULL) {
        send_raw(src_ip, dport, sport, 0, seq + 1, F_RST | F_ACK, 0, NULL, 0, 0);
        return;
    }
    c = alloc_conn();
    if (c == NULL) {
        tcp_stats.syn_dropped++;
        return;   /* no room: the peer retransmits its SYN later */
    }
    memset(c, 0, offsetof(struct tcp_conn, rx));
    c->remote_ip = src_ip;
    c->remote_port = sport;
    c->local_port = dport;
    c->h = h;
    c->peer_mss = parse_mss(opt, optlen);
    c->irs = seq;
    c->rcv_nxt = seq + 1;
    iss_seed = iss_seed * 1103515245u + 12345u + tcp_now;
    c->iss = iss_seed;
    c->snd_una = c->iss;
    c->snd_nxt = c->iss + 1;
    c->snd_max = c->snd_nxt;
    c->snd_wnd = wnd;
    c->rto_ms = TCP_RTO_INITIAL_MS;
    c->last_rx_ms = tcp_now;
    c->state = TCP_SYN_RCVD;
    c->ack_now = 1;
    tcp_output(c);
    timer_start(c);
}

static void process_ack(struct tcp_conn *c, uint32_t ack, uint16_t wnd)
{
    uint32_t data_acked;
    int fin_acked;

    if (SEQ_GT(ack, c->snd_max)) {
        c->ack_now = 1;   /* acknowledges what we never sent */
        return;
    }
    if (SEQ_LT(ack, c->snd_una))
        return;           /* old duplicate */
    c->snd_wnd = wnd;
    if (ack == c->snd_una)
        return;
    /* Our FIN follows the last data byte once it has been sent. */
    fin_acked = c->fin_ever && ack == c->snd_una + (uint32_t)c->tx_len + 1u;
    data_acked = fin_acked ? (uint32_t)c->tx_len : ack - c->snd_una;
    if (data_acked > c->tx_len)
        data_acked = (uint32_t)c->tx_len;
    memmove(c->tx, c->tx + data_acked, c->tx_len - data_acked);
    c->tx_len -= data_acked;
    c->snd_una = ack;
    if (SEQ_LT(c->snd_nxt, c->snd_una))
        c->snd_nxt = c->snd_una;   /* a late ACK after a timeout rewound snd_nxt */
    c->retries = 0;
    c->rto_ms = TCP_RTO_INITIAL_MS;
    c->rtx_running = 0;
    if (c->snd_una != c->snd_max)
        timer_start(c);
    if (fin_acked) {
        c->fin_acked = 1;
        c->fin_sent = 1;
        if (c->state == TCP_FIN_WAIT_1)
            c->state = TCP_FIN_WAIT_2;
        else if (c->state == TCP_CLOSING)
            enter_time_wait(c);
        else if (c->state == TCP_LAST_ACK) {
            conn_free(c);
            detach(c, 0);
        }
    }
}

static void process_data(struct tcp_conn *c, uint32_t seq, const uint8_t *data, size_t len,
                         int fin)
{
    size_t skip, took;

    if (len == 0 && !fin)
        return;
    c->ack_now = 1;   /* every segment with data or FIN is acknowledged, even a duplicate */
    if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 &&
        c->state != TCP_FIN_WAIT_2)
        return;       /* the peer already closed: only its retransmitted FIN can come */
    if (SEQ_LT(seq, c->rcv_nxt)) {
        skip = c->rcv_nxt - seq;
        if (skip > len || (skip == len && !fin))
            return;   /* wholly old: a duplicate */
        data += skip;
        len -= skip;
        seq = c->rcv_nxt;
    }
    if (seq != c->rcv_nxt)
        return;       /* out of order: dropped; the ACK tells the peer what we need */
    took = take_data(c, data, len);
    if (c->state == TCP_CLOSED || took < len || !fin)
        return;
    c->rcv_nxt++;
    if (c->state == TCP_ESTABLISHED) {
        c->state = TCP_CLOSE_WAIT;
        if (c->attached && c->h->peer_closed != NULL)
            c->h->peer_closed(c);
    } else if (c->state == TCP_FIN_WAIT_1) {
        if (c->fin_acked)
            enter_time_wait(c);
        else
            c->state = TCP_CLOSING;
    } else {
        enter_time_wait(c);
    }
}

void tcp_input(uint32_t src_ip, const uint8_t *p, size_t len, uint32_t now_ms)
{
    struct tcp_conn *c;
    size_t doff, dlen;
    uint16_t sport, dport, wnd;
    uint32_t seq, ack;
    uint8_t flags;

    tcp_now = now_ms;
    table_init();
    if (len < TCP_HDR_LEN) {
        net_stats.drop_tcp++;
        return;
    }
    doff = (size_t)(p[12] >> 4) * 4u;
    if (doff < TCP_HDR_LEN || doff > len ||
        csum_finish(csum_add(csum_pseudo(src_ip, netif.ip, IPV4_PROTO_TCP, (uint16_t)len), p,
                             len)) != 0) {
        net_stats.drop_tcp++;
        return;
    }
    sport = get_be16(p);
    dport = get_be16(p + 2);
    seq = get_be32(p + 4);
    ack = get_be32(p + 8);
    flags = p[13];
    wnd = get_be16(p + 14);
    dlen = len - doff;

    c = find_conn(src_ip, sport, dport);
    if (c != NULL && c->state == TCP_TIME_WAIT && (flags & F_SYN) && !(flags & F_ACK) &&
        SEQ_GT(seq, c->rcv_nxt)) {
        conn_free(c);   /* a new connection from the same port (RFC 1122 4.2.2.13) */
        c = NULL;
    }
    if (c == NULL) {
        if (flags & F_RST)
            return;
        if (flags & F_ACK)
            send_raw(src_ip, dport, sport, ack, 0, F_RST, 0, NULL, 0, 0);
        else if ((flags & (F_SYN | F_FIN)) == F_SYN)
            passive_open(src_ip, sport, dport, seq, wnd, p + TCP_HDR_LEN, doff - TCP_HDR_LEN);
        else
            net_stats.drop_tcp++;
        return;
    }
    c->last_rx_ms = now_ms;
    if (flags & F_RST) {
        /* Only a reset inside the window is believed (RFC 5961 blind-reset defence). */
        if (SEQ_LEQ(c->rcv_nxt, seq) && SEQ_LEQ(seq, c->rcv_nxt + TCP_RX_BUF))
            abort_conn(c, 0);
        return;
    }
    if (flags & F_SYN) {
        /* Our SYN-ACK was lost (SYN_RCVD) or the peer is confused: answer with an ACK. */
        c->ack_now = 1;
        tcp_output(c);
        return;
    }
    if (!(flags & F_ACK)) {
        net_stats.drop_tcp++;
        return;
    }
    if (c->state == TCP_SYN_RCVD) {
        if (ack != c->iss + 1) {
            send_raw(src_ip, dport, sport, ack, 0, F_RST, 0, NULL, 0, 0);
            return;
        }
        c->snd_una = ack;
        c->snd_wnd = wnd;
        c->rtx_running = 0;
        c->retries = 0;
        c->rto_ms = TCP_RTO_INITIAL_MS;
        c->state = TCP_ESTABLISHED;
        c->attached = 1;
        if (c->h->accepted != NULL)
            c->h->accepted(c);
        if (c->state == TCP_CLOSED)
            return;
    } else {
        process_ack(c, ack, wnd);
        if (c->state == TCP_CLOSED)
            return;
    }
    process_data(c, seq, p + doff, dlen, (flags & F_FIN) != 0);
    if (c->state == TCP_TIME_WAIT && (dlen || (flags & F_FIN)))
        c->time_wait_ms = now_ms;
    if (c->state != TCP_CLOSED)
        tcp_output(c);
}

static void retransmit(struct tcp_conn *c)
{
    if (++c->retries > TCP_MAX_RETRIES) {
        abort_conn(c, 1);
        return;
    }
    c->rto_ms = c->rto_ms * 2u > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : c->rto_ms * 2u;
    c->rtx_running = 0;
    if (c->state == TCP_SYN_RCVD) {
        c->ack_now = 1;
        tcp_output(c);
        timer_start(c);
        return;
    }
    if (c->snd_nxt == c->snd_una && c->tx_len > 0 && c->snd_wnd == 0) {
        /* Zero-window probe: one byte past the closed window (RFC 1122 4.2.2.17). */
        send_segment(c, c->snd_nxt, 0, c->tx, 1);
        c->snd_nxt++;
        if (SEQ_GT(c->snd_nxt, c->snd_max))
            c->snd_max = c->snd_nxt;
        timer_start(c);
        return;
    }
    /* Go back to the oldest unacknowledged byte and resend what the window allows. */
    c->snd_nxt = c->snd_una;
    if (!c->fin_acked)
        c->fin_sent = 0;
    tcp_output(c);
    if (!c->rtx_running && c->snd_max != c->snd_una)
        timer_start(c);
}

void tcp_poll(uint32_t now_ms)
{
    struct tcp_conn *c;
    unsigned i;
    uint32_t wnd;

    tcp_now = now_ms;
    table_init();
    for (i = 0; i < TCP_MAX_CONNS; i++) {
        c = &conns[i];
        if (c->state == TCP_CLOSED)
            continue;
        if (c->state == TCP_TIME_WAIT) {
            if (now_ms - c->time_wait_ms >= TCP_TIME_WAIT_MS)
                conn_free(c);
            continue;
        }
        if (now_ms - c->last_rx_ms >= TCP_IDLE_TIMEOUT_MS) {
            abort_conn(c, 1);
            continue;
        }
        offer_buffered(c);
        if (c->state == TCP_CLOSED)
            continue;
        /* The application made room: tell a peer that saw a small window (no SWS). */
        wnd = rx_free(c);
        if (c->last_adv_wnd < TCP_MSS && wnd >= TCP_MSS && c->state != TCP_SYN_RCVD) {
            c->ack_now = 1;
            tcp_output(c);
        }
        if (c->rtx_running && SEQ_LEQ(c->rtx_deadline, now_ms))
            retransmit(c);
    }
}

int tcp_listen(uint16_t port, const struct tcp_handler *h)
{
    unsigned i;

    table_init();
    for (i = 0; i < TCP_MAX_LISTENERS; i++) {
        if (listeners[i].h == NULL || listeners[i].port == port) {
            listeners[i].port = port;
            listeners[i].h = h;
            return 0;
        }
    }
    return -1;
}

void tcp_reset_all(void)
{
    memset(conns, 0, sizeof conns);
    table_ready = 1;
    memset(listeners, 0, sizeof listeners);
    memset(&tcp_stats, 0, sizeof tcp_stats);
}

size_t tcp_send_space(const struct tcp_conn *c)
{
    if (c->fin_queued || (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT))
        return 0;
    return TCP_TX_BUF - c->tx_len;
}

size_t tcp_send(struct tcp_conn *c, const void *data, size_t len)
{
    size_t space = tcp_send_space(c);

    if (len > space)
        len = space;
    if (len == 0)
        return 0;
    memcpy(c->tx + c->tx_len, data, len);
    c->tx_len += len;
    tcp_output(c);
    return len;
}

void tcp_close(struct tcp_conn *c)
{
    if (c->fin_queued || (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT))
        return;
    c->fin_queued = 1;
    tcp_output(c);
}

void tcp_abort(struct tcp_conn *c)
{
    if (c->state != TCP_CLOSED)
        abort_conn(c, 1);
}

void tcp_set_app(struct tcp_conn *c, void *app)
{
    c->app = app;
}

void *tcp_app(const struct tcp_conn *c)
{
    return c->app;
}

enum tcp_state tcp_state_of(const struct tcp_conn *c)
{
    return c->state;
}

uint32_t tcp_rcv_nxt(const struct tcp_conn *c)
{
    return c->rcv_nxt;
}

unsigned tcp_active_count(void)
{
    unsigned i, n = 0;

    for (i = 0; i < TCP_MAX_CONNS; i++)
        if (conns[i].state != TCP_CLOSED && conns[i].state != TCP_TIME_WAIT)
            n++;
    return n;
}
