/*
 * repo.h - the SQL, one repo_* file per table.  Each file keeps its
 * statements in an enum and a same-order table; db.c prepares every table
 * listed in repo_tables after each connect.
 */
#ifndef BP_REPO_H
#define BP_REPO_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

extern const struct stmt_table *const repo_tables[];

/* repo_meta.c */
extern const struct stmt_table repo_meta_table;
/* Health: a round trip and the newest applied migration (-1 if none). */
enum db_status repo_meta_schema_version(long *version);

/* repo_users.c */
extern const struct stmt_table repo_users_table;
/* The authenticated-user checks: one indexed query each, active users only. */
enum db_status repo_users_auth_token(const char *id, int64_t ver, bool *admin);
enum db_status repo_users_auth_key(const char *key, char id[37], bool *admin);

#endif
