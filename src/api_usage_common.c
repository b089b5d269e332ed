/*
 * api_usage_common.c - the usage object of API.md, shared by GET /usage,
 * GET /me and the admin's user list so that all three write it alike.
 */
#include "autoconf.h"

#include "buf.h"
#include "json.h"
#include "usage.h"

void
usage_write(struct jw *w, const struct usage *u)
{
	jw_obj(w);
	jw_kstr(w, "month", u->month);
	jw_kint(w, "articles_generated", u->articles_generated);
	jw_kint(w, "articles_in_progress", u->articles_in_progress);
	jw_kstr(w, "total_cost", u->total_cost);
	jw_key(w, "limits");
	jw_obj(w);
	jw_kstr(w, "max_monthly_cost", u->max_monthly_cost);
	jw_kint(w, "max_articles_per_month", u->max_articles_per_month);
	jw_end(w, '}');
	jw_key(w, "remaining");
	jw_obj(w);
	jw_kstr(w, "cost", u->remaining_cost);
	jw_kint(w, "articles", u->remaining_articles);
	jw_end(w, '}');
	jw_end(w, '}');
}
