/*
 * repo_list.c - the one shape of the keyset lists (articles, pipelines):
 * four statements in a row of their table, plain, by status, from a
 * cursor, by status from a cursor, each taking $1 the user, $2 the limit,
 * then the status, then the cursor's time and id.
 */
#include "autoconf.h"

#include <stdio.h>

#include "cursor.h"
#include "repo_list.h"

enum db_status
repo_list(const struct stmt first[4], const char *user, const char *status,
    const struct cursor *c, int64_t limit, PGresult **res)
{
	char lim[24];
	const char *p[5];
	enum db_status e;
	int k = 0;
	bool from = c != NULL && c->present;

	snprintf(lim, sizeof(lim), "%lld", (long long)limit);
	p[k++] = user;
	p[k++] = lim;
	if (status != NULL)
		p[k++] = status;
	if (from) {
		p[k++] = c->ts;
		p[k++] = c->id;
	}
	e = db_exec(&first[(status != NULL ? 1 : 0) + (from ? 2 : 0)], p, res);
	/* an empty page is a page: DB_EMPTY is not an error here */
	return e == DB_EMPTY ? DB_OK : e;
}
