/*
 * image.h - the update image format (docs/image-format.md): a 512-byte header and a body.
 *
 * All fields little-endian. The header CRC (IEEE CRC-32, as zlib.crc32) covers bytes
 * 0x00..0x5B; the rest of the header up to IMAGE_HEADER_SIZE is 0xFF padding.
 */
#ifndef IMAGE_H
#define IMAGE_H

#include <stdint.h>

#define IMAGE_MAGIC           0x474D4946u  /* "FIMG" */
#define IMAGE_HEADER_VERSION  1u
#define IMAGE_TARGET_F407     0x00000413u  /* DBGMCU_IDCODE.DEV_ID of the STM32F405/407 */
#define IMAGE_VERSION_STR_LEN 32

struct image_header {
    uint32_t magic;            /* 0x00 IMAGE_MAGIC */
    uint16_t header_version;   /* 0x04 IMAGE_HEADER_VERSION */
    uint16_t header_size;      /* 0x06 IMAGE_HEADER_SIZE */
    uint32_t target_id;        /* 0x08 IMAGE_TARGET_F407 */
    uint32_t image_version;    /* 0x0C monotonic version number (1, 2, 3, ...) */
    uint32_t body_size;        /* 0x10 bytes of body, a multiple of 4 */
    uint32_t load_addr;        /* 0x14 APP_LOAD_ADDR: where the body runs */
    uint8_t  body_sha256[32];  /* 0x18 SHA-256 of the body */
    char     version_str[IMAGE_VERSION_STR_LEN]; /* 0x38 NUL-padded, e.g. "2.0.0" */
    uint32_t header_crc;       /* 0x58 CRC-32 of bytes 0x00..0x57 */
};                             /* 0x5C bytes; padded with 0xFF to IMAGE_HEADER_SIZE */

enum image_status {
    IMAGE_OK = 0,
    IMAGE_ERR_MAGIC = -1,
    IMAGE_ERR_HEADER_VERSION = -2,
    IMAGE_ERR_HEADER_CRC = -3,
    IMAGE_ERR_TARGET = -4,
    IMAGE_ERR_LOAD_ADDR = -5,
    IMAGE_ERR_SIZE = -6,        /* body empty, not a multiple of 4, or larger than the slot */
    IMAGE_ERR_DIGEST = -7,      /* SHA-256 of the body differs from the header */
    IMAGE_ERR_VECTORS = -8      /* initial SP or reset vector not plausible */
};

/* Check a header held in RAM: magic, versions, CRC, target, load address, size. */
int image_check_header(const struct image_header *h);

/*
 * Verify the image stored at slot_addr (APP_SLOT_ADDR or STAGING_ADDR): header, vector
 * table and body digest, reading through flash_read(). Copies the header to *out when
 * out is not NULL and the header is readable.
 */
int image_verify_slot(uint32_t slot_addr, struct image_header *out);

/* Total bytes the image occupies in a slot: header plus body. */
uint32_t image_total_size(const struct image_header *h);

const char *image_strerror(int status);

#endif /* IMAGE_H */
