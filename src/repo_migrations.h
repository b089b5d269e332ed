/*
 * repo_migrations.h - SQL of the migrate command, on the handle the
 * command opens (db_open).  Every function returns DB_OK or the failure,
 * logged.
 */
#ifndef BP_REPO_MIGRATIONS_H
#define BP_REPO_MIGRATIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

/*
 * Concurrent migrate runs serialise on a transaction-level advisory lock,
 * taken by each of these transactions (a session lock would outlive the
 * transaction behind a pooler in transaction mode): a second run waits
 * for the first's transaction and then sees what it did.
 */
enum db_status repo_migrations_ensure_table(void);

/* One row of schema_migrations. */
struct migration_row {
	int	 version;
	char	 name[256];
	char	 checksum[65];
	char	 applied_at[32];	/* YYYY-MM-DDTHH:MM:SSZ */
};
/*
 * Applied migrations in order: *rows (free()d by the caller, NULL when
 * none) and *n.  None when the table does not exist yet.
 */
enum db_status repo_migrations_applied(struct migration_row **rows,
    size_t *n);
/* SHA-256 (hex) of a file's text, computed by the server. */
enum db_status repo_migrations_checksum(const char *text, char out[65]);
/*
 * Run one file and record it, in one transaction, unless another migrate
 * run applied it meanwhile (*already, nothing done).  err gets the
 * reason of a failure.
 */
enum db_status repo_migrations_apply(int version, const char *name,
    const char *checksum, const char *sql, bool *already, char *err,
    size_t errsz);

#endif
