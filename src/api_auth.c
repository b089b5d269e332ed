/*
 * api_auth.c - POST /api/v1/auth/register, /auth/login and /auth/logout.
 *
 * Login answers a wrong email and a wrong password with the same status
 * and body after the same work: an unknown (or impossible) email is
 * checked against the dummy hash.  Only a right password tells that an
 * account is deactivated.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "buf.h"
#include "config.h"
#include "credential.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "repo.h"
#include "user.h"
#include "validate.h"

/* Emails are checked by user_email_normalize(), not by length here. */
#define EMAIL_RAW_MAX	(1 << 20)
/* Login takes any password a user could have; hashing work stays bounded. */
#define LOGIN_PASSWORD_MAX	1024

enum { F_EMAIL, F_PASSWORD, F__MAX };

static const struct field register_fields[F__MAX] = {
	{ "email", FT_STRING, true, false, 0, EMAIL_RAW_MAX, NULL },	/* F_EMAIL */
	{ "password", FT_STRING, true, false, PASSWORD_MIN, PASSWORD_MAX,
	  NULL },							/* F_PASSWORD */
};
const struct fieldset api_auth_register_body = { register_fields, F__MAX };

static const struct field login_fields[F__MAX] = {
	{ "email", FT_STRING, true, false, 0, EMAIL_RAW_MAX, NULL },	/* F_EMAIL */
	{ "password", FT_STRING, true, false, 1, LOGIN_PASSWORD_MAX,
	  NULL },							/* F_PASSWORD */
};
const struct fieldset api_auth_login_body = { login_fields, F__MAX };

static void
invalid_credentials(struct req *r)
{
	http_fail(r, ERR_INVALID_CREDENTIALS, NULL, "wrong email or password");
}

/*
 * Write {"user":{...},"token","expires_at"[,"api_key"]} for u with a new
 * token, and set the session cookie.
 */
static void
write_session(struct req *r, const struct user *u, const char *api_key)
{
	struct jw w;
	int64_t exp;
	char *token = cred_issue_token(u->id, u->token_version, &exp);
	char when[32];

	cred_rfc3339(exp, when);
	auth_set_cookie(r, token);
	jw_init(&w, &r->out);
	jw_obj(&w);
	jw_key(&w, "user");
	user_write(&w, u, false);
	jw_kstr(&w, "token", token);
	jw_kstr(&w, "expires_at", when);
	if (api_key != NULL)
		jw_kstr(&w, "api_key", api_key);
	jw_end(&w, '}');
	explicit_bzero(token, strlen(token));
	free(token);
}

void
api_auth_register(struct req *r)
{
	const struct fval *v = r->in;
	struct user *u = req_alloc(r, sizeof(*u));
	char email[USER_EMAIL_MAX];
	char hash[CRYPT_OUTPUT_SIZE];
	char key[API_KEY_LEN + 1], prefix[API_KEY_PREFIX + 1];
	enum db_status e;

	if (!user_email_normalize(v[F_EMAIL].s, email)) {
		http_fail(r, ERR_VALIDATION, "email",
		    "email must be an address of at most "
		    "254 characters with one @ and no spaces");
		return;
	}
	if (!cred_password_ok(v[F_PASSWORD].s)) {
		http_fail(r, ERR_VALIDATION, "password",
		    "password must be 12 to 128 characters");
		return;
	}
	if (!cred_hash_password(v[F_PASSWORD].s, hash)) {
		http_fail(r, ERR_INTERNAL, NULL, NULL);
		return;
	}
	cred_new_api_key(key, prefix);
	e = repo_users_create(email, hash, false, key, prefix, u);
	explicit_bzero(hash, sizeof(hash));
	if (e == DB_UNIQUE) {
		http_fail(r, ERR_EMAIL_TAKEN, NULL,
		    "an account with this email already exists");
		goto out;
	}
	if (e != DB_OK) {
		http_db_failed(r, e);
		goto out;
	}
	write_session(r, u, key);
	http_status(r, 201);
out:
	explicit_bzero(key, sizeof(key));
}

void
api_auth_login(struct req *r)
{
	const struct fval *v = r->in;
	struct user *u = req_alloc(r, sizeof(*u));
	char email[USER_EMAIL_MAX];
	const char *pw;
	enum db_status e = DB_EMPTY;

	pw = v[F_PASSWORD].s;
	/* an address that cannot exist is just another unknown email */
	if (user_email_normalize(v[F_EMAIL].s, email))
		e = repo_users_by_email(email, u);
	if (e == DB_EMPTY) {
		cred_dummy_verify(pw);
		invalid_credentials(r);
		return;
	}
	if (e != DB_OK) {
		http_db_failed(r, e);
		return;
	}
	if (!auth_password_attempt(r, u->id))
		return;
	if (!cred_verify_password(pw, u->password_hash)) {
		invalid_credentials(r);
		return;
	}
	auth_password_right(r, u->id);
	if (!u->is_active) {
		http_fail(r, ERR_ACCOUNT_DISABLED, NULL,
		    "this account has been deactivated");
		return;
	}
	if (cred_needs_rehash(u->password_hash)) {
		char hash[CRYPT_OUTPUT_SIZE];

		/* a failure here costs nothing but the upgrade: log, go on */
		if (cred_hash_password(pw, hash) &&
		    (e = repo_users_rehash(u->id, u->password_hash, hash)) !=
		    DB_OK && e != DB_EMPTY)
			log_warnx("login: could not re-hash the password of %s",
			    u->id);
		explicit_bzero(hash, sizeof(hash));
	}
	write_session(r, u, NULL);
	http_status(r, 200);
}

void
api_auth_logout(struct req *r)
{
	bool bad;
	const char *all = http_query(r, "all", &bad);
	enum db_status e;

	if (bad)
		return;
	if (all != NULL && strcmp(all, "true") != 0 && strcmp(all, "false") != 0) {
		http_fail(r, ERR_VALIDATION, "all",
		    "all must be true or false");
		return;
	}
	if (all != NULL && strcmp(all, "true") == 0 &&
	    (e = repo_users_bump_version(r->user.id)) != DB_OK) {
		if (e == DB_EMPTY)
			http_fail(r, ERR_UNAUTHORIZED, NULL,
			    "the credentials are no longer valid");
		else
			http_db_failed(r, e);
		return;
	}
	/* the token (or cookie) that signs out stops working, alone */
	if (r->user.jti[0] != '\0' &&
	    (e = repo_users_revoke_token(r->user.id, r->user.jti,
	    r->user.exp)) != DB_OK) {
		if (e == DB_FOREIGN)
			http_fail(r, ERR_UNAUTHORIZED, NULL,
			    "the credentials are no longer valid");
		else
			http_db_failed(r, e);
		return;
	}
	auth_clear_cookie(r);
	http_no_content(r);
}

/* GET /api/v1/auth/config: no credential, no database. */
void
api_auth_config(struct req *r)
{
	struct jw w;

	jw_init(&w, &r->out);
	jw_obj(&w);
	jw_kbool(&w, "registration_open", cfg.enable_registration);
	jw_end(&w, '}');
	http_status(r, 200);
}
