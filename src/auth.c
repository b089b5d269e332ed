/*
 * auth.c - the check every protected request goes through: which
 * credential the request carries (Bearer token, X-API-Key, session
 * cookie), whether it is still valid in the database, and the session
 * cookie itself.  The credentials' own mechanics are in credential.c.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "auth_cache.h"
#include "config.h"
#include "credential.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "repo.h"
#include "router.h"
#include "util.h"

void
auth_set_cookie(struct req *r, const char *token)
{
	http_header(r, "Set-Cookie", "bp_session=%s; Max-Age=%lld; Path=/api/; "
	    "HttpOnly; Secure; SameSite=Strict", token, (long long)cfg.jwt_ttl);
}

void
auth_clear_cookie(struct req *r)
{
	http_header(r, "Set-Cookie", "bp_session=; Max-Age=0; Path=/api/; "
	    "HttpOnly; Secure; SameSite=Strict");
}

const char *
auth_cookie_value(const char *header, size_t *lenp)
{
	const char *c = header;

	while (c != NULL && *c != '\0') {
		size_t len;

		while (*c == ' ' || *c == '\t' || *c == ';')
			c++;
		len = strcspn(c, ";");
		if (len > 11 && strncmp(c, "bp_session=", 11) == 0) {
			/* trailing blanks end where the value begins */
			while (len > 11 && (c[len - 1] == ' ' || c[len - 1] == '\t'))
				len--;
			*lenp = len - 11;
			return c + 11;
		}
		c += len;
	}
	return NULL;
}

const char *
auth_bearer_token(const char *header)
{
	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return NULL;
	header += 7;
	while (*header == ' ')
		header++;
	return header;
}

/* The value of the bp_session cookie, or NULL (per-request memory). */
static const char *
session_cookie(struct req *r)
{
	size_t len;
	const char *c = auth_cookie_value(http_param(r, "HTTP_COOKIE"), &len);
	char *v;

	if (c == NULL)
		return NULL;
	v = req_alloc(r, len + 1);
	memcpy(v, c, len);
	v[len] = '\0';
	return v;
}

static bool
unauthorized(struct req *r, const char *message)
{
	http_fail(r, ERR_UNAUTHORIZED, NULL,
	    "%s", message);	/* + WWW-Authenticate */
	return false;
}

static bool
lookup_failed(struct req *r, enum db_status e)
{
	if (e == DB_EMPTY)
		return unauthorized(r, "the credentials are no longer valid");
	if (e == DB_DOWN)
		http_fail(r, ERR_UNAVAILABLE, NULL, NULL);
	else
		http_fail(r, ERR_INTERNAL, NULL, NULL);
	return false;
}

/*
 * A token's claims into u (id, jti, exp) and *ver: from the worker's
 * memory when this very token was verified before (and has not expired),
 * else verified now and kept.  Whether it was revoked since is asked of
 * the database either way (token_user).
 */
static bool
token_claims(const char *token, struct auth_user *u, int64_t *ver)
{
	struct auth_cached c;

	if (auth_cache_get(CACHE_TOKEN, token, &c)) {
		memcpy(u->id, c.id, sizeof(c.id));
		memcpy(u->jti, c.jti, sizeof(c.jti));
		u->exp = c.exp;
		*ver = c.ver;
		return true;
	}
	memset(&c, 0, sizeof(c));
	if (!cred_check_token(token, u->id, ver, &c.exp))
		return false;
	cred_token_jti(token, c.jti);
	memcpy(c.id, u->id, sizeof(c.id));
	memcpy(u->jti, c.jti, sizeof(c.jti));
	u->exp = c.exp;
	c.ver = *ver;
	auth_cache_put(CACHE_TOKEN, token, &c);
	return true;
}

/*
 * Whether the database check may wait for the handler's first query: a
 * GET that is not an admin route (those need the role before the
 * handler), or a write that allows it (RF_DEFER).  The check then goes
 * with the handler's first statement and fails when the credential is no
 * longer good, which stops that statement and every later one; the
 * answer is discarded (auth_settle).
 */
static bool
deferrable(const struct req *r)
{
	unsigned f = r->route->flags;

	if ((f & RF_ADMIN) || ((f & RF_COST_ROLE) && cfg.cost_reporting_admin))
		return false;
	return strcmp(r->method, "GET") == 0 || (f & RF_DEFER);
}

/* The user of a token whose claims are good: checked now or pending. */
static bool
token_user(struct req *r, int64_t ver)
{
	struct auth_user *u = &r->user;
	enum db_status e;

	if (deferrable(r)) {
		repo_users_guard_token(u->id, ver, u->jti);
		u->pending = true;
		return true;
	}
	if ((e = repo_users_auth_token(u->id, ver, u->jti, &u->admin)) !=
	    DB_OK) {
		if (e == DB_EMPTY && u->method == AUTH_COOKIE)
			auth_clear_cookie(r);
		return lookup_failed(r, e);
	}
	return true;
}

/* The user of an API key: pending when a request has shown it before. */
static bool
key_user(struct req *r, const char *key)
{
	struct auth_user *u = &r->user;
	struct auth_cached c;
	enum db_status e;

	if (deferrable(r) && auth_cache_get(CACHE_KEY, key, &c)) {
		memcpy(u->id, c.id, sizeof(c.id));
		repo_users_guard_key(key, u->id);
		u->pending = true;
		return true;
	}
	if ((e = repo_users_auth_key(key, u->id, &u->admin)) != DB_OK)
		return lookup_failed(r, e);
	memset(&c, 0, sizeof(c));
	memcpy(c.id, u->id, sizeof(c.id));
	auth_cache_put(CACHE_KEY, key, &c);
	return true;
}

bool
auth_request(struct req *r)
{
	const char *authz = http_param(r, "HTTP_AUTHORIZATION");
	const char *key = http_param(r, "HTTP_X_API_KEY");
	const char *cookie;
	struct auth_user *u = &r->user;
	int64_t ver;

	memset(u, 0, sizeof(*u));
	if (authz != NULL) {
		u->method = AUTH_BEARER;
		if ((authz = auth_bearer_token(authz)) == NULL)
			return unauthorized(r, "use Authorization: Bearer <token>");
		u->cred = authz;
		if (!token_claims(authz, u, &ver))
			return unauthorized(r, "invalid or expired token");
		if (!token_user(r, ver))
			return false;
	} else if (key != NULL) {
		u->method = AUTH_API_KEY;
		u->cred = key;
		if (!cred_api_key_format(key))
			return unauthorized(r, "invalid API key");
		if (!key_user(r, key))
			return false;
	} else if ((cookie = session_cookie(r)) != NULL) {
		u->method = AUTH_COOKIE;
		u->cred = cookie;
		/* a cross-site form cannot send a JSON content type */
		if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0 &&
		    !http_is_json_type(r->content_type)) {
			http_fail(r, ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
			    "requests "
			    "authenticated by cookie must send Content-Type: "
			    "application/json");
			return false;
		}
		/* a dead session cookie is also removed from the browser */
		if (!token_claims(cookie, u, &ver)) {
			auth_clear_cookie(r);
			return unauthorized(r, "invalid or expired session");
		}
		if (!token_user(r, ver))
			return false;
	} else
		return unauthorized(r, "authentication required");
	u->ok = true;
	if ((r->route->flags & RF_ADMIN) && !u->admin) {
		http_fail(r, ERR_FORBIDDEN, NULL, "administrators only");
		return false;
	}
	return true;
}

void
auth_settle(struct req *r)
{
	struct auth_user *u = &r->user;
	enum db_status e;

	if (!u->pending)
		return;
	u->pending = false;
	if ((e = db_guard_end()) == DB_OK)
		return;
	u->ok = false;
	if (e == DB_EMPTY)
		auth_cache_forget(u->method == AUTH_API_KEY ? CACHE_KEY :
		    CACHE_TOKEN, u->cred);
	http_discard(r);
	if (e == DB_EMPTY && u->method == AUTH_COOKIE)
		auth_clear_cookie(r);
	(void)lookup_failed(r, e);
}

bool
auth_password_attempt(struct req *r, const char *id)
{
	int64_t retry;
	enum db_status e;

	switch ((e = repo_users_password_attempt(id, &retry))) {
	case DB_OK:
		return true;
	case DB_DENIED:
		http_fail(r, ERR_TOO_MANY_REQUESTS, NULL, "too many wrong "
		    "passwords for this account; retry in %lld seconds",
		    (long long)retry);
		http_header(r, "Retry-After", "%lld", (long long)retry);
		return false;
	default:
		return lookup_failed(r, e);
	}
}

void
auth_password_right(struct req *r, const char *id)
{
	enum db_status e;

	/* a failure costs a count that expires with its window: log, go on */
	if ((e = repo_users_password_ok(id)) != DB_OK)
		log_warnx("%s: could not reset the password failures of %s",
		    r->path, id);
}
