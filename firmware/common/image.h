/*
 * image.h - the update image format (docs/image-format.md): a 512-byte header and a body.
 *
 * All fields little-endian. The header CRC (IEEE CRC-32, as zlib.crc32) covers bytes
 * 0x00..0x57. The signature block at 0x5C signs bytes 0x00..0x5B (every field, the body's
 * digest among them, and the CRC) with ECDSA P-256 over SHA-256; an unsigned image has
 * 0xFF there. The rest of the header up to IMAGE_HEADER_SIZE is 0xFF padding.
 */
#ifndef IMAGE_H
#define IMAGE_H

#include <stdint.h>

#define IMAGE_MAGIC           0x474D4946u  /* "FIMG" */
#define IMAGE_HEADER_VERSION  1u
#define IMAGE_TARGET_F407     0x00000413u  /* DBGMCU_IDCODE.DEV_ID of the STM32F405/407 */
#define IMAGE_VERSION_STR_LEN 32
#define IMAGE_SIGNED_LEN      0x5Cu        /* bytes the signature covers */
#define IMAGE_SIG_NONE        0xFFFFFFFFu  /* erased padding: an unsigned image */
#define IMAGE_SIG_ECDSA_P256  1u           /* r || s, 32 bytes each, big-endian */
#define IMAGE_SIG_SIZE        64

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
    uint32_t sig_type;         /* 0x5C IMAGE_SIG_ECDSA_P256, or IMAGE_SIG_NONE */
    uint32_t key_id;           /* 0x60 first 4 bytes (LE) of SHA-256 of the public key */
    uint8_t  signature[IMAGE_SIG_SIZE]; /* 0x64 over SHA-256 of bytes 0x00..0x5B */
};                             /* 0xA4 bytes; padded with 0xFF to IMAGE_HEADER_SIZE */

enum image_status {
    IMAGE_OK = 0,
    IMAGE_ERR_MAGIC = -1,
    IMAGE_ERR_HEADER_VERSION = -2,
    IMAGE_ERR_HEADER_CRC = -3,
    IMAGE_ERR_TARGET = -4,
    IMAGE_ERR_LOAD_ADDR = -5,
    IMAGE_ERR_SIZE = -6,        /* body empty, not a multiple of 4, or larger than the slot */
    IMAGE_ERR_DIGEST = -7,      /* SHA-256 of the body differs from the header */
    IMAGE_ERR_VECTORS = -8,     /* initial SP or reset vector not plausible */
    IMAGE_ERR_UNSIGNED = -9,    /* no signature block */
    IMAGE_ERR_KEY = -10,        /* signed, but with a key this device does not hold */
    IMAGE_ERR_SIGNATURE = -11,  /* the signature does not verify */
    IMAGE_ERR_ROLLBACK = -12    /* older than the installed version (anti-rollback) */
};

/* Check a header held in RAM: magic, versions, CRC, target, load address, size. */
int image_check_header(const struct image_header *h);

/*
 * The signature block of a header held in RAM, with the public key built in (ECDSA
 * P-256, mbedTLS): millions of instructions, so callers check everything cheap first.
 */
int image_check_signature(const struct image_header *h);

/*
 * Verify the image stored at slot_addr (APP_SLOT_ADDR or STAGING_ADDR): header, body
 * digest and vector table, reading through flash_read(); not the signature (callers
 * add image_check_signature() where the image is not already vouched for). Copies the
 * header to *out when out is not NULL and the header is readable.
 */
int image_verify_slot(uint32_t slot_addr, struct image_header *out);

/* image_verify_slot() and then the signature. */
int image_verify_slot_signed(uint32_t slot_addr, struct image_header *out);

/* Total bytes the image occupies in a slot: header plus body. */
uint32_t image_total_size(const struct image_header *h);

const char *image_strerror(int status);

#endif /* IMAGE_H */
