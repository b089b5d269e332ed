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
api_list_begin(struct list_page *p, struct req *r, int64_t limit)
{
	memset(p, 0, sizeof(*p));
	p->r = r;
	p->limit = limit;
}

/* The page's head, once: written only when the rows have come. */
static void
start(struct list_page *p)
{
	if (p->started)
		return;
	p->started = true;
	jw_init(&p->w, &p->r->out);
	jw_obj(&p->w);
	jw_key(&p->w, "items");
	jw_arr(&p->w);
}

struct jw *
api_list_item(struct list_page *p, const char *created, const char *id)
{
	int64_t us;

	start(p);
	if (++p->n > p->limit)
		return NULL;
	if (p->n == p->limit && (created == NULL ||
	    !isotime_parse(created, &us) || !cursor_encode(us, id, p->next)))
		p->next[0] = '\0';
	return &p->w;
}

void
api_list_end(struct list_page *p)
{
	start(p);
	jw_end(&p->w, ']');
	jw_key(&p->w, "next_cursor");
	if (p->n > p->limit && p->next[0] != '\0')
		jw_str(&p->w, p->next);
	else
		jw_null(&p->w);
	jw_end(&p->w, '}');
	http_status(p->r, 200);
}
