/* auth.h - passwords, JWTs, API keys and the authenticated-user check. */
#ifndef BP_AUTH_H
#define BP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <crypt.h>

struct req;

#define API_KEY_LEN	46	/* "bp_" + 43 base64url characters */
#define API_KEY_PREFIX	8	/* characters kept for display */
#define PASSWORD_MIN	12	/* characters, not bytes */
#define PASSWORD_MAX	128
#define TOKEN_MAX	4096

enum auth_method {
	AUTH_BEARER = 1,
	AUTH_API_KEY,
	AUTH_COOKIE,
};

/* Per worker: the dummy hash that unknown emails are checked against. */
void auth_init(void);

/*
 * The authenticated-user check for a protected route: the first credential
 * present decides (Bearer, X-API-Key, cookie).  On success fills r->user
 * and returns true (for a GET that is not an admin route, with the
 * database check left pending: see auth_settle); otherwise the request has been answered (401, 403,
 * 415 for a cookie write without a JSON content type, 503) and it
 * returns false.
 */
bool auth_request(struct req *r);

/*
 * For a request auth_request let through with its database check pending
 * (a read: the check ran with the handler's first query, or runs now):
 * when the check failed, the handler's answer is replaced by the 401 or
 * 503 the check would have given first.
 */
void auth_settle(struct req *r);

/* A new hash of pw with the library's preferred method (yescrypt). */
bool auth_hash_password(const char *pw, char out[CRYPT_OUTPUT_SIZE]);
/* Constant-time check of pw against hash (yescrypt, or legacy $2b$). */
bool auth_verify_password(const char *pw, const char *hash);
/* Spend the time of one verification (unknown email: same timing). */
void auth_dummy_verify(const char *pw);
/* True when hash is not of the preferred method: re-hash after login. */
bool auth_needs_rehash(const char *hash);
/* A password's length in characters is within 12..128 and valid UTF-8. */
bool auth_password_ok(const char *pw);

/*
 * Sign a token for user_id at token version ver; *expires_at receives its
 * exp.  Returns a malloc'ed string.
 */
char *auth_issue_token(const char *user_id, int64_t ver, int64_t *expires_at);

/*
 * Verify a token without the database: exactly HS256 (header compared
 * letter for letter), good signature, exp in the future, iat not in the
 * future, sub a UUID, ver an integer.  Fills sub and *ver.
 */
bool auth_check_token(const char *token, char sub[37], int64_t *ver);

/* A new API key ("bp_" + 43 base64url) and its display prefix. */
void auth_new_api_key(char key[API_KEY_LEN + 1], char prefix[API_KEY_PREFIX + 1]);
/* Shape check before any database work. */
bool auth_api_key_format(const char *key);

/* RFC 3339 UTC text for a Unix time. */
void auth_rfc3339(int64_t t, char out[32]);

/* The Set-Cookie header for a token, and the one that clears it. */
void auth_set_cookie(struct req *r, const char *token);
void auth_clear_cookie(struct req *r);

#endif
