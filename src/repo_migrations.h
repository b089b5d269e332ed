/* repo_migrations.h - SQL of the migrate command (one-shot connection). */
#ifndef BP_REPO_MIGRATIONS_H
#define BP_REPO_MIGRATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

/* Session advisory lock: a second migrate waits for the first. */
bool repo_migrations_lock(PGconn *c);
void repo_migrations_unlock(PGconn *c);
bool repo_migrations_ensure_table(PGconn *c);
/*
 * Applied migrations (version, name, checksum, applied_at) in order, or
 * NULL on error; an empty result when the table does not exist yet.
 */
PGresult *repo_migrations_applied(PGconn *c, bool *table_exists);
/* SHA-256 (hex) of a file's text, computed by the server. */
bool repo_migrations_checksum(PGconn *c, const char *text, char out[65]);
/* Run one file and record it, in one transaction.  err gets the reason. */
bool repo_migrations_apply(PGconn *c, int version, const char *name,
    const char *checksum, const char *sql, char *err, size_t errsz);

#endif
