/* sha256.h - SHA-256 (FIPS 180-4), streaming. */
#ifndef SHA256_H
#define SHA256_H

#include <stdint.h>
#include <stddef.h>

struct sha256_ctx {
    uint32_t state[8];
    uint64_t length;        /* bytes hashed so far */
    uint8_t block[64];
    uint32_t fill;          /* bytes waiting in block */
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
void sha256_final(struct sha256_ctx *ctx, uint8_t digest[32]);

#endif /* SHA256_H */
