/* repo_users.c - the users table. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "repo.h"

enum users_stmt {
	USERS_AUTH_TOKEN,
	USERS_AUTH_KEY,
	USERS__MAX
};

static const struct stmt stmts[USERS__MAX] = {
	{ "users_auth_token",	/* USERS_AUTH_TOKEN */
	  "SELECT role = 'admin' FROM users"
	  " WHERE id = $1::uuid AND token_version = $2::integer AND is_active", 2 },
	{ "users_auth_key",	/* USERS_AUTH_KEY */
	  "SELECT id, role = 'admin' FROM users"
	  " WHERE api_key_hash = sha256(convert_to($1, 'UTF8')) AND is_active", 1 },
};

const struct stmt_table repo_users_table = { stmts, USERS__MAX };

enum db_status
repo_users_auth_token(const char *id, int64_t ver, bool *admin)
{
	char v[24];
	PGresult *r;
	enum db_status e;

	if (ver > INT32_MAX)
		return DB_EMPTY;
	snprintf(v, sizeof(v), "%lld", (long long)ver);
	if ((e = db_execv(&stmts[USERS_AUTH_TOKEN], &r, id, v)) != DB_OK) {
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
	PGresult *r;
	enum db_status e;

	if ((e = db_execv(&stmts[USERS_AUTH_KEY], &r, key)) != DB_OK) {
		PQclear(r);
		return e;
	}
	strncpy(id, PQgetvalue(r, 0, 0), 36);
	id[36] = '\0';
	*admin = PQgetvalue(r, 0, 1)[0] == 't';
	PQclear(r);
	return DB_OK;
}
