/*
 * repo_migrations.c - the schema_migrations table, for the migrate
 * command.  They run on the command's handle (db_open), which prepares
 * each statement when it first runs: the table may not exist before
 * MIG_ENSURE_TABLE.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_stmt.h"
#include "log.h"
#include "repo_migrations.h"
#include "util.h"

/* An arbitrary constant: the advisory lock that serialises migrate runs. */
#define MIGRATE_LOCK "726267"

enum migrations_stmt {
	MIG_LOCK,
	MIG_IS_APPLIED,
	MIG_ENSURE_TABLE,
	MIG_EXISTS,
	MIG_APPLIED,
	MIG_CHECKSUM,
	MIG_RECORD,
	MIG__MAX
};

static const struct stmt stmts[MIG__MAX] = {
	{ "migrations_lock",	/* MIG_LOCK */
	  "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", 0, DB_ROWS },
	{ "migrations_is_applied",	/* MIG_IS_APPLIED */
	  "SELECT 1 FROM schema_migrations WHERE version = $1::integer", 1,
	  DB_ROWS },
	{ "migrations_ensure_table",	/* MIG_ENSURE_TABLE */
	  "CREATE TABLE IF NOT EXISTS schema_migrations ("
	  " version integer PRIMARY KEY CHECK (version > 0),"
	  " name text NOT NULL,"
	  " checksum text NOT NULL,"
	  " applied_at timestamptz NOT NULL DEFAULT now())", 0, DB_CMD },
	{ "migrations_exists",	/* MIG_EXISTS */
	  "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, DB_ROWS },
	{ "migrations_applied",	/* MIG_APPLIED */
	  "SELECT version, name, checksum,"
	  " to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	  " FROM schema_migrations ORDER BY version", 0, DB_ROWS },
	{ "migrations_checksum",	/* MIG_CHECKSUM */
	  "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", 1, DB_ROWS },
	{ "migrations_record",	/* MIG_RECORD */
	  "INSERT INTO schema_migrations (version, name, checksum)"
	  " VALUES ($1::integer, $2, $3)", 3, DB_CMD },
};

/* The lock, then the table if it is missing, in db_tx. */
static enum db_status
ensure_unit(void *arg)
{
	enum db_status e;

	(void)arg;
	if ((e = db_run(&stmts[MIG_LOCK], NULL)) != DB_OK)
		return e;
	e = db_run(&stmts[MIG_ENSURE_TABLE], NULL);
	/* a command: "no row changed" is all it can say */
	return e == DB_EMPTY ? DB_OK : e;
}

enum db_status
repo_migrations_ensure_table(void)
{
	return db_tx(ensure_unit, NULL);
}

enum db_status
repo_migrations_applied(struct migration_row **rows, size_t *n)
{
	PGresult *r;
	enum db_status e;
	bool exists;
	int i;

	*rows = NULL;
	*n = 0;
	if ((e = db_exec(&stmts[MIG_EXISTS], NULL, &r)) != DB_OK) {
		PQclear(r);
		return e;
	}
	exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!exists)
		return DB_OK;
	if ((e = db_exec(&stmts[MIG_APPLIED], NULL, &r)) != DB_OK) {
		PQclear(r);
		return e == DB_EMPTY ? DB_OK : e;
	}
	*rows = xcalloc((size_t)PQntuples(r), sizeof(**rows));
	for (i = 0; i < PQntuples(r); i++) {
		struct migration_row *m = &(*rows)[i];

		m->version = atoi(PQgetvalue(r, i, 0));
		snprintf(m->name, sizeof(m->name), "%s", PQgetvalue(r, i, 1));
		snprintf(m->checksum, sizeof(m->checksum), "%s",
		    PQgetvalue(r, i, 2));
		snprintf(m->applied_at, sizeof(m->applied_at), "%s",
		    PQgetvalue(r, i, 3));
	}
	*n = (size_t)PQntuples(r);
	PQclear(r);
	return DB_OK;
}

enum db_status
repo_migrations_checksum(const char *text, char out[65])
{
	const char *p[] = { text };
	PGresult *r;
	enum db_status e;

	if ((e = db_exec(&stmts[MIG_CHECKSUM], p, &r)) == DB_OK)
		snprintf(out, 65, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return e;
}

struct apply_unit {
	const char	*const *params;
	const char	*sql;
	bool		*already;
	char		*err;
	size_t		 errsz;
};

/* The lock, then the file's SQL and its record unless applied, in db_tx. */
static enum db_status
apply_unit(void *arg)
{
	struct apply_unit *a = arg;
	enum db_status e;

	a->err[0] = '\0';
	*a->already = false;
	if ((e = db_run(&stmts[MIG_LOCK], NULL)) != DB_OK)
		return e;
	if ((e = db_run(&stmts[MIG_IS_APPLIED], a->params)) == DB_OK) {
		*a->already = true;
		return DB_ROLLBACK;
	}
	if (e != DB_EMPTY)
		return e;
	/* the file's own SQL: several statements, simple protocol */
	if ((e = db_script(a->sql, a->err, a->errsz)) != DB_OK)
		return e;
	e = db_run(&stmts[MIG_RECORD], a->params);
	if (e != DB_OK)
		snprintf(a->err, a->errsz, "cannot record it (see above)");
	return e;
}

enum db_status
repo_migrations_apply(int version, const char *name, const char *checksum,
    const char *sql, bool *already, char *err, size_t errsz)
{
	char vbuf[16];
	const char *params[3] = { vbuf, name, checksum };
	struct apply_unit a = { params, sql, already, err, errsz };
	enum db_status e;

	snprintf(vbuf, sizeof(vbuf), "%d", version);
	err[0] = '\0';
	if ((e = db_tx(apply_unit, &a)) != DB_OK && err[0] == '\0')
		snprintf(err, errsz, "database error (see above)");
	return e;
}
