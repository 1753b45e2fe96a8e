/* sha256.c - SHA-256 after FIPS 180-4 sections 4.1.2, 4.2.2, 5.1.1, 6.2. */
#include "sha256.h"

#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u,
    0x923f82a4u, 0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u,
    0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u,
    0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u,
    0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u,
    0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au,
    0x5b9cca4fu, 0x682e6ff3u, 0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
    0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

#define BSIG0(x) (rotr((x), 2) ^ rotr((x), 13) ^ rotr((x), 22))
#define BSIG1(x) (rotr((x), 6) ^ rotr((x), 11) ^ rotr((x), 25))
#define SSIG0(x) (rotr((x), 7) ^ rotr((x), 18) ^ ((x) >> 3))
#define SSIG1(x) (rotr((x), 17) ^ rotr((x), 19) ^ ((x) >> 10))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))

/* The message schedule kept as a 16-word ring: W[t] overwrites W[t - 16]. */
#define SCHEDULE(t) \
    (w[(t) & 15] += SSIG1(w[((t) - 2) & 15]) + w[((t) - 7) & 15] + SSIG0(w[((t) - 15) & 15]))

/* One round with the working variables renamed instead of shifted (FIPS 180-4 6.2.2). */
#define ROUND(a, b, c, d, e, f, g, h, t, wt) do { \
        uint32_t t1 = (h) + BSIG1(e) + CH(e, f, g) + K[t] + (wt); \
        (d) += t1; \
        (h) = t1 + BSIG0(a) + MAJ(a, b, c); \
    } while (0)

static void compress(uint32_t s[8], const uint8_t block[64])
{
    uint32_t w[16];
    uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    unsigned t;

    for (t = 0; t < 16; t++) {
        w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 |
               (uint32_t)block[4 * t + 2] << 8 | block[4 * t + 3];
    }
    for (t = 0; t < 16; t += 8) {
        ROUND(a, b, c, d, e, f, g, h, t + 0, w[t + 0]);
        ROUND(h, a, b, c, d, e, f, g, t + 1, w[t + 1]);
        ROUND(g, h, a, b, c, d, e, f, t + 2, w[t + 2]);
        ROUND(f, g, h, a, b, c, d, e, t + 3, w[t + 3]);
        ROUND(e, f, g, h, a, b, c, d, t + 4, w[t + 4]);
        ROUND(d, e, f, g, h, a, b, c, t + 5, w[t + 5]);
        ROUND(c, d, e, f, g, h, a, b, t + 6, w[t + 6]);
        ROUND(b, c, d, e, f, g, h, a, t + 7, w[t + 7]);
    }
    for (; t < 64; t += 8) {
        ROUND(a, b, c, d, e, f, g, h, t + 0, SCHEDULE(t + 0));
        ROUND(h, a, b, c, d, e, f, g, t + 1, SCHEDULE(t + 1));
        ROUND(g, h, a, b, c, d, e, f, t + 2, SCHEDULE(t + 2));
        ROUND(f, g, h, a, b, c, d, e, t + 3, SCHEDULE(t + 3));
        ROUND(e, f, g, h, a, b, c, d, t + 4, SCHEDULE(t + 4));
        ROUND(d, e, f, g, h, a, b, c, t + 5, SCHEDULE(t + 5));
        ROUND(c, d, e, f, g, h, a, b, t + 6, SCHEDULE(t + 6));
        ROUND(b, c, d, e, f, g, h, a, t + 7, SCHEDULE(t + 7));
    }
    s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
}

void sha256_init(struct sha256_ctx *ctx)
{
    static const uint32_t H0[8] = {
        0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
        0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
    };
    memcpy(ctx->state, H0, sizeof H0);
    ctx->length = 0;
    ctx->fill = 0;
}

void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;

    ctx->length += len;
    if (ctx->fill) {
        size_t take = 64u - ctx->fill < len ? 64u - ctx->fill : len;
        memcpy(ctx->block + ctx->fill, p, take);
        ctx->fill += (uint32_t)take;
        p += take;
        len -= take;
        if (ctx->fill < 64u)
            return;
        compress(ctx->state, ctx->block);
        ctx->fill = 0;
    }
    /* Whole blocks straight from the caller's buffer: no copy on the long path. */
    for (; len >= 64u; p += 64, len -= 64u)
        compress(ctx->state, p);
    memcpy(ctx->block, p, len);
    ctx->fill = (uint32_t)len;
}

void sha256_final(struct sha256_ctx *ctx, uint8_t digest[32])
{
    uint64_t bits = ctx->length * 8u;
    unsigned i;

    ctx->block[ctx->fill++] = 0x80;
    if (ctx->fill > 56u) {
        memset(ctx->block + ctx->fill, 0, 64u - ctx->fill);
        compress(ctx->state, ctx->block);
        ctx->fill = 0;
    }
    memset(ctx->block + ctx->fill, 0, 56u - ctx->fill);
    for (i = 0; i < 8; i++)
        ctx->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(ctx->state, ctx->block);
    for (i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(ctx->state[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(ctx->state[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(ctx->state[i] >> 8);
        digest[4 * i + 3] = (uint8_t)ctx->state[i];
    }
}
