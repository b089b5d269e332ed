/* api_list.c - the query and the page of the keyset lists (api_list.h). */
#include "autoconf.h"

#include <string.h>

#include "api_list.h"
#include "http.h"
#include "isotime.h"
#include "json.h"
#include "validate.h"

/* ?status=: NULL when absent; false when answered 400. */
static bool
status_param(struct req *r, const char *const *choices, const char **out)
{
	bool bad;
	const char *v = http_query(r, "status", &bad);
	const char *const *c;
	struct buf b;

	*out = NULL;
	if (bad)
		return false;
	if (v == NULL)
		return true;
	for (c = choices; *c != NULL; c++)
		if (strcmp(*c, v) == 0) {
			*out = *c;
			return true;
		}
	buf_init(&b);
	buf_adds(&b, "status must be one of: ");
	for (c = choices; *c != NULL; c++)
		buf_printf(&b, "%s%s", c == choices ? "" : ", ", *c);
	http_fail(r, ERR_VALIDATION, "status", "%s", b.data);
	buf_free(&b);
	return false;
}

bool
api_list_query(struct req *r, const char *const *statuses, int64_t *limit,
    const char **status, struct cursor *c)
{
	return validate_limit(r, "limit", LIST_DEFAULT, LIST_MAX, limit) &&
	    status_param(r, statuses, status) && cursor_param(r, c);
}

void
api_list_page(struct req *r, PGresult *res, int64_t limit, api_list_row *row)
{
	const char *created, *id;
	struct jw w;
	int i, n = PQntuples(res);

	jw_init(&w, &r->out);
	jw_obj(&w);
	jw_key(&w, "items");
	jw_arr(&w);
	for (i = 0; i < n && i < limit; i++)
		row(res, i, &w, &created, &id);
	jw_end(&w, ']');
	jw_key(&w, "next_cursor");
	if (n > limit) {
		char next[CURSOR_LEN + 1];
		int64_t us;

		row(res, (int)limit - 1, NULL, &created, &id);
		if (created != NULL && isotime_parse(created, &us) &&
		    cursor_encode(us, id, next))
			jw_str(&w, next);
		else
			jw_null(&w);
	} else
		jw_null(&w);
	jw_end(&w, '}');
	http_status(r, 200);
}
