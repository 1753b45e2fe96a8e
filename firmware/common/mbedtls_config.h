/*
 * mbedtls_config.h - our configuration of mbedTLS 2.28 (MBEDTLS_CONFIG_FILE), for the
 * bootloader, the application and the host tests alike.
 *
 * Only what an image check needs: SHA-256 and ECDSA P-256 verification. mbedTLS itself
 * comes from Debian's source package at build time (firmware/Makefile, `mbedtls`).
 * Choices, and what they cost on the M4 (docs/bootloader.md):
 *  - NIST_OPTIM: P-256's fast modular reduction; about 5x fewer instructions per
 *    verification (29 M instead of 156 M) for about 0.8 KiB of code.
 *  - WINDOW_SIZE 4 (mbedTLS's own default), no fixed-point tables: 8 precomputed points
 *    for each of the two multiplications, about 15% fewer instructions than a window of 2;
 *    fixed-point tables would be computed anew for each check (no tables in ROM in 2.28).
 *  - memory_buffer_alloc on a static buffer: neither program has a heap (newlib's malloc
 *    would need _sbrk), and the library's own allocator keeps us from writing one.
 *  - NO_INTERNAL_RNG: verification uses no secret, so it needs no blinding.
 */
#ifndef PYBENCH_MBEDTLS_CONFIG_H
#define PYBENCH_MBEDTLS_CONFIG_H

#define MBEDTLS_HAVE_ASM
#define MBEDTLS_NO_PLATFORM_ENTROPY

#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_PLATFORM_EXIT_MACRO signature_fatal   /* heap corruption: never returns */
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C

#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_NO_INTERNAL_RNG
#define MBEDTLS_ECP_WINDOW_SIZE        4
#define MBEDTLS_ECP_FIXED_POINT_OPTIM  0
#define MBEDTLS_ECP_MAX_BITS           256
#define MBEDTLS_MPI_MAX_SIZE           32
#define MBEDTLS_MPI_WINDOW_SIZE        1
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C   /* required by ecdsa.c; the raw r||s form uses neither */
#define MBEDTLS_ASN1_WRITE_C

void signature_fatal(int status);

#include "mbedtls/check_config.h"

#endif /* PYBENCH_MBEDTLS_CONFIG_H */
