/*
 * tcp.h - a small TCP (RFC 793, 1122, 6298's backoff) for servers: passive open only.
 *
 * Each connection has a linear receive buffer whose free space is the window we
 * advertise, and a transmit buffer that holds our data until it is acknowledged, so
 * retransmission resends from it. In-order data is offered to the application at once;
 * what it does not consume stays buffered and shrinks the window. Out-of-order segments
 * are dropped and re-acknowledged (the peer resends them); duplicates are acknowledged.
 *
 * When every connection slot is taken, a new SYN takes one that is only waiting
 * (TIME_WAIT, FIN_WAIT_2), half-open or silent for TCP_EVICT_IDLE_MS, never one that is
 * moving data: see evict_rank() in tcp.c.
 */
#ifndef TCP_H
#define TCP_H

#include <stddef.h>
#include <stdint.h>

#define TCP_MAX_CONNS       8
#define TCP_MAX_LISTENERS   2
#define TCP_MSS             1460u
#define TCP_RX_BUF          (3u * TCP_MSS)
#define TCP_TX_BUF          3072u
#define TCP_RTO_INITIAL_MS  300u
#define TCP_RTO_MAX_MS      4000u
#define TCP_MAX_RETRIES     8u
#define TCP_TIME_WAIT_MS    1000u    /* short on purpose: a server's ports are never reused */
#define TCP_IDLE_TIMEOUT_MS 60000u   /* a silent peer loses its connection slot */
/* With every slot taken, a new SYN may take the slot of a half-open connection silent
 * for TCP_EVICT_HALF_OPEN_MS (longer than our SYN-ACK's first retransmissions and than a
 * 128 KiB sector erase stalls us), or of any other connection silent TCP_EVICT_IDLE_MS. */
#define TCP_EVICT_HALF_OPEN_MS 3000u
#define TCP_EVICT_IDLE_MS      10000u

enum tcp_state {
    TCP_CLOSED = 0,
    TCP_SYN_RCVD,
    TCP_ESTABLISHED,
    TCP_CLOSE_WAIT,
    TCP_LAST_ACK,
    TCP_FIN_WAIT_1,
    TCP_FIN_WAIT_2,
    TCP_CLOSING,
    TCP_TIME_WAIT
};

struct tcp_conn;

/* What a full table did to new SYNs (tests and status). */
struct tcp_stats {
    uint32_t evicted;        /* connections that gave their slot to a new SYN */
    uint32_t syn_dropped;    /* SYNs dropped: every slot busy and none may give way */
};
extern struct tcp_stats tcp_stats;

/* Application callbacks; each may call tcp_send/tcp_close/tcp_abort on its connection. */
struct tcp_handler {
    void (*accepted)(struct tcp_conn *c);
    /* In-order data: return how many bytes were consumed (the rest is offered again). */
    size_t (*received)(struct tcp_conn *c, const uint8_t *data, size_t len);
    void (*peer_closed)(struct tcp_conn *c);          /* FIN received: no more data */
    void (*closed)(struct tcp_conn *c, int reset);    /* connection gone for the app */
};

int tcp_listen(uint16_t port, const struct tcp_handler *h);
void tcp_input(uint32_t src_ip, const uint8_t *seg, size_t len, uint32_t now_ms);
void tcp_poll(uint32_t now_ms);
void tcp_reset_all(void);

/* Queue data; returns the bytes accepted (all or part, as space allows). */
size_t tcp_send(struct tcp_conn *c, const void *data, size_t len);
size_t tcp_send_space(const struct tcp_conn *c);
void tcp_close(struct tcp_conn *c);    /* FIN once queued data is sent */
void tcp_abort(struct tcp_conn *c);    /* RST now */

void tcp_set_app(struct tcp_conn *c, void *app);
void *tcp_app(const struct tcp_conn *c);
enum tcp_state tcp_state_of(const struct tcp_conn *c);
unsigned tcp_active_count(void);
/* Bytes received in order and offered to the application (tests and status). */
uint32_t tcp_rcv_nxt(const struct tcp_conn *c);

#endif /* TCP_H */
