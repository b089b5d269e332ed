/* repo_list.h - the one shape of the keyset lists, for the repo_* files. */
#ifndef BP_REPO_LIST_H
#define BP_REPO_LIST_H

#include <stdint.h>

#include "db_stmt.h"

struct cursor;

/*
 * The variant of first[0..3] (plain, by status, from a cursor, both) that
 * status and c call for, run for user's page of at most limit rows.  An
 * empty page is DB_OK with *res holding no row; *res is NULL on failure.
 */
enum db_status repo_list(const struct stmt first[4], const char *user,
    const char *status, const struct cursor *c, int64_t limit,
    PGresult **res);

#endif
