/*
 * api_usage.c - /api/v1/usage: this month's usage and limits, and the
 * monthly history.
 */
#include "autoconf.h"

#include "api.h"
#include "buf.h"
#include "http.h"
#include "json.h"
#include "repo.h"
#include "usage.h"
#include "validate.h"

#define HISTORY_DEFAULT	12
#define HISTORY_MAX	120

void
api_usage_get(struct req *r)
{
	struct usage u;
	struct jw w;
	enum db_status e;

	if ((e = repo_usage_current(r->user.id, &u)) != DB_OK) {
		http_db_failed(r, e);
		return;
	}
	jw_init(&w, &r->out);
	usage_write(&w, &u);
	http_status(r, 200);
}

/* One month of the history, into the items array. */
static void
history_item(void *arg, const struct usage_month *m)
{
	struct jw *w = arg;

	jw_obj(w);
	jw_kstr(w, "month", m->month);
	jw_kraw(w, "articles_generated", m->articles_generated);
	jw_kstr(w, "total_cost", m->total_cost);
	jw_end(w, '}');
}

void
api_usage_history(struct req *r)
{
	int64_t months;
	enum db_status e;
	struct jw w;

	if (!validate_limit(r, "months", HISTORY_DEFAULT, HISTORY_MAX, &months))
		return;
	jw_init(&w, &r->out);
	jw_obj(&w);
	jw_key(&w, "items");
	jw_arr(&w);
	/* a failure's answer replaces what was written */
	e = repo_usage_history(r->user.id, months, history_item, &w);
	if (e != DB_OK) {
		http_db_failed(r, e);
		return;
	}
	jw_end(&w, ']');
	jw_end(&w, '}');
	http_status(r, 200);
}
