/* crc32.h - IEEE 802.3 CRC-32 (reflected 0xEDB88320), the same value as zlib.crc32. */
#ifndef CRC32_H
#define CRC32_H

#include <stdint.h>
#include <stddef.h>

uint32_t crc32_update(uint32_t crc, const void *data, size_t len); /* start with crc = 0 */

#endif /* CRC32_H */
