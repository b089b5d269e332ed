/*
 * repo_export.c - the SQL of GET /api/v1/me/export: everything a user
 * owns, read in pages of EXPORT_PAGE rows inside one read-only
 * REPEATABLE READ transaction, so that the pages fit together (one
 * snapshot) and memory stays bounded whatever the user has.
 *
 * Pages are keyset pages on the list indexes (articles_user_created_idx,
 * pipelines_user_started_idx): newest first by (time, id).  The last
 * column of each page row is the raw timestamp the next page starts
 * after.  Times are written as the import reads them back exactly: UTC,
 * microseconds, "Z".
 */
#include "autoconf.h"

#include <stdio.h>

#include "repo.h"
#include "repo_export.h"

enum export_stmt {
	EXP_SNAPSHOT,
	EXP_ARTICLES_FIRST,
	EXP_ARTICLES_NEXT,
	EXP_PIPELINES_FIRST,
	EXP_PIPELINES_NEXT,
	EXP_USAGE,
	EXP__MAX
};

#define EXP_TIME(c) \
	"to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

#define ART_COLS							\
	"SELECT id, title, slug, content_markdown, content_html,"	\
	"       meta_description, primary_keyword, seo_score, status,"	\
	"       wp_post_id, wp_url, embedding::text,"			\
	"       " EXP_TIME("created_at") ", " EXP_TIME("updated_at") ","	\
	"       created_at"						\
	"  FROM articles WHERE user_id = $1::uuid"
#define ART_ORDER	" ORDER BY created_at DESC, id DESC LIMIT $2::int8"

#define PIPE_COLS							\
	"SELECT id, article_id, status, estimated_cost, total_cost,"	\
	"       " EXP_TIME("started_at") ","				\
	"       " EXP_TIME("completed_at") ", error_message, started_at"	\
	"  FROM pipelines WHERE user_id = $1::uuid"
#define PIPE_ORDER	" ORDER BY started_at DESC, id DESC LIMIT $2::int8"

static const struct stmt stmts[EXP__MAX] = {
	{ "export_snapshot",	/* EXP_SNAPSHOT: right after BEGIN */
	  "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0 },
	{ "export_articles_first",	/* EXP_ARTICLES_FIRST: $1 user, $2 limit */
	  ART_COLS ART_ORDER, 2 },
	{ "export_articles_next",	/* ... after ($3 created_at, $4 id) */
	  ART_COLS " AND (created_at, id) < ($3::timestamptz, $4::uuid)"
	  ART_ORDER, 4 },
	{ "export_pipelines_first",	/* EXP_PIPELINES_FIRST */
	  PIPE_COLS PIPE_ORDER, 2 },
	{ "export_pipelines_next",	/* ... after ($3 started_at, $4 id) */
	  PIPE_COLS " AND (started_at, id) < ($3::timestamptz, $4::uuid)"
	  PIPE_ORDER, 4 },
	{ "export_usage",	/* EXP_USAGE: $1 user, oldest month first */
	  "SELECT to_char(month, 'YYYY-MM'), articles_generated,"
	  "       round(total_cost, 4)"
	  "  FROM api_usage WHERE user_id = $1::uuid ORDER BY month", 1 },
};

const struct stmt_table repo_export_table = { stmts, EXP__MAX };

enum db_status
repo_export_begin(void)
{
	PGresult *res = NULL;
	enum db_status e;

	if ((e = db_begin()) != DB_OK)
		return e;
	e = db_exec(&stmts[EXP_SNAPSHOT], NULL, &res);
	PQclear(res);
	if (e == DB_EMPTY)
		e = DB_OK;
	if (e != DB_OK)
		db_rollback();
	return e;
}

void
repo_export_end(void)
{
	db_rollback();
}

/* One page: the first, or the one after the last row of prev. */
static enum db_status
page(const struct stmt *first, const struct stmt *next, const char *user,
    PGresult *prev, PGresult **res)
{
	char lim[24];
	int n, last;

	snprintf(lim, sizeof(lim), "%d", EXPORT_PAGE);
	if (prev == NULL)
		return db_execv(first, res, user, lim);
	n = PQntuples(prev);
	last = PQnfields(prev) - 1;
	return db_execv(next, res, user, lim, PQgetvalue(prev, n - 1, last),
	    PQgetvalue(prev, n - 1, 0));
}

enum db_status
repo_export_articles(const char *user, PGresult *prev, PGresult **res)
{
	return page(&stmts[EXP_ARTICLES_FIRST], &stmts[EXP_ARTICLES_NEXT],
	    user, prev, res);
}

enum db_status
repo_export_pipelines(const char *user, PGresult *prev, PGresult **res)
{
	return page(&stmts[EXP_PIPELINES_FIRST], &stmts[EXP_PIPELINES_NEXT],
	    user, prev, res);
}

enum db_status
repo_export_usage(const char *user, PGresult **res)
{
	return db_execv(&stmts[EXP_USAGE], res, user);
}
