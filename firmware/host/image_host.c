/* image_host.c - see image_host.h. */
#include "image_host.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "crc32.h"
#include "flash_layout.h"
#include "sha256.h"

void host_image_header(struct image_header *h, uint32_t version, uint32_t body_size,
                       const uint8_t *hashed, size_t hashed_len)
{
    struct sha256_ctx sha;

    memset(h, 0, sizeof *h);
    h->magic = IMAGE_MAGIC;
    h->header_version = IMAGE_HEADER_VERSION;
    h->header_size = IMAGE_HEADER_SIZE;
    h->target_id = IMAGE_TARGET_F407;
    h->image_version = version;
    h->body_size = body_size;
    h->load_addr = APP_LOAD_ADDR;
    sha256_init(&sha);
    sha256_update(&sha, hashed, hashed_len);
    sha256_final(&sha, h->body_sha256);
    snprintf(h->version_str, sizeof h->version_str, "%u.0.0", (unsigned)version);
    h->header_crc = crc32_update(0, h, offsetof(struct image_header, header_crc));
}
