/*
 * digest.h - message digests, from libcrypto (OpenSSL's EVP interface).
 *
 * SHA-256 is for API keys: the worker hashes a key itself, so that the
 * check of a known key's user is a plain comparison in SQL
 * (users.api_key_hash holds the same 32 bytes).  MD5 names the legacy
 * files that have no id (legacy_path_id): a name, not a security measure.
 */
#ifndef BP_DIGEST_H
#define BP_DIGEST_H

#include <stddef.h>

#define MD5_LEN		16
#define SHA256_LEN	32
/* "\x" and 64 hex digits and the NUL: a bytea parameter in text form. */
#define SHA256_BYTEA_MAX	(2 + 2 * SHA256_LEN + 1)

/*
 * The digest of data[0..len).  libcrypto failing to give one (out of
 * memory, or the algorithm not offered) is fatal: there is no answer
 * without it.
 */
void digest_md5(const void *data, size_t len, unsigned char out[MD5_LEN]);
void digest_sha256(const void *data, size_t len,
    unsigned char out[SHA256_LEN]);

/* The SHA-256 of s (without its NUL) as "\x<64 hex digits>". */
void digest_sha256_bytea(const char *s, char out[SHA256_BYTEA_MAX]);

#endif
