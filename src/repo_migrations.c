/*
 * repo_migrations.c - the schema_migrations table, for the migrate
 * command.  These run on a one-shot connection, not a worker's, so they
 * go through PQexecParams (parameters, never text pasted into SQL).
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "repo_migrations.h"
#include "util.h"

/* An arbitrary constant: the advisory lock that serialises migrate runs. */
#define MIGRATE_LOCK "726267"

static bool
ok_cmd(PGconn *c, PGresult *r, const char *what)
{
	if (PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK)
		return true;
	log_warnx("%s: %s", what, db_error_text(c, r));
	return false;
}

static bool
run(PGconn *c, const char *sql, int n, const char *const *params,
    const char *what)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	bool ok = ok_cmd(c, r, what);

	PQclear(r);
	return ok;
}

bool
repo_migrations_lock(PGconn *c)
{
	return run(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", 0, NULL,
	    "advisory lock");
}

void
repo_migrations_unlock(PGconn *c)
{
	(void)run(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")", 0, NULL,
	    "advisory unlock");
}

bool
repo_migrations_ensure_table(PGconn *c)
{
	return run(c,
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version integer PRIMARY KEY CHECK (version > 0),"
	    " name text NOT NULL,"
	    " checksum text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())",
	    0, NULL, "create schema_migrations");
}

PGresult *
repo_migrations_applied(PGconn *c, bool *table_exists)
{
	PGresult *r;

	*table_exists = true;
	r = PQexecParams(c, "SELECT to_regclass('schema_migrations') IS NOT NULL",
	    0, NULL, NULL, NULL, NULL, 0);
	if (!ok_cmd(c, r, "schema_migrations lookup")) {
		PQclear(r);
		return NULL;
	}
	*table_exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	r = PQexecParams(c, *table_exists ?
	    "SELECT version, name, checksum,"
	    " to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	    " FROM schema_migrations ORDER BY version" :
	    "SELECT 1::integer, ''::text, ''::text, ''::text WHERE false",
	    0, NULL, NULL, NULL, NULL, 0);
	if (!ok_cmd(c, r, "schema_migrations")) {
		PQclear(r);
		return NULL;
	}
	return r;
}

bool
repo_migrations_checksum(PGconn *c, const char *text, char out[65])
{
	const char *params[1] = { text };
	PGresult *r = PQexecParams(c,
	    "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')",
	    1, NULL, params, NULL, NULL, 0);
	bool ok = ok_cmd(c, r, "checksum");

	if (ok) {
		strncpy(out, PQgetvalue(r, 0, 0), 64);
		out[64] = '\0';
	}
	PQclear(r);
	return ok;
}

bool
repo_migrations_apply(PGconn *c, int version, const char *name,
    const char *checksum, const char *sql, char *err, size_t errsz)
{
	char vbuf[16];
	const char *params[3] = { vbuf, name, checksum };
	PGresult *r;

	snprintf(vbuf, sizeof(vbuf), "%d", version);
	if (!run(c, "BEGIN", 0, NULL, "begin"))
		goto fail;
	/* the file's own SQL: several statements, simple protocol */
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errsz, "%s", PQresultErrorMessage(r));
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	if (!run(c, "INSERT INTO schema_migrations (version, name, checksum)"
	    " VALUES ($1::integer, $2, $3)", 3, params, "record migration"))
		goto fail;
	if (!run(c, "COMMIT", 0, NULL, "commit"))
		goto fail;
	return true;
fail:
	if (err[0] == '\0')
		snprintf(err, errsz, "%s", PQerrorMessage(c));
	r = PQexec(c, "ROLLBACK");
	PQclear(r);
	return false;
}
