/*
 * signature.h - ECDSA P-256 signatures over SHA-256, checked with mbedTLS against the
 * public key built into the program (the build's key, docs/image-format.md).
 */
#ifndef SIGNATURE_H
#define SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

/* 0: sig (r || s, 32 bytes each, big-endian) signs msg under the built-in key. */
int signature_verify(const void *msg, size_t len, const uint8_t sig[64]);

/* The first 4 bytes (little-endian) of SHA-256 of the built-in public key. */
uint32_t signature_key_id(void);

#endif /* SIGNATURE_H */
