/*
 * api_list.h - what the keyset lists of articles and pipelines share:
 * their query (?limit=, ?status=, ?cursor=) and their page
 * {"items":[...],"next_cursor":...}.
 */
#ifndef BP_API_LIST_H
#define BP_API_LIST_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "buf.h"
#include "json.h"
#include "cursor.h"

struct req;

#define LIST_DEFAULT	20
#define LIST_MAX	100

/*
 * The list's query: ?limit= (1..LIST_MAX, LIST_DEFAULT), ?status= (one of
 * statuses, NULL when absent) and ?cursor=.  False when answered 400.
 */
bool api_list_query(struct req *r, const char *const *statuses,
    int64_t *limit, const char **status, struct cursor *c);

/*
 * One row of a list's result: written to w unless w is NULL, and its
 * cursor key given (the time it was made, as PostgreSQL printed it, and
 * its id).
 */
typedef void api_list_row(PGresult *res, int i, struct jw *w,
    const char **created, const char **id);

/*
 * Answer 200 with the page of res, which holds up to limit + 1 rows: one
 * more than the page tells whether there is a next one.
 */
void api_list_page(struct req *r, PGresult *res, int64_t limit,
    api_list_row *row);

#endif
