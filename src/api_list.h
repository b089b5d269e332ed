/*
 * api_list.h - what the keyset lists of articles and pipelines share:
 * their query (?limit=, ?status=, ?cursor=) and their page
 * {"items":[...],"next_cursor":...}.
 */
#ifndef BP_API_LIST_H
#define BP_API_LIST_H

#include <stdbool.h>
#include <stdint.h>

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
 * A page being written: {"items":[...],"next_cursor":...}.  The repo gives
 * up to limit + 1 rows: one more than the page tells whether there is a
 * next one.
 */
struct list_page {
	struct req	*r;
	struct jw	 w;
	int64_t		 limit, n;
	bool		 started;
	char		 next[CURSOR_LEN + 1];	/* "": no next page */
};

void api_list_begin(struct list_page *p, struct req *r, int64_t limit);

/*
 * One row, with its cursor key (the time it was made, as PostgreSQL
 * printed it, and its id): the writer to write the item into, or NULL
 * for the row past the page.
 */
struct jw *api_list_item(struct list_page *p, const char *created,
    const char *id);

/* Answer 200 with the page. */
void api_list_end(struct list_page *p);

#endif
