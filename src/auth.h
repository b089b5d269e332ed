/* auth.h - the authenticated-user check of a protected request, and the session cookie. */
#ifndef BP_AUTH_H
#define BP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct req;

enum auth_method {
	AUTH_BEARER = 1,
	AUTH_API_KEY,
	AUTH_COOKIE,
};

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

/*
 * The value of the bp_session cookie in a Cookie header (NULL allowed),
 * without trailing blanks: a pointer into header with its length in
 * *lenp (possibly 0), or NULL when there is none.
 */
const char *auth_cookie_value(const char *header, size_t *lenp);

/*
 * The token of an Authorization header ("Bearer" in any case, a space,
 * then the token after any further spaces): a pointer into header, or
 * NULL when the header is absent or of another scheme.
 */
const char *auth_bearer_token(const char *header);

/*
 * Before a password of user id is checked (login, PUT /me/password,
 * DELETE /me): true to go on (the check is counted as a failure until
 * auth_password_right); false when the request has been answered: 429
 * too_many_requests with Retry-After after too many recent failures, or
 * 401, 503, 500.
 */
bool auth_password_attempt(struct req *r, const char *id);
/* The password was right: forget the account's recent failures. */
void auth_password_right(struct req *r, const char *id);

/* The Set-Cookie header for a token, and the one that clears it. */
void auth_set_cookie(struct req *r, const char *token);
void auth_clear_cookie(struct req *r);

#endif
