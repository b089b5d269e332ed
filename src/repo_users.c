/*
 * repo_users.c - the users table: the authenticated-user checks, the
 * account endpoints, the administration of users, and the operator
 * commands (create-admin, create-user).
 *
 * The operator commands run the same statements on the handle they open
 * (db_open).
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cursor.h"
#include "db_stmt.h"
#include "digest.h"
#include "log.h"
#include "repo.h"
#include "usage.h"
#include "user.h"
#include "util.h"

/* The API's user object, in enum user_col order: fill_user() reads it. */
#define USER_COLS \
	"u.id AS u_id, u.email AS u_email, u.role = 'admin' AS u_admin," \
	" u.is_active AS u_active," \
	" u.created_at AS u_created," \
	" u.api_key_prefix AS u_key_prefix," \
	" u.max_monthly_cost::text AS u_max_cost," \
	" u.max_articles_per_month AS u_max_articles"

/* What a password check and a new token need besides. */
#define SECRET_COLS \
	"u.token_version AS u_ver, u.password_hash AS u_hash"

/*
 * This month's usage of user u, as GET /usage shows it (API.md, Usage;
 * the same rule as repo_usage.c's usage_current, for a whole list):
 * $1 the default cost limit, $2 the default article limit, $3
 * PIPELINE_TIMEOUT_MINUTES.  Runs still running within the timeout are
 * "in progress" and reserve their estimate; remaining never goes below 0.
 */
#define USAGE_COLS \
	"to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM') AS g_month," \
	" coalesce(au.articles_generated, 0) AS g_articles," \
	" ip.n AS g_in_progress," \
	" coalesce(au.total_cost, 0)::numeric(14,4)::text AS g_cost," \
	" coalesce(u.max_monthly_cost, $1::numeric)::numeric(14,4)::text" \
	" AS g_max_cost," \
	" coalesce(u.max_articles_per_month, $2::integer) AS g_max_articles," \
	" greatest(0, coalesce(u.max_monthly_cost, $1::numeric)" \
	" - coalesce(au.total_cost, 0) - ip.reserved)::numeric(14,4)::text" \
	" AS g_rem_cost," \
	" greatest(0, coalesce(u.max_articles_per_month, $2::integer)" \
	" - coalesce(au.articles_generated, 0) - ip.n) AS g_rem_articles"

#define USAGE_JOIN \
	" LEFT JOIN api_usage au ON au.user_id = u.id" \
	" AND au.month = date_trunc('month', now() AT TIME ZONE 'UTC')::date" \
	" CROSS JOIN LATERAL (SELECT count(*) AS n," \
	" coalesce(sum(p.estimated_cost), 0) AS reserved" \
	" FROM pipelines p WHERE p.user_id = u.id AND p.status = 'running'" \
	" AND p.started_at > now() - $3::integer * interval '1 minute') ip"

/* Where fill_user() and fill_usage() find the columns above. */
enum user_col {
	UC_ID, UC_EMAIL, UC_ADMIN, UC_ACTIVE, UC_CREATED, UC_KEY_PREFIX,
	UC_MAX_COST, UC_MAX_ARTICLES,
	UC__N,
	UC_VER = UC__N,		/* SECRET_COLS, when selected */
	UC_HASH,
};
enum usage_col {
	GC_MONTH, GC_ARTICLES, GC_IN_PROGRESS, GC_COST, GC_MAX_COST,
	GC_MAX_ARTICLES, GC_REM_COST, GC_REM_ARTICLES,
};
/* USERS_USAGE_MONTH */
enum month_col {
	MC_USER, MC_EMAIL, MC_ARTICLES, MC_COST, MC_TOTAL_ARTICLES, MC_TOTAL_COST,
};

/*
 * Password checks of one account (login, PUT /me/password, DELETE /me):
 * at most PW_MAX_FAILURES failed in a window of PW_WINDOW that starts
 * with the first failure; then 429 until the window is over.
 */
#define PW_MAX_FAILURES	"5"
#define PW_WINDOW	"15 minutes"
#define PW_WINDOW_OVER \
	"(u.failed_password_at IS NULL" \
	" OR u.failed_password_at <= now() - interval '" PW_WINDOW "')"

/* Serialises the changes that could leave no active admin. */
#define ADMIN_LOCK_KEY "726268"

enum users_stmt {
	USERS_AUTH_TOKEN,
	USERS_AUTH_KEY,
	USERS_AUTH_KEY_OF,
	USERS_CREATE,
	USERS_BY_EMAIL,
	USERS_BY_ID,
	USERS_REHASH,
	USERS_BUMP_VERSION,
	USERS_SET_PASSWORD,
	USERS_SET_KEY,
	USERS_CLEAR_KEY,
	USERS_ADMIN_LOCK,
	USERS_LAST_ADMIN,
	USERS_DELETE,
	USERS_LIST,
	USERS_IS_ADMIN,
	USERS_PATCH,
	USERS_USAGE_MONTH,
	USERS_PROMOTE,
	USERS_REVOKE_TOKEN,
	USERS_PW_ATTEMPT,
	USERS_PW_RETRY,
	USERS_PW_RESET,
	USERS_PURGE_REVOKED,
	USERS_GUARD_TOKEN,
	USERS__MAX
};

static const struct stmt stmts[USERS__MAX] = {
	/* $3: the token's jti, "" when it has none (no revoked token has) */
	{ "users_auth_token",	/* USERS_AUTH_TOKEN */
	  "SELECT role = 'admin' FROM users"
	  " WHERE id = $1::uuid AND token_version = $2::integer AND is_active"
	  " AND NOT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $3)", 3, DB_ROWS },
	/*
	 * A key is given as its SHA-256 ($1, bytea: digest_sha256_bytea),
	 * hashed by the worker: hashing it in SQL (sha256(convert_to(...)))
	 * made the guard of a known key measurably slower than a comparison.
	 */
	{ "users_auth_key",	/* USERS_AUTH_KEY */
	  "SELECT id, role = 'admin' FROM users"
	  " WHERE api_key_hash = $1::bytea AND is_active", 1, DB_ROWS },
	/*
	 * The guards (db_guard): USERS_AUTH_TOKEN, and the key of a request
	 * whose user is already known, which fail with SQLSTATE 28000
	 * instead of returning no row, so that they stop the statements sent
	 * with them (0009_credentials_denied.sql).
	 */
	{ "users_auth_key_of",	/* USERS_AUTH_KEY_OF */
	  "SELECT coalesce((SELECT role = 'admin' FROM users"
	  " WHERE id = $2::uuid AND api_key_hash = $1::bytea AND is_active),"
	  " bp_credentials_denied())", 2, DB_ROWS },
	{ "users_create",	/* USERS_CREATE */
	  "INSERT INTO users AS u"
	  " (email, password_hash, role, api_key_hash, api_key_prefix)"
	  " VALUES (lower($1), $2, $3, $4::bytea, $5)"
	  " RETURNING " USER_COLS ", " SECRET_COLS, 5, DB_ROWS },
	{ "users_by_email",	/* USERS_BY_EMAIL */
	  "SELECT " USER_COLS ", " SECRET_COLS
	  " FROM users u WHERE u.email = lower($1)", 1, DB_ROWS },
	{ "users_by_id",	/* USERS_BY_ID */
	  "SELECT " USER_COLS ", " SECRET_COLS
	  " FROM users u WHERE u.id = $1::uuid", 1, DB_ROWS },
	{ "users_rehash",	/* USERS_REHASH */
	  "UPDATE users SET password_hash = $2"
	  " WHERE id = $1::uuid AND password_hash = $3", 3, DB_CMD },
	{ "users_bump_version",	/* USERS_BUMP_VERSION */
	  "UPDATE users SET token_version = token_version + 1"
	  " WHERE id = $1::uuid RETURNING token_version", 1, DB_ROWS },
	{ "users_set_password",	/* USERS_SET_PASSWORD */
	  "UPDATE users SET password_hash = $2, token_version = token_version + 1"
	  " WHERE id = $1::uuid AND password_hash = $3 RETURNING token_version", 3, DB_ROWS },
	{ "users_set_key",	/* USERS_SET_KEY */
	  "UPDATE users SET api_key_hash = $2::bytea,"
	  " api_key_prefix = $3 WHERE id = $1::uuid RETURNING api_key_prefix", 3, DB_ROWS },
	{ "users_clear_key",	/* USERS_CLEAR_KEY */
	  "UPDATE users SET api_key_hash = NULL, api_key_prefix = NULL"
	  " WHERE id = $1::uuid", 1, DB_CMD },
	{ "users_admin_lock",	/* USERS_ADMIN_LOCK */
	  "SELECT pg_advisory_xact_lock(" ADMIN_LOCK_KEY ")", 0, DB_ROWS },
	{ "users_last_admin",	/* USERS_LAST_ADMIN */
	  "SELECT u.role = 'admin' AND u.is_active AND NOT EXISTS"
	  " (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.is_active"
	  " AND o.id <> u.id) FROM users u WHERE u.id = $1::uuid", 1, DB_ROWS },
	{ "users_delete",	/* USERS_DELETE */
	  "DELETE FROM users WHERE id = $1::uuid", 1, DB_CMD },
	{ "users_list",		/* USERS_LIST */
	  "SELECT " USER_COLS ", " USAGE_COLS " FROM users u" USAGE_JOIN
	  " WHERE strpos(u.email, lower($4)) > 0"
	  " AND ($5::timestamptz IS NULL"
	  " OR (u.created_at, u.id) < ($5::timestamptz, $6::uuid))"
	  " ORDER BY u.created_at DESC, u.id DESC LIMIT $7::integer", 7, DB_ROWS },
	{ "users_is_admin",	/* USERS_IS_ADMIN */
	  "SELECT 1 FROM users"
	  " WHERE id = $1::uuid AND role = 'admin' AND is_active", 1, DB_ROWS },
	{ "users_patch",	/* USERS_PATCH */
	  "UPDATE users AS u SET is_active = coalesce($2::boolean, u.is_active),"
	  /* a deactivation revokes every token: reactivating revives none */
	  " token_version = u.token_version"
	  " + CASE WHEN u.is_active AND NOT $2::boolean THEN 1 ELSE 0 END,"
	  " role = coalesce($3, u.role),"
	  " max_monthly_cost = CASE WHEN $4::boolean THEN $5::numeric"
	  " ELSE u.max_monthly_cost END,"
	  " max_articles_per_month = CASE WHEN $6::boolean THEN $7::integer"
	  " ELSE u.max_articles_per_month END"
	  " WHERE u.id = $1::uuid RETURNING " USER_COLS, 7, DB_ROWS },
	{ "users_usage_month",	/* USERS_USAGE_MONTH */
	  "SELECT a.user_id AS m_user, u.email AS m_email,"
	  " a.articles_generated AS m_articles,"
	  " a.total_cost::numeric(20,4)::text AS m_cost,"
	  " sum(a.articles_generated) OVER () AS m_total_articles,"
	  " (sum(a.total_cost) OVER ())::numeric(20,4)::text AS m_total_cost"
	  " FROM api_usage a JOIN users u ON u.id = a.user_id"
	  " WHERE a.month = $1::date"
	  " ORDER BY a.total_cost DESC, a.articles_generated DESC, u.email", 1, DB_ROWS },
	{ "users_promote",	/* USERS_PROMOTE */
	  "UPDATE users AS u SET role = 'admin', is_active = true,"
	  " password_hash = coalesce($2, u.password_hash),"
	  " token_version = u.token_version"
	  " + CASE WHEN $2 IS NULL THEN 0 ELSE 1 END"
	  " WHERE u.email = lower($1) RETURNING " USER_COLS ", " SECRET_COLS, 2, DB_ROWS },
	/*
	 * Sign-out of one token: its jti is refused until the token expires;
	 * each sign-out also deletes up to 100 entries that have expired, so
	 * the table holds about the tokens signed out within JWT_TTL.
	 */
	{ "users_revoke_token",	/* USERS_REVOKE_TOKEN */
	  "WITH purge AS (DELETE FROM revoked_tokens WHERE jti IN"
	  " (SELECT jti FROM revoked_tokens WHERE expires_at < now() LIMIT 100))"
	  " INSERT INTO revoked_tokens (jti, user_id, expires_at)"
	  " VALUES ($2, $1::uuid, to_timestamp($3::bigint))"
	  " ON CONFLICT (jti) DO NOTHING", 3, DB_CMD },
	/*
	 * A password check of user $1, counted before it is made (so that
	 * concurrent checks cannot pass the limit): the first of a window
	 * starts it; no row when PW_MAX_FAILURES were counted in the window.
	 */
	{ "users_pw_attempt",	/* USERS_PW_ATTEMPT */
	  "UPDATE users AS u SET"
	  " failed_password_count = CASE WHEN " PW_WINDOW_OVER " THEN 1"
	  " ELSE u.failed_password_count + 1 END,"
	  " failed_password_at = CASE WHEN " PW_WINDOW_OVER " THEN now()"
	  " ELSE u.failed_password_at END"
	  " WHERE u.id = $1::uuid AND (" PW_WINDOW_OVER
	  " OR u.failed_password_count < " PW_MAX_FAILURES ")"
	  " RETURNING 1", 1, DB_ROWS },
	/* seconds until the window of user $1 is over (at least 1) */
	{ "users_pw_retry",	/* USERS_PW_RETRY */
	  "SELECT greatest(1, ceil(extract(epoch FROM u.failed_password_at"
	  " + interval '" PW_WINDOW "' - now())))::bigint"
	  " FROM users u WHERE u.id = $1::uuid", 1, DB_ROWS },
	/* a right password: the count starts again */
	{ "users_pw_reset",	/* USERS_PW_RESET */
	  "UPDATE users SET failed_password_count = 0, failed_password_at = NULL"
	  " WHERE id = $1::uuid AND failed_password_count > 0", 1, DB_CMD },
	/* up to $1 revoked tokens that have expired anyway */
	{ "users_purge_revoked",	/* USERS_PURGE_REVOKED */
	  "DELETE FROM revoked_tokens WHERE jti = ANY (ARRAY("
	  " SELECT jti FROM revoked_tokens WHERE expires_at < now()"
	  " ORDER BY expires_at LIMIT $1::int8 FOR UPDATE SKIP LOCKED))", 1, DB_CMD },
	{ "users_guard_token",	/* USERS_GUARD_TOKEN: USERS_AUTH_TOKEN, a guard */
	  "SELECT coalesce((SELECT role = 'admin' FROM users"
	  " WHERE id = $1::uuid AND token_version = $2::integer AND is_active"
	  " AND NOT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $3)),"
	  " bp_credentials_denied())", 3, DB_ROWS },
};

const struct stmt_table repo_users_table = { stmts, USERS__MAX };

enum db_status
repo_users_auth_token(const char *id, int64_t ver, const char *jti,
    bool *admin)
{
	char v[24];
	PGresult *r;
	enum db_status e;

	if (ver > INT32_MAX)
		return DB_EMPTY;
	snprintf(v, sizeof(v), "%lld", (long long)ver);
	if ((e = db_execv(&stmts[USERS_AUTH_TOKEN], &r, id, v, jti)) != DB_OK) {
		PQclear(r);
		return e;
	}
	*admin = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return DB_OK;
}

enum db_status
repo_users_auth_key(const char *key, char id[37], bool *admin)
{
	char kh[SHA256_BYTEA_MAX];
	PGresult *r;
	enum db_status e;

	digest_sha256_bytea(key, kh);
	if ((e = db_execv(&stmts[USERS_AUTH_KEY], &r, kh)) != DB_OK) {
		PQclear(r);
		return e;
	}
	strncpy(id, PQgetvalue(r, 0, 0), 36);
	id[36] = '\0';
	*admin = PQgetvalue(r, 0, 1)[0] == 't';
	PQclear(r);
	return DB_OK;
}

void
repo_users_guard_token(const char *id, int64_t ver, const char *jti)
{
	char v[24];
	const char *p[3] = { id, v, jti };

	/* past the column's range: no user has it, the guard finds no row */
	snprintf(v, sizeof(v), "%lld", ver > INT32_MAX ? -1LL : (long long)ver);
	db_guard(&stmts[USERS_GUARD_TOKEN], p);
}

void
repo_users_guard_key(const char *key, const char *id)
{
	char kh[SHA256_BYTEA_MAX];
	const char *p[2] = { kh, id };

	digest_sha256_bytea(key, kh);
	db_guard(&stmts[USERS_AUTH_KEY_OF], p);
}

enum db_status
repo_users_revoke_token(const char *id, const char *jti, int64_t exp)
{
	char x[24];
	const char *p[3] = { id, jti, x };
	enum db_status e;

	snprintf(x, sizeof(x), "%lld", (long long)exp);
	/* signed out already (ON CONFLICT): nothing changed, still done */
	e = db_run(&stmts[USERS_REVOKE_TOKEN], p);
	return e == DB_EMPTY ? DB_OK : e;
}

enum db_status
repo_users_password_attempt(const char *id, int64_t *retry_after)
{
	const char *p[] = { id };
	PGresult *r;
	enum db_status e;

	*retry_after = 0;
	if ((e = db_run(&stmts[USERS_PW_ATTEMPT], p)) != DB_EMPTY)
		return e;
	if ((e = db_exec(&stmts[USERS_PW_RETRY], p, &r)) == DB_OK) {
		if (!parse_int64(PQgetvalue(r, 0, 0), 1, INT64_MAX, retry_after))
			*retry_after = 1;
		e = DB_DENIED;
	}
	PQclear(r);
	return e;
}

enum db_status
repo_users_password_ok(const char *id)
{
	const char *p[] = { id };
	enum db_status e = db_run(&stmts[USERS_PW_RESET], p);

	return e == DB_EMPTY ? DB_OK : e;
}

enum db_status
repo_users_purge_revoked(int64_t batch)
{
	char b[24];
	const char *p[] = { b };
	enum db_status e;

	snprintf(b, sizeof(b), "%lld", (long long)batch);
	e = db_run(&stmts[USERS_PURGE_REVOKED], p);
	return e == DB_EMPTY ? DB_OK : e;
}

/* Copy column c of row i into dst (size n); "" when NULL. */
static void
col_copy(PGresult *r, int i, int c, char *dst, size_t n)
{
	const char *v = db_col(r, i, c);

	snprintf(dst, n, "%s", v != NULL ? v : "");
}

/* Integer column c of row i; def when NULL or absent. */
static int64_t
col_int(PGresult *r, int i, int c, int64_t def)
{
	const char *v = db_col(r, i, c);
	int64_t n;

	if (v == NULL || !parse_int64(v, INT64_MIN, INT64_MAX, &n))
		return def;
	return n;
}

static bool
col_bool(PGresult *r, int i, int c)
{
	const char *v = db_col(r, i, c);

	return v != NULL && v[0] == 't';
}

/* The USER_COLS of row i, and the SECRET_COLS after them when secrets. */
static void
fill_user(PGresult *r, int i, bool secrets, struct user *u)
{
	memset(u, 0, sizeof(*u));
	col_copy(r, i, UC_ID, u->id, sizeof(u->id));
	col_copy(r, i, UC_EMAIL, u->email, sizeof(u->email));
	u->admin = col_bool(r, i, UC_ADMIN);
	u->is_active = col_bool(r, i, UC_ACTIVE);
	col_copy(r, i, UC_CREATED, u->created_at, sizeof(u->created_at));
	col_copy(r, i, UC_KEY_PREFIX, u->api_key_prefix,
	    sizeof(u->api_key_prefix));
	col_copy(r, i, UC_MAX_COST, u->max_monthly_cost,
	    sizeof(u->max_monthly_cost));
	u->max_articles = col_int(r, i, UC_MAX_ARTICLES, -1);
	if (!secrets)
		return;
	u->token_version = col_int(r, i, UC_VER, 0);
	col_copy(r, i, UC_HASH, u->password_hash, sizeof(u->password_hash));
}

/* The USAGE_COLS of row i, from column c0. */
static void
fill_usage(PGresult *r, int i, int c0, struct usage *g)
{
	memset(g, 0, sizeof(*g));
	col_copy(r, i, c0 + GC_MONTH, g->month, sizeof(g->month));
	g->articles_generated = col_int(r, i, c0 + GC_ARTICLES, 0);
	g->articles_in_progress = col_int(r, i, c0 + GC_IN_PROGRESS, 0);
	col_copy(r, i, c0 + GC_COST, g->total_cost, sizeof(g->total_cost));
	col_copy(r, i, c0 + GC_MAX_COST, g->max_monthly_cost,
	    sizeof(g->max_monthly_cost));
	g->max_articles_per_month = col_int(r, i, c0 + GC_MAX_ARTICLES, 0);
	col_copy(r, i, c0 + GC_REM_COST, g->remaining_cost,
	    sizeof(g->remaining_cost));
	g->remaining_articles = col_int(r, i, c0 + GC_REM_ARTICLES, 0);
}

/* Run a statement that returns one user row into *u. */
static enum db_status
one_user(enum users_stmt which, const char *const *params, struct user *u)
{
	PGresult *r;
	enum db_status e;

	if ((e = db_exec(&stmts[which], params, &r)) == DB_OK)
		fill_user(r, 0, true, u);
	PQclear(r);
	return e;
}

enum db_status
repo_users_create(const char *email, const char *hash, bool admin,
    const char *key, const char *prefix, struct user *u)
{
	char kh[SHA256_BYTEA_MAX];
	const char *p[] = { email, hash, admin ? "admin" : "user", kh, prefix };

	digest_sha256_bytea(key, kh);
	return one_user(USERS_CREATE, p, u);
}

enum db_status
repo_users_by_email(const char *email, struct user *u)
{
	const char *p[] = { email };

	return one_user(USERS_BY_EMAIL, p, u);
}

enum db_status
repo_users_by_id(const char *id, struct user *u)
{
	const char *p[] = { id };

	return one_user(USERS_BY_ID, p, u);
}

enum db_status
repo_users_promote(const char *email, const char *hash, struct user *u)
{
	const char *p[] = { email, hash };

	return one_user(USERS_PROMOTE, p, u);
}

enum db_status
repo_users_rehash(const char *id, const char *old_hash, const char *new_hash)
{
	const char *p[] = { id, new_hash, old_hash };

	return db_run(&stmts[USERS_REHASH], p);
}

enum db_status
repo_users_bump_version(const char *id)
{
	const char *p[] = { id };

	return db_run(&stmts[USERS_BUMP_VERSION], p);
}

enum db_status
repo_users_set_password(const char *id, const char *old_hash,
    const char *new_hash, int64_t *ver)
{
	const char *p[] = { id, new_hash, old_hash };
	PGresult *r;
	enum db_status e;

	if ((e = db_exec(&stmts[USERS_SET_PASSWORD], p, &r)) == DB_OK)
		*ver = col_int(r, 0, 0, 0);
	PQclear(r);
	return e;
}

enum db_status
repo_users_set_key(const char *id, const char *key, const char *prefix)
{
	char kh[SHA256_BYTEA_MAX];
	const char *p[] = { id, kh, prefix };

	digest_sha256_bytea(key, kh);
	return db_run(&stmts[USERS_SET_KEY], p);
}

enum db_status
repo_users_clear_key(const char *id)
{
	const char *p[] = { id };
	enum db_status e;

	/* no key to clear is fine: the user has none either way */
	e = db_run(&stmts[USERS_CLEAR_KEY], p);
	return e == DB_EMPTY ? DB_OK : e;
}

/* Take the admin lock inside the current transaction. */
static enum db_status
admin_lock(void)
{
	return db_run(&stmts[USERS_ADMIN_LOCK], NULL);
}

struct delete_unit {
	const char	*id;
	bool		*last_admin;
};

/* The delete, in db_tx: nothing when it would remove the last admin. */
static enum db_status
delete_unit(void *arg)
{
	struct delete_unit *d = arg;
	const char *p[] = { d->id };
	PGresult *r;
	enum db_status e;

	*d->last_admin = false;
	if ((e = admin_lock()) != DB_OK)
		return e;
	if ((e = db_exec(&stmts[USERS_LAST_ADMIN], p, &r)) != DB_OK) {
		PQclear(r);
		return e;
	}
	*d->last_admin = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (*d->last_admin)
		return DB_ROLLBACK;
	return db_run(&stmts[USERS_DELETE], p);
}

enum db_status
repo_users_delete(const char *id, bool *last_admin)
{
	struct delete_unit d = { id, last_admin };

	return db_tx(delete_unit, &d);
}

enum db_status
repo_users_list(const char *q, const struct cursor *cur, int64_t limit,
    void (*each)(void *, const struct user *, const struct usage *),
    void *arg)
{
	char tmo[24], dart[24], lim[24];
	const char *p[7];
	struct user *u;
	struct usage g;
	PGresult *r;
	enum db_status e;
	int i;

	snprintf(dart, sizeof(dart), "%lld", (long long)cfg.max_articles);
	snprintf(tmo, sizeof(tmo), "%lld", (long long)cfg.pipeline_timeout_min);
	snprintf(lim, sizeof(lim), "%lld", (long long)limit);
	p[0] = cfg.max_monthly_cost;
	p[1] = dart;
	p[2] = tmo;
	p[3] = q != NULL ? q : "";
	p[4] = cur != NULL && cur->present ? cur->ts : NULL;
	p[5] = cur != NULL && cur->present ? cur->id : NULL;
	p[6] = lim;
	if ((e = db_exec(&stmts[USERS_LIST], p, &r)) == DB_EMPTY) {
		PQclear(r);
		return DB_OK;
	}
	if (e != DB_OK)
		return e;
	u = xmalloc(sizeof(*u));
	for (i = 0; i < PQntuples(r); i++) {
		fill_user(r, i, false, u);
		fill_usage(r, i, UC__N, &g);
		each(arg, u, &g);
	}
	free(u);
	PQclear(r);
	return DB_OK;
}

struct patch_unit {
	const char	*actor;
	const char	*const *p;
	bool		*actor_ok;
	struct user	*u;
};

/* The patch, in db_tx: nothing when the actor is no admin any more. */
static enum db_status
patch_unit(void *arg)
{
	struct patch_unit *pu = arg;
	const char *ap[] = { pu->actor };
	PGresult *r;
	enum db_status e;

	*pu->actor_ok = true;
	/* role and is_active changes take turns: one admin remains */
	if ((e = admin_lock()) != DB_OK)
		return e;
	if ((e = db_run(&stmts[USERS_IS_ADMIN], ap)) == DB_EMPTY) {
		*pu->actor_ok = false;
		return DB_ROLLBACK;
	}
	if (e != DB_OK)
		return e;
	if ((e = db_exec(&stmts[USERS_PATCH], pu->p, &r)) == DB_OK)
		fill_user(r, 0, false, pu->u);
	PQclear(r);
	return e;
}

enum db_status
repo_users_patch(const char *actor, const char *id,
    const struct user_patch *pt, bool *actor_ok, struct user *u)
{
	const char *p[7];
	char arts[24];
	struct patch_unit pu = { actor, p, actor_ok, u };

	p[0] = id;
	p[1] = pt->is_active < 0 ? NULL : pt->is_active ? "t" : "f";
	p[2] = pt->role;
	p[3] = pt->set_max_cost ? "t" : "f";
	p[4] = pt->max_cost;
	p[5] = pt->set_max_articles ? "t" : "f";
	p[6] = NULL;
	if (pt->set_max_articles && pt->max_articles >= 0) {
		snprintf(arts, sizeof(arts), "%lld", (long long)pt->max_articles);
		p[6] = arts;
	}
	return db_tx(patch_unit, &pu);
}

enum db_status
repo_users_usage_month(const char *month_date,
    void (*each)(void *, const struct month_usage *), void *arg,
    struct month_usage *totals)
{
	const char *p[] = { month_date };
	struct month_usage m;
	PGresult *r;
	enum db_status e;
	int i;

	memset(totals, 0, sizeof(*totals));
	snprintf(totals->total_cost, sizeof(totals->total_cost), "0.0000");
	if ((e = db_exec(&stmts[USERS_USAGE_MONTH], p, &r)) == DB_EMPTY) {
		PQclear(r);
		return DB_OK;
	}
	if (e != DB_OK)
		return e;
	for (i = 0; i < PQntuples(r); i++) {
		memset(&m, 0, sizeof(m));
		col_copy(r, i, MC_USER, m.user_id, sizeof(m.user_id));
		col_copy(r, i, MC_EMAIL, m.email, sizeof(m.email));
		m.articles_generated = col_int(r, i, MC_ARTICLES, 0);
		col_copy(r, i, MC_COST, m.total_cost, sizeof(m.total_cost));
		each(arg, &m);
	}
	totals->articles_generated = col_int(r, 0, MC_TOTAL_ARTICLES, 0);
	col_copy(r, 0, MC_TOTAL_COST, totals->total_cost,
	    sizeof(totals->total_cost));
	PQclear(r);
	return DB_OK;
}
