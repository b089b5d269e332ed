/*
 * api_usage.c - /api/v1/usage: this month's usage and limits, and the
 * monthly history.
 */
#include "autoconf.h"

#include "api.h"
#include "buf.h"
#include "db.h"
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

void
api_usage_history(struct req *r)
{
	int64_t months;
	PGresult *res = NULL;
	enum db_status e;
	struct jw w;
	int i, n;

	if (!validate_limit(r, "months", HISTORY_DEFAULT, HISTORY_MAX, &months))
		return;
	e = repo_usage_history(r->user.id, months, &res);
	if (e != DB_OK && e != DB_EMPTY) {
		http_db_failed(r, e);
		return;
	}
	n = PQntuples(res);
	jw_init(&w, &r->out);
	jw_obj(&w);
	jw_key(&w, "items");
	jw_arr(&w);
	for (i = 0; i < n; i++) {
		jw_obj(&w);
		jw_kstr(&w, "month", PQgetvalue(res, i, 0));
		jw_kraw(&w, "articles_generated", PQgetvalue(res, i, 1));
		jw_kstr(&w, "total_cost", PQgetvalue(res, i, 2));
		jw_end(&w, '}');
	}
	jw_end(&w, ']');
	jw_end(&w, '}');
	PQclear(res);
	http_status(r, 200);
}
