/*
 * credential.c - passwords (libxcrypt), tokens (libjwt) and API keys: the
 * credentials themselves, with no request in sight.
 *
 * libjwt 1.10 takes the algorithm from the token, in any letter case, and
 * checks no claim: so the header is decoded and compared here first, the
 * key is never empty, and exp, iat, sub and ver are checked here.
 *
 * Nor does libjwt 1.x compare signatures in constant time (it compares
 * the base64 text with strcmp, as in CVE-2024-25189 upstream), which lets
 * a client learn a valid signature a byte at a time.  So the signature is
 * checked here, before libjwt sees the token: HMAC-SHA256 over
 * "header.payload" from libcrypto, base64url-encoded, compared with
 * CRYPTO_memcmp.  libjwt is kept for signing and for reading the claims
 * of a token whose signature has already been found good.
 */
#include "autoconf.h"

#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "config.h"
#include "credential.h"
#include "log.h"
#include "util.h"

static char dummy_hash[CRYPT_OUTPUT_SIZE];

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
random_bytes(void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom((char *)p + got, n - got, 0);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		got += (size_t)r;
	}
}

void
cred_init(void)
{
	unsigned char pw[24];
	char text[sizeof(pw) * 2 + 1];
	size_t i;

	random_bytes(pw, sizeof(pw));
	for (i = 0; i < sizeof(pw); i++)
		snprintf(text + i * 2, 3, "%02x", pw[i]);
	if (!cred_hash_password(text, dummy_hash))
		fatalx("cannot make the dummy password hash");
}

bool
cred_hash_password(const char *pw, char out[CRYPT_OUTPUT_SIZE])
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	bool ok = false;

	/* NULL prefix: the library's preferred method; NULL rbytes: getrandom */
	if (crypt_gensalt_rn(NULL, 0, NULL, 0, setting, sizeof(setting)) == NULL) {
		log_warn("crypt_gensalt_rn");
		return false;
	}
	cd = xcalloc(1, sizeof(*cd));
	if (crypt_rn(pw, setting, cd, sizeof(*cd)) != NULL &&
	    cd->output[0] != '*') {
		memcpy(out, cd->output, CRYPT_OUTPUT_SIZE);
		ok = true;
	} else
		log_warn("crypt_rn");
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

bool
cred_verify_password(const char *pw, const char *hash)
{
	struct crypt_data *cd;
	bool ok = false;
	size_t n = strlen(hash);

	if (n == 0 || n >= CRYPT_OUTPUT_SIZE || hash[0] != '$')
		return false;
	cd = xcalloc(1, sizeof(*cd));
	if (crypt_rn(pw, hash, cd, sizeof(*cd)) != NULL &&
	    cd->output[0] != '*' && strlen(cd->output) == n)
		ok = ct_equal(cd->output, hash, n);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

void
cred_dummy_verify(const char *pw)
{
	(void)cred_verify_password(pw, dummy_hash);
}

bool
cred_needs_rehash(const char *hash)
{
	const char *pref = crypt_preferred_method();

	return pref == NULL || strncmp(hash, pref, strlen(pref)) != 0;
}

bool
cred_password_ok(const char *pw)
{
	long n = utf8_len(pw, strlen(pw));

	return n >= PASSWORD_MIN && n <= PASSWORD_MAX;
}

void
cred_rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *
cred_issue_token(const char *user_id, int64_t ver, int64_t *expires_at)
{
	jwt_t *jwt = NULL;
	char *tok = NULL;
	int64_t now = (int64_t)time(NULL);
	unsigned char id[16];
	char jti[TOKEN_JTI_MAX];
	size_t i;

	/* a token of its own, which a sign-out can revoke alone */
	random_bytes(id, sizeof(id));
	for (i = 0; i < sizeof(id); i++)
		snprintf(jti + i * 2, 3, "%02x", id[i]);
	*expires_at = now + cfg.jwt_ttl;
	if (jwt_new(&jwt) != 0 ||
	    jwt_add_grant(jwt, "sub", user_id) != 0 ||
	    jwt_add_grant(jwt, "jti", jti) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)*expires_at) != 0 ||
	    jwt_add_grant_int(jwt, "ver", (long)ver) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_HS256,
	    (const unsigned char *)cfg.secret_key, (int)cfg.secret_key_len) != 0 ||
	    (tok = jwt_encode_str(jwt)) == NULL)
		fatalx("cannot sign a token");
	jwt_free(jwt);
	return tok;
}

/* base64url (no padding) of in[0..n) into out, NUL-terminated. */
static void
b64url_encode(const unsigned char *in, size_t n, char *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = b64url[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

bool
cred_token_signature_ok(const char *tok, size_t signed_len, const char *sig,
    size_t sig_len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char want[TOKEN_SIG_LEN + 1];
	bool ok;

	/* The length is no secret: every HS256 signature has 43 characters. */
	if (sig_len != TOKEN_SIG_LEN || cfg.secret_key_len == 0)
		return false;
	if (HMAC(EVP_sha256(), cfg.secret_key, (int)cfg.secret_key_len,
	    (const unsigned char *)tok, signed_len, mac, &mac_len) == NULL ||
	    mac_len != 32) {
		log_warnx("libcrypto gave no HMAC-SHA256");
		return false;
	}
	b64url_encode(mac, 32, want);
	ok = CRYPTO_memcmp(want, sig, TOKEN_SIG_LEN) == 0;
	explicit_bzero(mac, sizeof(mac));
	explicit_bzero(want, sizeof(want));
	return ok;
}

/* Decode base64url s[0..len) (no padding) into out; returns bytes or -1. */
static ssize_t
b64url_decode(const char *s, size_t len, unsigned char *out, size_t outsz)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		const char *p = memchr(b64url, s[i], 64);

		if (p == NULL || s[i] == '\0')
			return -1;
		acc = (acc << 6) | (uint32_t)(p - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outsz)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (ssize_t)o;
}

/* The token's header must be exactly {"alg":"HS256"} (typ JWT allowed). */
static bool
header_ok(const char *tok, size_t len)
{
	unsigned char hdr[256];
	ssize_t n = b64url_decode(tok, len, hdr, sizeof(hdr) - 1);
	json_object *h, *alg;
	bool ok = false;

	if (n <= 0)
		return false;
	hdr[n] = '\0';
	if (memchr(hdr, '\0', (size_t)n) != NULL)
		return false;
	if ((h = json_tokener_parse((const char *)hdr)) == NULL)
		return false;
	if (!json_object_is_type(h, json_type_object)) {
		json_object_put(h);	/* "x", 1, [] ...: not a header */
		return false;
	}
	if (json_object_object_get_ex(h, "alg", &alg) &&
	    json_object_is_type(alg, json_type_string) &&
	    strcmp(json_object_get_string(alg), "HS256") == 0)
		ok = true;
	json_object_object_foreach(h, key, val) {
		if (strcmp(key, "alg") == 0)
			continue;
		if (strcmp(key, "typ") == 0 &&
		    json_object_is_type(val, json_type_string) &&
		    strcmp(json_object_get_string(val), "JWT") == 0)
			continue;
		ok = false;	/* kid, jku, crit...: nothing we honour */
	}
	json_object_put(h);
	return ok;
}

/* An integer claim that is present and a JSON integer. */
static bool
int_claim(jwt_t *jwt, const char *name, int64_t *out)
{
	char *json = jwt_get_grants_json(jwt, name);
	json_object *v;
	bool ok = false;

	if (json == NULL)
		return false;
	if ((v = json_tokener_parse(json)) != NULL &&
	    json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		ok = true;
	}
	json_object_put(v);
	free(json);
	return ok;
}

bool
cred_check_token(const char *token, char sub[37], int64_t *ver, int64_t *expp)
{
	const char *dot1, *dot2, *s;
	size_t len;
	jwt_t *jwt = NULL;
	int64_t exp, iat, now = (int64_t)time(NULL);
	bool ok = false;

	if (token == NULL || cfg.secret_key_len == 0)
		return false;
	len = strlen(token);
	if (len == 0 || len > TOKEN_MAX)
		return false;
	if ((dot1 = strchr(token, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL || strchr(dot2 + 1, '.') ||
	    dot2[1] == '\0')
		return false;
	/* the signature first, in constant time: nothing reads a forged token */
	if (!cred_token_signature_ok(token, (size_t)(dot2 - token), dot2 + 1,
	    strlen(dot2 + 1)))
		return false;
	if (!header_ok(token, (size_t)(dot1 - token)))
		return false;
	if (jwt_decode(&jwt, token, (const unsigned char *)cfg.secret_key,
	    (int)cfg.secret_key_len) != 0 || jwt == NULL)
		return false;
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	s = jwt_get_grant(jwt, "sub");
	if (s == NULL || !is_uuid(s))
		goto out;
	if (!int_claim(jwt, "exp", &exp) || !int_claim(jwt, "iat", &iat) ||
	    !int_claim(jwt, "ver", ver))
		goto out;
	if (exp <= now || iat > now + 60 || *ver < 0)
		goto out;
	memcpy(sub, s, 36);
	sub[36] = '\0';
	if (expp != NULL)
		*expp = exp;
	for (char *p = sub; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	ok = true;
out:
	jwt_free(jwt);
	return ok;
}

void
cred_new_api_key(char key[API_KEY_LEN + 1], char prefix[API_KEY_PREFIX + 1])
{
	unsigned char raw[33];
	size_t i, o = 3;

	random_bytes(raw, 32);
	raw[32] = 0;
	memcpy(key, "bp_", 3);
	/* 32 bytes -> 43 characters: 10 full groups of 3 bytes, then 2 bytes */
	for (i = 0; i < 30; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		    raw[i + 2];

		key[o++] = b64url[(v >> 18) & 63];
		key[o++] = b64url[(v >> 12) & 63];
		key[o++] = b64url[(v >> 6) & 63];
		key[o++] = b64url[v & 63];
	}
	{
		uint32_t v = (uint32_t)raw[30] << 16 | (uint32_t)raw[31] << 8;

		key[o++] = b64url[(v >> 18) & 63];
		key[o++] = b64url[(v >> 12) & 63];
		key[o++] = b64url[(v >> 6) & 63];
	}
	key[o] = '\0';
	memcpy(prefix, key, API_KEY_PREFIX);
	prefix[API_KEY_PREFIX] = '\0';
	explicit_bzero(raw, sizeof(raw));
}

bool
cred_api_key_format(const char *key)
{
	size_t i;

	if (key == NULL || strlen(key) != API_KEY_LEN ||
	    strncmp(key, "bp_", 3) != 0)
		return false;
	for (i = 3; i < API_KEY_LEN; i++)
		if (memchr(b64url, key[i], 64) == NULL)
			return false;
	return true;
}

void
cred_token_jti(const char *token, char jti[TOKEN_JTI_MAX])
{
	const char *dot1, *dot2;
	unsigned char *p;
	ssize_t n;
	json_object *claims, *v;

	jti[0] = '\0';
	if ((dot1 = strchr(token, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL)
		return;
	p = xmalloc(TOKEN_MAX);
	n = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), p, TOKEN_MAX - 1);
	if (n > 0) {
		p[n] = '\0';
		if ((claims = json_tokener_parse((const char *)p)) != NULL) {
			if (json_object_object_get_ex(claims, "jti", &v) &&
			    json_object_is_type(v, json_type_string) &&
			    json_object_get_string_len(v) < TOKEN_JTI_MAX)
				snprintf(jti, TOKEN_JTI_MAX, "%s",
				    json_object_get_string(v));
			json_object_put(claims);
		}
	}
	free(p);
}
