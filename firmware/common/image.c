/*
 * image.c - checks an update image (docs/image-format.md) in the order the Python tool
 * does, reading flash only through flash_read() so the host tests run the same code.
 */
#include "image.h"

#include <stddef.h>
#include <string.h>

#include "crc32.h"
#include "flash.h"
#include "flash_layout.h"
#include "sha256.h"
#include "signature.h"

_Static_assert(offsetof(struct image_header, sig_type) == IMAGE_SIGNED_LEN,
               "the signature covers every field before it");
_Static_assert(sizeof(struct image_header) == 0xA4, "image_header must match image.h offsets");

int image_check_header(const struct image_header *h)
{
    if (h->magic != IMAGE_MAGIC)
        return IMAGE_ERR_MAGIC;
    if (h->header_version != IMAGE_HEADER_VERSION || h->header_size != IMAGE_HEADER_SIZE)
        return IMAGE_ERR_HEADER_VERSION;
    if (crc32_update(0, h, offsetof(struct image_header, header_crc)) != h->header_crc)
        return IMAGE_ERR_HEADER_CRC;
    if (h->target_id != IMAGE_TARGET_F407)
        return IMAGE_ERR_TARGET;
    if (h->load_addr != APP_LOAD_ADDR)
        return IMAGE_ERR_LOAD_ADDR;
    if (h->body_size == 0 || (h->body_size & 3u) ||
        h->body_size > IMAGE_MAX_SIZE - IMAGE_HEADER_SIZE)
        return IMAGE_ERR_SIZE;
    return IMAGE_OK;
}

static int vectors_plausible(uint32_t sp, uint32_t reset, uint32_t body_size)
{
    int in_sram = sp > SRAM_BASE_ADDR && sp <= SRAM_BASE_ADDR + SRAM_TOTAL_SIZE;
    int in_ccm = sp > CCM_BASE_ADDR && sp <= CCM_BASE_ADDR + CCM_TOTAL_SIZE;
    uint32_t code = reset & ~1u;

    if (!in_sram && !in_ccm)
        return 0;
    return (reset & 1u) && code >= APP_LOAD_ADDR && code - APP_LOAD_ADDR < body_size;
}

int image_verify_slot(uint32_t slot_addr, struct image_header *out)
{
    struct image_header h;
    struct sha256_ctx sha;
    uint8_t buf[256], digest[32];
    uint32_t body = slot_addr + IMAGE_HEADER_SIZE, done, vec[2];
    int st;

    flash_read(slot_addr, &h, sizeof h);
    if (out)
        *out = h;
    st = image_check_header(&h);
    if (st != IMAGE_OK)
        return st;

    sha256_init(&sha);
    for (done = 0; done < h.body_size; done += sizeof buf) {
        uint32_t n = h.body_size - done < sizeof buf ? h.body_size - done : sizeof buf;
        flash_read(body + done, buf, n);
        sha256_update(&sha, buf, n);
    }
    sha256_final(&sha, digest);
    if (memcmp(digest, h.body_sha256, sizeof digest))
        return IMAGE_ERR_DIGEST;

    flash_read(body, vec, sizeof vec);
    if (h.body_size < sizeof vec || !vectors_plausible(vec[0], vec[1], h.body_size))
        return IMAGE_ERR_VECTORS;
    return IMAGE_OK;
}

int image_check_signature(const struct image_header *h)
{
    if (h->sig_type == IMAGE_SIG_NONE)
        return IMAGE_ERR_UNSIGNED;
    if (h->sig_type != IMAGE_SIG_ECDSA_P256 || h->key_id != signature_key_id())
        return IMAGE_ERR_KEY;
    if (signature_verify(h, IMAGE_SIGNED_LEN, h->signature) != 0)
        return IMAGE_ERR_SIGNATURE;
    return IMAGE_OK;
}

int image_verify_slot_signed(uint32_t slot_addr, struct image_header *out)
{
    struct image_header h;
    int st = image_verify_slot(slot_addr, &h);

    if (out)
        *out = h;
    return st != IMAGE_OK ? st : image_check_signature(&h);
}

uint32_t image_total_size(const struct image_header *h)
{
    return IMAGE_HEADER_SIZE + h->body_size;
}

/* The same words as the Python tool's error codes, so logs and tests match. */
const char *image_strerror(int status)
{
    switch (status) {
    case IMAGE_OK: return "ok";
    case IMAGE_ERR_MAGIC: return "magic";
    case IMAGE_ERR_HEADER_VERSION: return "header-version";
    case IMAGE_ERR_HEADER_CRC: return "header-crc";
    case IMAGE_ERR_TARGET: return "target";
    case IMAGE_ERR_LOAD_ADDR: return "load-addr";
    case IMAGE_ERR_SIZE: return "size";
    case IMAGE_ERR_DIGEST: return "digest";
    case IMAGE_ERR_VECTORS: return "vectors";
    case IMAGE_ERR_UNSIGNED: return "unsigned";
    case IMAGE_ERR_KEY: return "key";
    case IMAGE_ERR_SIGNATURE: return "signature";
    case IMAGE_ERR_ROLLBACK: return "rollback";
    default: return "unknown";
    }
}
