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

#include <stdlib.h>
#include <string.h>

#include "db_stmt.h"
#include "repo.h"
#include "repo_export.h"
#include "util.h"

enum export_stmt {
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
	{ "export_articles_first",	/* EXP_ARTICLES_FIRST: $1 user, $2 limit */
	  ART_COLS ART_ORDER, 2, DB_ROWS },
	{ "export_articles_next",	/* ... after ($3 created_at, $4 id) */
	  ART_COLS " AND (created_at, id) < ($3::timestamptz, $4::uuid)"
	  ART_ORDER, 4, DB_ROWS },
	{ "export_pipelines_first",	/* EXP_PIPELINES_FIRST */
	  PIPE_COLS PIPE_ORDER, 2, DB_ROWS },
	{ "export_pipelines_next",	/* ... after ($3 started_at, $4 id) */
	  PIPE_COLS " AND (started_at, id) < ($3::timestamptz, $4::uuid)"
	  PIPE_ORDER, 4, DB_ROWS },
	{ "export_usage",	/* EXP_USAGE: $1 user, oldest month first */
	  "SELECT to_char(month, 'YYYY-MM'), articles_generated,"
	  "       round(total_cost, 4)"
	  "  FROM api_usage WHERE user_id = $1::uuid ORDER BY month", 1,
	  DB_ROWS },
};

const struct stmt_table repo_export_table = { stmts, EXP__MAX };

/*
 * Every row of the statements first/next, page by page: each(arg, cols,
 * n) with the row's columns but the keyset one.  The next page starts
 * after the last row's (keyset column, id).
 */
static enum db_status
pages(const struct stmt *first, const struct stmt *next, const char *user,
    repo_export_fn *each, void *arg)
{
	const char *cols[EXPORT_MAX_COLS];
	char lim[24], *after = NULL, *after_id = NULL;
	PGresult *res;
	enum db_status e;
	int i, c, n, nf;

	snprintf(lim, sizeof(lim), "%d", EXPORT_PAGE);
	for (;;) {
		if (after == NULL)
			e = db_execv(first, &res, user, lim);
		else
			e = db_execv(next, &res, user, lim, after, after_id);
		free(after);
		free(after_id);
		after = after_id = NULL;
		if (e == DB_EMPTY) {
			PQclear(res);
			return DB_OK;
		}
		if (e != DB_OK)
			return e;
		n = PQntuples(res);
		nf = PQnfields(res) - 1;	/* the keyset column */
		if (nf > EXPORT_MAX_COLS)
			nf = EXPORT_MAX_COLS;
		for (i = 0; i < n; i++) {
			for (c = 0; c < nf; c++)
				cols[c] = db_col(res, i, c);
			if (!each(arg, cols, nf)) {
				PQclear(res);
				return DB_OK;
			}
		}
		if (n < EXPORT_PAGE) {
			PQclear(res);
			return DB_OK;
		}
		after = xstrdup(PQgetvalue(res, n - 1, nf));
		after_id = xstrdup(PQgetvalue(res, n - 1, 0));
		PQclear(res);
	}
}

enum db_status
repo_export_articles(const char *user, repo_export_fn *each, void *arg)
{
	return pages(&stmts[EXP_ARTICLES_FIRST], &stmts[EXP_ARTICLES_NEXT],
	    user, each, arg);
}

enum db_status
repo_export_pipelines(const char *user, repo_export_fn *each, void *arg)
{
	return pages(&stmts[EXP_PIPELINES_FIRST], &stmts[EXP_PIPELINES_NEXT],
	    user, each, arg);
}

enum db_status
repo_export_usage(const char *user, repo_export_fn *each, void *arg)
{
	const char *cols[3];
	PGresult *res;
	enum db_status e;
	int i;

	e = db_execv(&stmts[EXP_USAGE], &res, user);
	for (i = 0; e == DB_OK && i < PQntuples(res); i++) {
		cols[0] = db_col(res, i, 0);
		cols[1] = db_col(res, i, 1);
		cols[2] = db_col(res, i, 2);
		if (!each(arg, cols, 3))
			break;
	}
	PQclear(res);
	return e == DB_EMPTY ? DB_OK : e;
}
