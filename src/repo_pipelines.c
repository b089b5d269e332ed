/*
 * repo_pipelines.c - the pipelines table, and the monthly limits checked
 * when a run starts.
 *
 * Starts and ends of one user's runs are serialised by a row lock on the
 * user (repo_pipelines_lock_user, in the caller's transaction).  It must
 * be a statement of its own (sent in one round trip with the next): a statement that waits for a lock still reads
 * with the snapshot it took before waiting, so the check that follows the
 * lock has to start after it, to see what the previous holder committed.
 * With that, N concurrent starts with k free slots give exactly k runs.
 *
 * Money is numeric throughout and leaves as text with 4 decimals.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cursor.h"
#include "repo.h"
#include "repo_list.h"
#include "util.h"

enum pipelines_stmt {
	PIPE_LIST,
	PIPE_LIST_STATUS,
	PIPE_LIST_CURSOR,
	PIPE_LIST_STATUS_CURSOR,
	PIPE_GET,
	PIPE_LOCK_USER,
	PIPE_START,
	PIPE_END,
	PIPE_OWNER,
	PIPE__MAX
};

enum pipeline_col {
	PC_ID, PC_ARTICLE_ID, PC_STATUS, PC_ESTIMATED_COST, PC_TOTAL_COST,
	PC_STARTED_AT, PC_COMPLETED_AT, PC_ERROR_MESSAGE
};

/* Timestamps in PostgreSQL's text form, as in repo_articles.c. */
#define PIPELINE_COLS(t)						\
	t ".id, " t ".article_id, " t ".status, "			\
	t ".estimated_cost, " t ".total_cost, " t ".started_at, "	\
	t ".completed_at, " t ".error_message"

/* The columns of the start's check before the new pipeline's (PIPE_START). */
#define START_COL0	10
/* The columns before the ended pipeline's (PIPE_END). */
#define END_COL0	3

/* The first day of the current UTC month, as api_usage.month holds it. */
#define THIS_MONTH	"date_trunc('month', now() AT TIME ZONE 'UTC')::date"

/*
 * Newest first by (started_at, id); each variant matches
 * pipelines_user_started_idx or pipelines_user_status_started_idx.
 */
#define LIST_HEAD	"SELECT " PIPELINE_COLS("p") " FROM pipelines p WHERE p.user_id = $1::uuid"
#define LIST_TAIL	" ORDER BY p.started_at DESC, p.id DESC LIMIT $2::int8"

static const struct stmt stmts[PIPE__MAX] = {
	{ "pipelines_list",	/* PIPE_LIST */
	  LIST_HEAD LIST_TAIL, 2, DB_ROWS },
	{ "pipelines_list_status",	/* PIPE_LIST_STATUS */
	  LIST_HEAD " AND p.status = $3" LIST_TAIL, 3, DB_ROWS },
	{ "pipelines_list_cursor",	/* PIPE_LIST_CURSOR */
	  LIST_HEAD " AND (p.started_at, p.id) < ($3::timestamptz, $4::uuid)"
	  LIST_TAIL, 4, DB_ROWS },
	{ "pipelines_list_status_cursor",	/* PIPE_LIST_STATUS_CURSOR */
	  LIST_HEAD " AND p.status = $3"
	  " AND (p.started_at, p.id) < ($4::timestamptz, $5::uuid)"
	  LIST_TAIL, 5, DB_ROWS },
	{ "pipelines_get",	/* PIPE_GET */
	  "SELECT " PIPELINE_COLS("p") " FROM pipelines p"
	  " WHERE p.id = $2::uuid AND p.user_id = $1::uuid", 2, DB_ROWS },
	/*
	 * NO KEY UPDATE: conflicts with itself (one start or end of the user
	 * at a time) but not with the KEY SHARE locks that foreign-key checks
	 * take, so inserting an article meanwhile does not wait.
	 */
	{ "pipelines_lock_user",	/* PIPE_LOCK_USER */
	  "SELECT 1 FROM users WHERE id = $1::uuid FOR NO KEY UPDATE", 1, DB_ROWS },
	/*
	 * PIPE_START: $1 user, $2 article or NULL, $3 estimate, $4 and $5 the
	 * default limits, $6 PIPELINE_TIMEOUT_MINUTES.  s: this month's usage,
	 * the runs holding a slot and the limits; d: the decision; ins: the
	 * run, inserted only when d allows it.  The cost check: used (cost
	 * plus the estimates of the runs in progress) must be below the limit,
	 * and used plus this estimate must not exceed it.
	 */
	{ "pipelines_start",	/* PIPE_START */
	  "WITH s AS ("
	  "  SELECT coalesce(u.total_cost, 0) AS cost,"
	  "         coalesce(u.articles_generated, 0) AS done,"
	  "         r.n AS running, r.reserved, l.max_cost, l.max_art,"
	  "         ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM articles x"
	  "            WHERE x.id = $2::uuid AND x.user_id = $1::uuid)) AS article_ok"
	  "    FROM (SELECT coalesce(max_monthly_cost, $4::numeric) AS max_cost,"
	  "                 coalesce(max_articles_per_month, $5::int8) AS max_art"
	  "            FROM users WHERE id = $1::uuid) l"
	  "   CROSS JOIN (SELECT count(*) AS n,"
	  "                      coalesce(sum(estimated_cost), 0) AS reserved"
	  "                 FROM pipelines WHERE user_id = $1::uuid"
	  "                  AND status = 'running'"
	  "                  AND started_at > now() - make_interval(mins => $6::int)) r"
	  "    LEFT JOIN api_usage u ON u.user_id = $1::uuid"
	  "          AND u.month = " THIS_MONTH
	  "), d AS ("
	  "  SELECT s.*, s.cost + s.reserved AS used,"
	  "         s.cost + s.reserved < s.max_cost"
	  "         AND s.cost + s.reserved + $3::numeric <= s.max_cost AS cost_ok,"
	  "         s.done + s.running < s.max_art AS art_ok"
	  "    FROM s"
	  "), ins AS ("
	  "  INSERT INTO pipelines AS p (user_id, article_id, estimated_cost)"
	  "  SELECT $1::uuid, $2::uuid, $3::numeric FROM d"
	  "   WHERE d.article_ok AND d.cost_ok AND d.art_ok"
	  "  RETURNING " PIPELINE_COLS("p")
	  ")"
	  " SELECT d.article_ok, d.cost_ok, d.art_ok, ins.id IS NOT NULL,"
	  "        round(d.used, 4), round(d.max_cost, 4),"
	  "        round(greatest(d.max_cost - d.used"
	  "              - CASE WHEN ins.id IS NULL THEN 0 ELSE $3::numeric END, 0), 4),"
	  "        d.done + d.running, d.max_art,"
	  "        greatest(d.max_art - d.done - d.running"
	  "              - CASE WHEN ins.id IS NULL THEN 0 ELSE 1 END, 0),"
	  "        ins.*"
	  "   FROM d LEFT JOIN ins ON true", 6, DB_ROWS },
	/*
	 * PIPE_END: $1 user, $2 pipeline, $3 'completed' or 'failed', $4 the
	 * total cost or NULL (keep), $5 whether to set article_id to $6, $7
	 * the error message, $8 and $9 the default limits, $10
	 * PIPELINE_TIMEOUT_MINUTES.  cur tells 404 from 409 (it reads the
	 * snapshot: the status before this statement); the usage of the month
	 * the run ends in gets its cost and, completed, one article (u, which
	 * returns the month's new totals).  What is left of the limits after
	 * the end, as usage_current computes it: no statement sees its own
	 * CTEs' writes, so r, the runs in progress read in the snapshot,
	 * still holds the run e ended, and k takes it out again when r
	 * counted it (started within the timeout).  Nothing ended: the
	 * remaining columns are NULL.
	 */
	{ "pipelines_end",	/* PIPE_END */
	  "WITH cur AS ("
	  "  SELECT status FROM pipelines WHERE id = $2::uuid AND user_id = $1::uuid"
	  "), e AS ("
	  "  UPDATE pipelines AS p SET status = $3, completed_at = now(),"
	  "         total_cost = coalesce($4::numeric, p.total_cost),"
	  "         article_id = CASE WHEN $5::bool THEN $6::uuid ELSE p.article_id END,"
	  "         error_message = $7"
	  "   WHERE p.id = $2::uuid AND p.user_id = $1::uuid AND p.status = 'running'"
	  "  RETURNING " PIPELINE_COLS("p")
	  "), u AS ("
	  "  INSERT INTO api_usage AS u (user_id, month, articles_generated, total_cost)"
	  "  SELECT $1::uuid, " THIS_MONTH ","
	  "         CASE WHEN $3 = 'completed' THEN 1 ELSE 0 END, e.total_cost FROM e"
	  "  ON CONFLICT (user_id, month) DO UPDATE"
	  "     SET articles_generated = u.articles_generated + excluded.articles_generated,"
	  "         total_cost = u.total_cost + excluded.total_cost"
	  "  RETURNING u.articles_generated, u.total_cost"
	  "), l AS ("
	  "  SELECT coalesce(max_monthly_cost, $8::numeric) AS max_cost,"
	  "         coalesce(max_articles_per_month, $9::int8) AS max_art"
	  "    FROM users WHERE id = $1::uuid"
	  "), r AS ("
	  "  SELECT count(*) AS n, coalesce(sum(estimated_cost), 0) AS reserved"
	  "    FROM pipelines WHERE user_id = $1::uuid"
	  "     AND status = 'running'"
	  "     AND started_at > now() - make_interval(mins => $10::int)"
	  "), k AS ("
	  "  SELECT CASE WHEN c THEN 1 ELSE 0 END AS n,"
	  "         CASE WHEN c THEN est ELSE 0 END AS reserved"
	  "    FROM (SELECT e.started_at > now() - make_interval(mins => $10::int) AS c,"
	  "                 e.estimated_cost AS est FROM e) x"
	  ")"
	  " SELECT cur.status,"
	  "        round(greatest(l.max_cost - u.total_cost"
	  "              - (r.reserved - k.reserved), 0), 4),"
	  "        greatest(l.max_art - u.articles_generated - (r.n - k.n), 0),"
	  "        e.*"
	  "   FROM cur LEFT JOIN e ON true LEFT JOIN u ON true"
	  "   LEFT JOIN l ON true LEFT JOIN k ON true CROSS JOIN r", 10, DB_ROWS },
	/* the user a run belongs to: whose usage an admin's end updates */
	{ "pipelines_owner",	/* PIPE_OWNER */
	  "SELECT user_id FROM pipelines WHERE id = $1::uuid", 1, DB_ROWS },
};

const struct stmt_table repo_pipelines_table = { stmts, PIPE__MAX };

/* The pipeline columns of row i of res, from column col0, into *p. */
static void
pipeline_row(PGresult *res, int i, int col0, struct pipeline_row *p)
{
	p->id = db_col(res, i, col0 + PC_ID);
	p->article_id = db_col(res, i, col0 + PC_ARTICLE_ID);
	p->status = db_col(res, i, col0 + PC_STATUS);
	p->estimated_cost = db_col(res, i, col0 + PC_ESTIMATED_COST);
	p->total_cost = db_col(res, i, col0 + PC_TOTAL_COST);
	p->started_at = db_col(res, i, col0 + PC_STARTED_AT);
	p->completed_at = db_col(res, i, col0 + PC_COMPLETED_AT);
	p->error_message = db_col(res, i, col0 + PC_ERROR_MESSAGE);
}

/* e, after giving each row of res (from col0) to each; res is cleared. */
static enum db_status
each_row(enum db_status e, PGresult *res, int col0, repo_pipeline_fn *each,
    void *arg)
{
	struct pipeline_row p;
	int i;

	if (e == DB_OK)
		for (i = 0; i < PQntuples(res); i++) {
			pipeline_row(res, i, col0, &p);
			each(arg, &p);
		}
	PQclear(res);
	return e;
}

enum db_status
repo_pipelines_list(const char *user, const char *status,
    const struct cursor *c, int64_t limit, repo_pipeline_fn *each, void *arg)
{
	PGresult *res;
	enum db_status e;

	e = repo_list(&stmts[PIPE_LIST], user, status, c, limit, &res);
	return each_row(e, res, 0, each, arg);
}

enum db_status
repo_pipelines_get(const char *user, const char *id, repo_pipeline_fn *one,
    void *arg)
{
	PGresult *res;
	enum db_status e;

	e = db_execv(&stmts[PIPE_GET], &res, user, id);
	return each_row(e, res, 0, one, arg);
}

enum db_status
repo_pipelines_lock_user(const char *user)
{
	const char *p[] = { user };

	return db_ahead(&stmts[PIPE_LOCK_USER], p);
}

static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src != NULL ? src : "");
}

static int64_t
num(const char *s)
{
	int64_t v = 0;

	if (s == NULL || !parse_int64(s, INT64_MIN, INT64_MAX, &v))
		return 0;
	return v;
}

enum db_status
repo_pipelines_start(const char *user, const char *article_id,
    const char *estimate, struct pipeline_start *st, repo_pipeline_fn *one,
    void *arg)
{
	char max_art[24], timeout[24];
	const char *p[6];
	PGresult *r;
	enum db_status e;

	memset(st, 0, sizeof(*st));
	snprintf(max_art, sizeof(max_art), "%lld", (long long)cfg.max_articles);
	snprintf(timeout, sizeof(timeout), "%lld",
	    (long long)cfg.pipeline_timeout_min);
	p[0] = user;
	p[1] = article_id;
	p[2] = estimate;
	p[3] = cfg.max_monthly_cost;
	p[4] = max_art;
	p[5] = timeout;
	if ((e = db_rows(db_exec(&stmts[PIPE_START], p, &r), &r)) != DB_OK)
		return e;
	st->article_ok = PQgetvalue(r, 0, 0)[0] == 't';
	st->cost_ok = PQgetvalue(r, 0, 1)[0] == 't';
	st->articles_ok = PQgetvalue(r, 0, 2)[0] == 't';
	st->started = PQgetvalue(r, 0, 3)[0] == 't';
	copy(st->used_cost, sizeof(st->used_cost), PQgetvalue(r, 0, 4));
	copy(st->max_cost, sizeof(st->max_cost), PQgetvalue(r, 0, 5));
	copy(st->remaining_cost, sizeof(st->remaining_cost),
	    PQgetvalue(r, 0, 6));
	st->used_articles = num(PQgetvalue(r, 0, 7));
	st->max_articles = num(PQgetvalue(r, 0, 8));
	st->remaining_articles = num(PQgetvalue(r, 0, 9));
	/* the new pipeline's columns follow the ten of the check */
	if (!st->started) {
		PQclear(r);
		return DB_OK;
	}
	return each_row(DB_OK, r, START_COL0, one, arg);
}

enum db_status
repo_pipelines_end(const char *user, const char *id, const char *status,
    const char *total_cost, bool set_article, const char *article_id,
    const char *error_message, struct pipeline_end *end,
    repo_pipeline_fn *one, void *arg)
{
	char max_art[24], timeout[24];
	const char *p[10];
	PGresult *r;
	enum db_status e;

	memset(end, 0, sizeof(*end));
	snprintf(max_art, sizeof(max_art), "%lld", (long long)cfg.max_articles);
	snprintf(timeout, sizeof(timeout), "%lld",
	    (long long)cfg.pipeline_timeout_min);
	p[0] = user;
	p[1] = id;
	p[2] = status;
	p[3] = total_cost;
	p[4] = set_article ? "true" : "false";
	p[5] = article_id;
	p[6] = error_message;
	p[7] = cfg.max_monthly_cost;
	p[8] = max_art;
	p[9] = timeout;
	if ((e = db_rows(db_exec(&stmts[PIPE_END], p, &r), &r)) != DB_OK)
		return e;
	/*
	 * cur.status, what is left of the limits, then the ended pipeline's
	 * columns (NULL: not running)
	 */
	end->ended = !PQgetisnull(r, 0, END_COL0);
	copy(end->was, sizeof(end->was), PQgetvalue(r, 0, 0));
	if (!end->ended) {
		PQclear(r);
		return DB_OK;
	}
	copy(end->remaining_cost, sizeof(end->remaining_cost),
	    PQgetvalue(r, 0, 1));
	end->remaining_articles = num(PQgetvalue(r, 0, 2));
	return each_row(DB_OK, r, END_COL0, one, arg);
}

enum db_status
repo_pipelines_owner(const char *id, char owner[37])
{
	PGresult *r;
	enum db_status e;

	if ((e = db_rows(db_execv(&stmts[PIPE_OWNER], &r, id), &r)) != DB_OK)
		return e;
	copy(owner, 37, PQgetvalue(r, 0, 0));
	PQclear(r);
	return DB_OK;
}
