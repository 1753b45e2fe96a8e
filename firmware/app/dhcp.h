/*
 * dhcp.h - a DHCPv4 client (RFC 2131, options of RFC 2132): DISCOVER, OFFER, REQUEST,
 * ACK; DISCOVER and REQUEST retransmitted while unanswered; renewal at T1 (unicast
 * REQUEST to the server), rebinding at T2 (broadcast), a fresh start when the lease
 * ends or a NAK arrives.
 *
 * Pure protocol logic like tftp.c: datagrams come in through dhcp_input() (UDP port 68)
 * and go out through the send function; time is a millisecond count passed in. The
 * lease is handed to the application through the bound callback (NULL: no address).
 */
#ifndef DHCP_H
#define DHCP_H

#include <stddef.h>
#include <stdint.h>

#define DHCP_CLIENT_PORT        68u
#define DHCP_SERVER_PORT        67u
#define DHCP_DISCOVER_FIRST_MS  2000u    /* first retransmission wait, doubled each time */
#define DHCP_DISCOVER_MAX_MS    16000u
#define DHCP_REQUEST_RETRIES    4u       /* REQUESTs in SELECTING before starting over */
#define DHCP_RENEW_RETRY_MS     4000u    /* RENEWING/REBINDING retransmission */
#define DHCP_LEASE_MAX_S        864000u  /* longer leases (or infinite) count as 10 days */

enum dhcp_state {
    DHCP_INIT = 0,
    DHCP_SELECTING,      /* DISCOVER sent, waiting for an OFFER */
    DHCP_REQUESTING,     /* REQUEST for an offer sent, waiting for the ACK */
    DHCP_BOUND,
    DHCP_RENEWING,       /* past T1: unicast REQUEST to the server */
    DHCP_REBINDING       /* past T2: broadcast REQUEST to any server */
};

struct dhcp_lease {
    uint32_t ip, netmask, gateway, server;   /* host order */
    uint32_t lease_s, t1_s, t2_s;
};

/* Send len bytes from port 68 to dst_ip port 67 (0xFFFFFFFF: broadcast). */
typedef void (*dhcp_send_fn)(uint32_t dst_ip, const uint8_t *data, size_t len);
/* A lease was acquired or renewed (lease), or the address is lost (NULL). */
typedef void (*dhcp_bound_fn)(const struct dhcp_lease *lease);

/* Start: the first DISCOVER goes out at once. */
void dhcp_start(const uint8_t mac[6], dhcp_send_fn send, dhcp_bound_fn bound,
                uint32_t now_ms);
void dhcp_input(const uint8_t *data, size_t len, uint32_t now_ms);
void dhcp_poll(uint32_t now_ms);
enum dhcp_state dhcp_state(void);
const char *dhcp_state_name(enum dhcp_state s);

#endif /* DHCP_H */
