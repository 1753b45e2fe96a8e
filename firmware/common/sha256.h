/*
 * sha256.h - SHA-256, streaming: our names over mbedTLS's implementation (the library is
 * built from Debian's source package, firmware/Makefile; configuration in
 * mbedtls_config.h).
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/sha256.h"

struct sha256_ctx {
    mbedtls_sha256_context c;
};

/* With the configuration we build, mbedTLS's SHA-256 calls cannot fail. */
static inline void sha256_init(struct sha256_ctx *ctx)
{
    mbedtls_sha256_init(&ctx->c);
    (void)mbedtls_sha256_starts_ret(&ctx->c, 0);
}

static inline void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
    (void)mbedtls_sha256_update_ret(&ctx->c, data, len);
}

static inline void sha256_final(struct sha256_ctx *ctx, uint8_t digest[32])
{
    (void)mbedtls_sha256_finish_ret(&ctx->c, digest);
    mbedtls_sha256_free(&ctx->c);
}

#endif /* SHA256_H */
