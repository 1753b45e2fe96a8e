/* image_host.h - image headers for the host tests, made as `pybench image create` makes them. */
#ifndef IMAGE_HOST_H
#define IMAGE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

/*
 * Fill *h for an image of `version` whose header says `body_size`, with the SHA-256 of
 * the `hashed_len` bytes at `hashed` (a test may declare a size that differs from what it
 * hashed, to be rejected), version_str "<version>.0.0", the header CRC, and a signature
 * by the build's test key.
 */
void host_image_header(struct image_header *h, uint32_t version, uint32_t body_size,
                       const uint8_t *hashed, size_t hashed_len);

/* Sign *h (its first IMAGE_SIGNED_LEN bytes) with the build's test key, with mbedTLS. */
void host_image_sign(struct image_header *h);

#endif /* IMAGE_HOST_H */
