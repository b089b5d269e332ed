/* repo_meta.c - the schema_migrations table, as the server reads it. */
#include "autoconf.h"

#include <stdlib.h>

#include "db_stmt.h"
#include "repo.h"
#include "repo_export.h"

enum meta_stmt {
	META_SCHEMA_VERSION,
	META__MAX
};

static const struct stmt stmts[META__MAX] = {
	{ "meta_schema_version",	/* META_SCHEMA_VERSION */
	  "SELECT coalesce(max(version), -1) FROM schema_migrations", 0, DB_ROWS },
};

const struct stmt_table repo_meta_table = { stmts, META__MAX };

const struct stmt_table *const repo_tables[] = {
	&repo_meta_table,
	&repo_users_table,
	&repo_articles_table,
	&repo_pipelines_table,
	&repo_usage_table,
	&repo_idempotency_table,
	&repo_export_table,
	NULL
};

enum db_status
repo_meta_schema_version(long *version)
{
	PGresult *r;
	enum db_status e;

	if ((e = db_rows(db_exec(&stmts[META_SCHEMA_VERSION], NULL, &r),
	    &r)) != DB_OK)
		return e;
	*version = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return DB_OK;
}
