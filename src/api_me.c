/*
 * api_me.c - the caller's own account: GET and DELETE /api/v1/me,
 * PUT /me/password, POST and DELETE /me/api-key.
 *
 * The password-checked changes (delete, new password) read the current
 * hash by the caller's id; the new password is stored only if that hash is
 * still current, so two concurrent changes cannot both win.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "buf.h"
#include "credential.h"
#include "http.h"
#include "json.h"
#include "repo.h"
#include "usage.h"
#include "user.h"
#include "validate.h"

/* Any password a user could have; hashing work stays bounded. */
#define CHECK_PASSWORD_MAX	1024

enum { FD_PASSWORD, FD__MAX };

static const struct field delete_fields[FD__MAX] = {
	{ "password", FT_STRING, true, false, 1, CHECK_PASSWORD_MAX,
	  NULL },					/* FD_PASSWORD */
};
const struct fieldset api_me_delete_body = { delete_fields, FD__MAX };

enum { FP_CURRENT, FP_NEW, FP__MAX };

static const struct field password_fields[FP__MAX] = {
	{ "current_password", FT_STRING, true, false, 1, CHECK_PASSWORD_MAX,
	  NULL },					/* FP_CURRENT */
	{ "new_password", FT_STRING, true, false, PASSWORD_MIN, PASSWORD_MAX,
	  NULL },					/* FP_NEW */
};
const struct fieldset api_me_password_body = { password_fields, FP__MAX };

static void
db_failed(struct req *r, enum db_status e)
{
	if (e == DB_EMPTY)	/* the account went away after authentication */
		http_fail(r, ERR_UNAUTHORIZED, NULL,
		    "the credentials are no longer valid");
	else if (e == DB_DOWN)
		http_fail(r, ERR_UNAVAILABLE, NULL, NULL);
	else
		http_fail(r, ERR_INTERNAL, NULL, NULL);
}

/*
 * Load the caller and check password pw against their hash.  Returns true
 * with *u filled; otherwise the request has been answered (401 for a
 * wrong password).
 */
static bool
check_password(struct req *r, const char *pw, struct user *u)
{
	enum db_status e = repo_users_by_id(r->user.id, u);

	if (e != DB_OK) {
		db_failed(r, e);
		return false;
	}
	if (!auth_password_attempt(r, u->id))
		return false;
	if (!cred_verify_password(pw, u->password_hash)) {
		http_fail(r, ERR_INVALID_CREDENTIALS, NULL, "wrong password");
		return false;
	}
	auth_password_right(r, u->id);
	return true;
}

void
api_me_get(struct req *r)
{
	struct user *u = req_alloc(r, sizeof(*u));
	struct usage g;
	struct jw w;
	enum db_status e;

	/* usage exactly as GET /usage has it: the same function */
	if ((e = repo_users_by_id(r->user.id, u)) != DB_OK ||
	    (e = repo_usage_current(r->user.id, &g)) != DB_OK) {
		db_failed(r, e);
		return;
	}
	jw_init(&w, &r->out);
	jw_obj(&w);
	jw_key(&w, "user");
	user_write(&w, u, false);
	jw_key(&w, "usage");
	usage_write(&w, &g);
	jw_end(&w, '}');
	http_status(r, 200);
}

void
api_me_delete(struct req *r)
{
	const struct fval *v = r->in;
	struct user *u = req_alloc(r, sizeof(*u));
	enum db_status e;
	bool last_admin;

	if (!check_password(r, v[FD_PASSWORD].s, u))
		return;
	e = repo_users_delete(r->user.id, &last_admin);
	if (e != DB_OK && e != DB_EMPTY) {
		db_failed(r, e);
		return;
	}
	if (e == DB_OK && last_admin) {
		http_fail(r, ERR_CONFLICT, NULL, "you are the last active "
		    "administrator: make another user an admin first");
		return;
	}
	auth_clear_cookie(r);
	http_no_content(r);
}

void
api_me_password(struct req *r)
{
	const struct fval *v = r->in;
	struct user *u = req_alloc(r, sizeof(*u));
	char hash[CRYPT_OUTPUT_SIZE], when[32];
	char *token;
	int64_t ver, exp;
	enum db_status e;
	struct jw w;

	if (!check_password(r, v[FP_CURRENT].s, u))
		return;
	if (!cred_password_ok(v[FP_NEW].s)) {
		http_fail(r, ERR_VALIDATION, "new_password",
		    "new_password must be 12 to 128 characters");
		return;
	}
	if (!cred_hash_password(v[FP_NEW].s, hash)) {
		http_fail(r, ERR_INTERNAL, NULL, NULL);
		return;
	}
	e = repo_users_set_password(r->user.id, u->password_hash, hash, &ver);
	explicit_bzero(hash, sizeof(hash));
	if (e == DB_EMPTY) {
		/* changed by another request since we checked it */
		http_fail(r, ERR_INVALID_CREDENTIALS, NULL, "wrong password");
		return;
	}
	if (e != DB_OK) {
		db_failed(r, e);
		return;
	}
	token = cred_issue_token(r->user.id, ver, &exp);
	cred_rfc3339(exp, when);
	/* the browser that changed it stays signed in */
	if (r->user.method == AUTH_COOKIE)
		auth_set_cookie(r, token);
	jw_init(&w, &r->out);
	jw_obj(&w);
	jw_kstr(&w, "token", token);
	jw_kstr(&w, "expires_at", when);
	jw_end(&w, '}');
	explicit_bzero(token, strlen(token));
	free(token);
	http_status(r, 200);
}

void
api_me_key_create(struct req *r)
{
	char key[API_KEY_LEN + 1], prefix[API_KEY_PREFIX + 1];
	enum db_status e;
	struct jw w;

	cred_new_api_key(key, prefix);
	if ((e = repo_users_set_key(r->user.id, key, prefix)) != DB_OK) {
		explicit_bzero(key, sizeof(key));
		db_failed(r, e);
		return;
	}
	jw_init(&w, &r->out);
	jw_obj(&w);
	jw_kstr(&w, "api_key", key);
	jw_kstr(&w, "api_key_prefix", prefix);
	jw_end(&w, '}');
	explicit_bzero(key, sizeof(key));
	http_status(r, 201);
}

void
api_me_key_delete(struct req *r)
{
	enum db_status e;

	if ((e = repo_users_clear_key(r->user.id)) != DB_OK) {
		db_failed(r, e);
		return;
	}
	http_no_content(r);
}
