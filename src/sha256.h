/*
 * sha256.h - SHA-256 (FIPS 180-4), for API keys: the worker hashes a key
 * itself, so that the check of a known key's user is a plain comparison
 * in SQL (users.api_key_hash holds the same 32 bytes).
 */
#ifndef BP_SHA256_H
#define BP_SHA256_H

#include <stddef.h>

#define SHA256_LEN	32
/* "\x" and 64 hex digits and the NUL: a bytea parameter in text form. */
#define SHA256_BYTEA_MAX	(2 + 2 * SHA256_LEN + 1)

void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);

/* The SHA-256 of s (without its NUL) as "\x<64 hex digits>". */
void sha256_bytea(const char *s, char out[SHA256_BYTEA_MAX]);

#endif
