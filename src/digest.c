/* digest.c - MD5 and SHA-256 from libcrypto, see digest.h. */
#include "autoconf.h"

#include <string.h>

#include <openssl/evp.h>

#include "digest.h"
#include "log.h"
#include "util.h"

static void
digest(const EVP_MD *md, const char *name, const void *data, size_t len,
    unsigned char *out, unsigned int want)
{
	unsigned int got = 0;

	if (md == NULL || EVP_Digest(data, len, out, &got, md, NULL) != 1 ||
	    got != want)
		fatalx("libcrypto gave no %s digest", name);
}

void
digest_md5(const void *data, size_t len, unsigned char out[MD5_LEN])
{
	digest(EVP_md5(), "MD5", data, len, out, MD5_LEN);
}

void
digest_sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	digest(EVP_sha256(), "SHA-256", data, len, out, SHA256_LEN);
}

void
digest_sha256_bytea(const char *s, char out[SHA256_BYTEA_MAX])
{
	unsigned char d[SHA256_LEN];

	digest_sha256(s, strlen(s), d);
	out[0] = '\\';
	out[1] = 'x';
	hex_encode(d, SHA256_LEN, out + 2);
}
