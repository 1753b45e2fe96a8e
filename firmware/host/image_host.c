/* image_host.c - see image_host.h. */
#include "image_host.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "flash_layout.h"
#include "image_key.h"           /* the build's test key pair (firmware/Makefile) */
#include "image_key_private.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/platform.h"
#include "sha256.h"

/* ECDSA needs a random nonce: any will do for test images signed with a test key. */
static int test_rng(void *state, unsigned char *out, size_t len)
{
    uint64_t *x = state;
    size_t i;

    for (i = 0; i < len; i++) {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        out[i] = (unsigned char)*x;
    }
    return 0;
}

void host_image_sign(struct image_header *h)
{
    static uint64_t rng_state = 0x9E3779B97F4A7C15u;
    mbedtls_ecp_group grp;
    mbedtls_mpi d, r, s;
    uint8_t digest[32];
    int st;

    /* The device's signature module gives mbedTLS a static heap per check; here libc's. */
    mbedtls_platform_set_calloc_free(calloc, free);
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    st = mbedtls_sha256_ret((const unsigned char *)h, IMAGE_SIGNED_LEN, digest, 0);
    if (st == 0)
        st = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (st == 0)
        st = mbedtls_mpi_read_binary(&d, image_private_key, sizeof image_private_key);
    if (st == 0)
        st = mbedtls_ecdsa_sign(&grp, &r, &s, &d, digest, sizeof digest, test_rng, &rng_state);
    if (st == 0)
        st = mbedtls_mpi_write_binary(&r, h->signature, 32);
    if (st == 0)
        st = mbedtls_mpi_write_binary(&s, h->signature + 32, 32);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_group_free(&grp);
    if (st != 0) {
        fprintf(stderr, "host_image_sign: mbedTLS error -0x%04x\n", (unsigned)-st);
        abort();
    }
    h->sig_type = IMAGE_SIG_ECDSA_P256;
    h->key_id = IMAGE_KEY_ID;
}

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
    host_image_sign(h);
}
