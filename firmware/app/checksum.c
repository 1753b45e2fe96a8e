/* checksum.c - the Internet checksum (RFC 1071). */
#include "checksum.h"

uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)((data[i] << 8) | data[i + 1]);
    if (len & 1u)
        sum += (uint32_t)data[len - 1] << 8;
    /* Fold early so that long buffers cannot overflow the 32-bit accumulator. */
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return sum;
}

uint32_t csum_pseudo(uint32_t src_ip, uint32_t dst_ip, uint8_t proto, uint16_t len)
{
    uint32_t sum = (src_ip >> 16) + (src_ip & 0xFFFFu) + (dst_ip >> 16) + (dst_ip & 0xFFFFu);

    return sum + proto + len;
}

uint16_t csum_finish(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return (uint16_t)~sum;
}
