/*
 * repo_usage.c - the api_usage table: a user's monthly cost and articles,
 * with the limits and what is left of them.
 *
 * "This month" is the UTC month of the transaction's start.  The runs in
 * progress are those still running that started within
 * PIPELINE_TIMEOUT_MINUTES (pipelines_running_idx); their estimates are
 * reserved against the cost limit.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db_stmt.h"
#include "repo.h"
#include "usage.h"
#include "util.h"

enum usage_stmt {
	USAGE_CURRENT,
	USAGE_HISTORY,
	USAGE__MAX
};

#define THIS_MONTH	"date_trunc('month', now() AT TIME ZONE 'UTC')::date"

static const struct stmt stmts[USAGE__MAX] = {
	/* $1 user, $2 and $3 the default limits, $4 the timeout in minutes */
	{ "usage_current",	/* USAGE_CURRENT */
	  "SELECT to_char(m.month, 'YYYY-MM'),"
	  "       coalesce(u.articles_generated, 0), r.n,"
	  "       round(coalesce(u.total_cost, 0), 4),"
	  "       round(l.max_cost, 4), l.max_art,"
	  "       round(greatest(l.max_cost - coalesce(u.total_cost, 0) - r.reserved, 0), 4),"
	  "       greatest(l.max_art - coalesce(u.articles_generated, 0) - r.n, 0)"
	  "  FROM (SELECT " THIS_MONTH " AS month) m"
	  " CROSS JOIN (SELECT coalesce(max_monthly_cost, $2::numeric) AS max_cost,"
	  "                    coalesce(max_articles_per_month, $3::int8) AS max_art"
	  "               FROM users WHERE id = $1::uuid) l"
	  " CROSS JOIN (SELECT count(*) AS n,"
	  "                    coalesce(sum(estimated_cost), 0) AS reserved"
	  "               FROM pipelines WHERE user_id = $1::uuid"
	  "                AND status = 'running'"
	  "                AND started_at > now() - make_interval(mins => $4::int)) r"
	  "  LEFT JOIN api_usage u ON u.user_id = $1::uuid AND u.month = m.month", 4, DB_ROWS },
	/* $1 user, $2 how many months back, this one included */
	{ "usage_history",	/* USAGE_HISTORY */
	  "SELECT to_char(month, 'YYYY-MM'), articles_generated, round(total_cost, 4)"
	  "  FROM api_usage"
	  " WHERE user_id = $1::uuid"
	  "   AND month > (" THIS_MONTH " - make_interval(months => $2::int))::date"
	  "   AND month <= " THIS_MONTH
	  "   AND (articles_generated > 0 OR total_cost > 0)"
	  " ORDER BY month DESC", 2, DB_ROWS },
};

const struct stmt_table repo_usage_table = { stmts, USAGE__MAX };

static int64_t
num(const char *s)
{
	int64_t v = 0;

	if (!parse_int64(s, INT64_MIN, INT64_MAX, &v))
		return 0;
	return v;
}

enum db_status
repo_usage_current(const char *user, struct usage *u)
{
	char max_art[24], timeout[24];
	PGresult *r;
	enum db_status e;

	memset(u, 0, sizeof(*u));
	snprintf(max_art, sizeof(max_art), "%lld", (long long)cfg.max_articles);
	snprintf(timeout, sizeof(timeout), "%lld",
	    (long long)cfg.pipeline_timeout_min);
	if ((e = db_execv(&stmts[USAGE_CURRENT], &r, user, cfg.max_monthly_cost,
	    max_art, timeout)) != DB_OK) {
		PQclear(r);
		return e;
	}
	snprintf(u->month, sizeof(u->month), "%s", PQgetvalue(r, 0, 0));
	u->articles_generated = num(PQgetvalue(r, 0, 1));
	u->articles_in_progress = num(PQgetvalue(r, 0, 2));
	snprintf(u->total_cost, sizeof(u->total_cost), "%s", PQgetvalue(r, 0, 3));
	snprintf(u->max_monthly_cost, sizeof(u->max_monthly_cost), "%s",
	    PQgetvalue(r, 0, 4));
	u->max_articles_per_month = num(PQgetvalue(r, 0, 5));
	snprintf(u->remaining_cost, sizeof(u->remaining_cost), "%s",
	    PQgetvalue(r, 0, 6));
	u->remaining_articles = num(PQgetvalue(r, 0, 7));
	PQclear(r);
	return DB_OK;
}

enum db_status
repo_usage_history(const char *user, int64_t months,
    void (*each)(void *, const struct usage_month *), void *arg)
{
	char m[24];
	struct usage_month u;
	PGresult *r;
	enum db_status e;
	int i;

	snprintf(m, sizeof(m), "%lld", (long long)months);
	if ((e = db_execv(&stmts[USAGE_HISTORY], &r, user, m)) == DB_OK)
		for (i = 0; i < PQntuples(r); i++) {
			u.month = PQgetvalue(r, i, 0);
			u.articles_generated = PQgetvalue(r, i, 1);
			u.total_cost = PQgetvalue(r, i, 2);
			each(arg, &u);
		}
	PQclear(r);
	return e == DB_EMPTY ? DB_OK : e;
}
