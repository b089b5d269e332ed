/* credential.h - passwords, tokens (JWT) and API keys. */
#ifndef BP_CREDENTIAL_H
#define BP_CREDENTIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <crypt.h>

#define API_KEY_LEN	46	/* "bp_" + 43 base64url characters */
#define API_KEY_PREFIX	8	/* characters kept for display */
#define PASSWORD_MIN	12	/* characters, not bytes */
#define PASSWORD_MAX	128
#define TOKEN_MAX	4096
#define TOKEN_SIG_LEN	43	/* base64url of an HMAC-SHA256, no padding */

/* Per worker: the dummy hash that unknown emails are checked against. */
void cred_init(void);

/* A new hash of pw with the library's preferred method (yescrypt). */
bool cred_hash_password(const char *pw, char out[CRYPT_OUTPUT_SIZE]);
/* Constant-time check of pw against hash (yescrypt, or legacy $2b$). */
bool cred_verify_password(const char *pw, const char *hash);
/* Spend the time of one verification (unknown email: same timing). */
void cred_dummy_verify(const char *pw);
/* True when hash is not of the preferred method: re-hash after login. */
bool cred_needs_rehash(const char *hash);
/* A password's length in characters is within 12..128 and valid UTF-8. */
bool cred_password_ok(const char *pw);

/*
 * Sign a token for user_id at token version ver; *expires_at receives its
 * exp.  Returns a malloc'ed string.
 */
char *cred_issue_token(const char *user_id, int64_t ver, int64_t *expires_at);

/*
 * Verify a token without the database: exactly HS256 (header compared
 * letter for letter), good signature, exp in the future, iat not in the
 * future, sub a UUID, ver an integer.  Fills sub, *ver and (unless NULL)
 * *expp, the token's exp.
 */
bool cred_check_token(const char *token, char sub[37], int64_t *ver,
    int64_t *expp);

/*
 * True when sig[0..sig_len) is the base64url HMAC-SHA256, under SECRET_KEY,
 * of tok[0..signed_len) (a token's "header.payload"); compared in constant
 * time.  False when no key is set.
 */
bool cred_token_signature_ok(const char *tok, size_t signed_len,
    const char *sig, size_t sig_len);

/*
 * The jti claim of a token cred_check_token accepted: the identifier a
 * sign-out revokes (32 hex characters); "" when the token has none.
 */
#define TOKEN_JTI_MAX	33
void cred_token_jti(const char *token, char jti[TOKEN_JTI_MAX]);

/* A new API key ("bp_" + 43 base64url) and its display prefix. */
void cred_new_api_key(char key[API_KEY_LEN + 1], char prefix[API_KEY_PREFIX + 1]);
/* Shape check before any database work. */
bool cred_api_key_format(const char *key);

/* RFC 3339 UTC text for a Unix time. */
void cred_rfc3339(int64_t t, char out[32]);

#endif
