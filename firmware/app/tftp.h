/*
 * tftp.h - TFTP server for writes into staging (RFC 1350, options of RFC 2347, blksize of
 * RFC 2348, tsize and timeout of RFC 2349). One transfer at a time; reads are refused.
 *
 * Pure protocol logic: datagrams come in through tftp_input() and go out through the
 * send function given to tftp_init(); image bytes go to the staging writer.
 */
#ifndef TFTP_H
#define TFTP_H

#include <stddef.h>
#include <stdint.h>

#define TFTP_BLKSIZE_DEFAULT    512u
#define TFTP_BLKSIZE_MAX        1468u   /* fits one 1500-byte Ethernet payload */
#define TFTP_TIMEOUT_MS         1000u
#define TFTP_MAX_RETRIES        5u
#define TFTP_DALLY_MS           3000u   /* re-ack a repeated last block for this long */
#define TFTP_TID_BASE           49152u

enum tftp_error {
    TFTP_ERR_UNDEFINED = 0,
    TFTP_ERR_NOT_FOUND = 1,
    TFTP_ERR_ACCESS = 2,
    TFTP_ERR_DISK_FULL = 3,
    TFTP_ERR_ILLEGAL = 4,
    TFTP_ERR_UNKNOWN_TID = 5,
    TFTP_ERR_OPTION = 8
};

typedef void (*tftp_send_fn)(uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
                             const uint8_t *data, size_t len);

void tftp_init(uint16_t port, tftp_send_fn send);
/* One UDP datagram to any of our ports (non-TFTP ports are ignored). */
void tftp_input(uint32_t src_ip, uint16_t src_port, uint16_t dst_port, const uint8_t *data,
                size_t len, uint32_t now_ms);
void tftp_poll(uint32_t now_ms);
int tftp_busy(void);

#endif /* TFTP_H */
