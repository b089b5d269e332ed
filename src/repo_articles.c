/*
 * repo_articles.c - the articles table.
 *
 * Every statement carries the caller's user id in its WHERE clause.  Rows
 * come back in one column layout (ARTICLE_COLS) so that one function,
 * article_row(), reads them all; lists select NULL for the contents, and
 * the inserts put the columns of their check first (CREATE_CHECK_COLS).
 * Timestamps come in PostgreSQL's own text form (the worker's session is
 * TimeZone UTC, DateStyle ISO: db.c) and are formatted in C: to_char()
 * and extract() on every row were a large share of a list's time in the
 * server.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "repo.h"
#include "repo_list.h"
#include "util.h"

enum articles_stmt {
	ART_LIST,
	ART_LIST_STATUS,
	ART_LIST_CURSOR,
	ART_LIST_STATUS_CURSOR,
	ART_GET,
	ART_CREATE,
	ART_CREATE_AUTO,
	ART_UPDATE,
	ART_DELETE,
	ART_RELATED,
	ART_UPDATE_IF,
	ART_GET_IF,
	ART_LIST_OLDEST,
	ART_LIST_OLDEST_STATUS,
	ART_LIST_OLDEST_CURSOR,
	ART_LIST_OLDEST_STATUS_CURSOR,
	ART_SEARCH,
	ART_SEARCH_OLDEST,
	ART_SEARCH_SHORT,
	ART_SEARCH_SHORT_OLDEST,
	ART__MAX
};

/* Column numbers of ARTICLE_COLS. */
enum article_col {
	AC_ID, AC_TITLE, AC_SLUG, AC_CONTENT_MARKDOWN, AC_CONTENT_HTML,
	AC_META_DESCRIPTION, AC_PRIMARY_KEYWORD, AC_SEO_SCORE, AC_STATUS,
	AC_WP_POST_ID, AC_WP_URL, AC_HAS_EMBEDDING, AC_CREATED_AT,
	AC_UPDATED_AT, AC_DISTANCE
};

/* t: the table alias; content: the two content columns, or NULL, NULL. */
#define ARTICLE_COLS_(t, content)					\
	t ".id, " t ".title, " t ".slug, " content ", "			\
	t ".meta_description, " t ".primary_keyword, " t ".seo_score, "	\
	t ".status, " t ".wp_post_id, " t ".wp_url, "			\
	t ".embedding IS NOT NULL, " t ".created_at, " t ".updated_at"
#define ARTICLE_COLS(t)	\
	ARTICLE_COLS_(t, t ".content_markdown, " t ".content_html")
#define SUMMARY_COLS(t)	ARTICLE_COLS_(t, "NULL::text, NULL::text")

/*
 * The lists: newest first by (created_at, id), keyset from the cursor.
 * Each variant matches an index exactly, so that the plan is an index scan
 * that stops after limit rows whatever the page:
 * articles_user_created_idx (user_id, created_at DESC, id DESC), and
 * articles_user_status_created_idx with the status.
 */
#define LIST_HEAD	"SELECT " SUMMARY_COLS("a") " FROM articles a WHERE a.user_id = $1::uuid"
#define LIST_TAIL	" ORDER BY a.created_at DESC, a.id DESC LIMIT $2::int8"
#define LIST_TAIL_OLDEST " ORDER BY a.created_at, a.id LIMIT $2::int8"
/*
 * The title search: $3 is the text the lower-cased title contains (what
 * ILIKE does in a UTF-8 database, with no wildcard: its %, _ and
 * backslash are ordinary characters), $4 the status or NULL.  SEARCH_KEYED
 * finds the candidates through articles_title_keys_idx alone (migration
 * 0008: trigrams hashed with their owner), and the OFFSET 0 keeps the
 * user filter out of that scan, so that the planner never adds the user's
 * whole date index to it; SEARCH_SHORT, for a q of fewer than three
 * characters (no trigram), walks the user's articles by date.
 */
#define SEARCH_MATCH							\
	" AND strpos(lower(a.title), lower($3)) > 0"			\
	" AND ($4::text IS NULL OR a.status = $4)"
#define SEARCH_KEYED							\
	"SELECT " SUMMARY_COLS("a") " FROM (SELECT * FROM articles"	\
	"  WHERE bp_title_keys(user_id, title)"				\
	"   @> bp_title_search_keys($1::uuid, $3) OFFSET 0) a"		\
	" WHERE a.user_id = $1::uuid" SEARCH_MATCH
#define SEARCH_SHORT	LIST_HEAD SEARCH_MATCH
#define SEARCH_BEFORE							\
	" AND ($5::timestamptz IS NULL"					\
	" OR (a.created_at, a.id) < ($5::timestamptz, $6::uuid))"
#define SEARCH_AFTER							\
	" AND ($5::timestamptz IS NULL"					\
	" OR (a.created_at, a.id) > ($5::timestamptz, $6::uuid))"

/*
 * Both inserts take $1 the user, $2 the slug (ART_CREATE) or the base to
 * make one from (ART_CREATE_AUTO), then $3..$12 the other writable fields
 * in enum article_field order: title, contents, meta, keyword, score,
 * status, wp id, url, embedding, and $13 the most articles a user stores:
 * they insert nothing when the user has that many already.  Each answers
 * one row, inserted or not: CREATE_CHECK_COLS columns of the check (is
 * the user below the limit, how many articles the user has, counted up to
 * it), then ARTICLE_COLS of the new article, NULLs when it inserted
 * nothing.  The count and the insert are one statement with one snapshot,
 * so the reason it gives is the one the insert acted on.  That snapshot
 * must be taken after the lock on the user's row
 * (repo_pipelines_lock_user), in a statement of its own: a statement reads
 * with the snapshot it took before waiting for a lock.
 */
#define INS_COLS							\
	"(user_id, title, slug, content_markdown, content_html,"	\
	" meta_description, primary_keyword, seo_score, status,"	\
	" wp_post_id, wp_url, embedding)"
#define INS_VALS							\
	"$5, $6, $7, $8::float8, coalesce($9, 'draft'), $10::int8, $11,"	\
	" bp_embedding_in($12)"
#define CREATE_CHECK							\
	"ok AS ("							\
	"  SELECT n.used < $13::int8 AS below, n.used FROM ("		\
	"    SELECT count(*) AS used FROM (SELECT 1 FROM articles"	\
	"      WHERE user_id = $1::uuid LIMIT $13::int8) x) n)"
#define CREATE_ANSWER							\
	" ON CONFLICT (user_id, slug) DO NOTHING"			\
	" RETURNING " ARTICLE_COLS("a") ")"				\
	" SELECT ok.below, ok.used, ins.* FROM ok LEFT JOIN ins ON true"
/* The columns of the check before the new article's (CREATE_ANSWER). */
#define CREATE_CHECK_COLS	2

/* $3 is the mask of the fields given: bit n is enum article_field n */
#define UPDATE_SQL							\
	"UPDATE articles AS a SET"					\
	" title = CASE WHEN $3::int & 1 <> 0 THEN $4 ELSE a.title END,"	\
	" slug = CASE WHEN $3::int & 2 <> 0 THEN $5 ELSE a.slug END,"	\
	" content_markdown = CASE WHEN $3::int & 4 <> 0 THEN $6"	\
	"   ELSE a.content_markdown END,"				\
	" content_html = CASE WHEN $3::int & 8 <> 0 THEN $7"		\
	"   ELSE a.content_html END,"					\
	" meta_description = CASE WHEN $3::int & 16 <> 0 THEN $8"	\
	"   ELSE a.meta_description END,"				\
	" primary_keyword = CASE WHEN $3::int & 32 <> 0 THEN $9"	\
	"   ELSE a.primary_keyword END,"				\
	" seo_score = CASE WHEN $3::int & 64 <> 0 THEN $10::float8"	\
	"   ELSE a.seo_score END,"					\
	" status = CASE WHEN $3::int & 128 <> 0 THEN $11 ELSE a.status END,"	\
	" wp_post_id = CASE WHEN $3::int & 256 <> 0 THEN $12::int8"	\
	"   ELSE a.wp_post_id END,"					\
	" wp_url = CASE WHEN $3::int & 512 <> 0 THEN $13 ELSE a.wp_url END,"	\
	" embedding = CASE WHEN $3::int & 1024 <> 0 THEN bp_embedding_in($14)"	\
	"   ELSE a.embedding END"					\
	" WHERE a.id = $2::uuid AND a.user_id = $1::uuid"

/*
 * The If-Match precondition of a PATCH: $n the updated_at the client
 * loaded, $e true when it has the microseconds of the ETag (compared
 * exactly), false for the API's second-precision form (compared with the
 * stored time truncated alike).
 */
#define IF_UNCHANGED(n, e)						\
	" AND CASE WHEN $" e "::bool THEN a.updated_at = $" n "::timestamptz" \
	" ELSE date_trunc('second', a.updated_at) = $" n "::timestamptz END"

/*
 * The four statements of a list in one order (repo_list picks one): plain,
 * with a status, after a cursor, both; op is "<" (newest first, tail
 * LIST_TAIL) or ">" (oldest first, LIST_TAIL_OLDEST).
 */
#define LIST_STMTS(name, op, tail)					\
	{ name, LIST_HEAD tail, 2, DB_ROWS },				\
	{ name "_status", LIST_HEAD " AND a.status = $3" tail, 3, DB_ROWS }, \
	{ name "_cursor", LIST_HEAD " AND (a.created_at, a.id) " op	\
	  " ($3::timestamptz, $4::uuid)" tail, 4, DB_ROWS },		\
	{ name "_status_cursor", LIST_HEAD " AND a.status = $3"	\
	  " AND (a.created_at, a.id) " op " ($4::timestamptz, $5::uuid)"	\
	  tail, 5, DB_ROWS }

static const struct stmt stmts[ART__MAX] = {
	/* ART_LIST, ART_LIST_STATUS, ART_LIST_CURSOR, ART_LIST_STATUS_CURSOR */
	LIST_STMTS("articles_list", "<", LIST_TAIL),
	{ "articles_get",	/* ART_GET */
	  "SELECT " ARTICLE_COLS("a") " FROM articles a"
	  " WHERE a.id = $2::uuid AND a.user_id = $1::uuid", 2, DB_ROWS },
	{ "articles_create",	/* ART_CREATE: the slug is $2, as given */
	  "WITH " CREATE_CHECK ","
	  " ins AS (INSERT INTO articles AS a " INS_COLS
	  "  SELECT $1::uuid, $3, $2, $4, " INS_VALS
	  "   WHERE (SELECT below FROM ok)"
	  CREATE_ANSWER, 13, DB_ROWS },
	/*
	 * ART_CREATE_AUTO: the slug is the first of $2, $2-2, $2-3, ... that
	 * the user does not have; the base is cut so that base-N keeps to 500
	 * characters.  The candidates come from a set-returning function in a
	 * target list, which is evaluated lazily: LIMIT 1 stops at the first
	 * free one, each probed through articles_user_id_slug_key.  A
	 * concurrent insert of the same slug makes ON CONFLICT skip the row:
	 * the caller tries again and the next statement sees that slug.
	 */
	{ "articles_create_auto",	/* ART_CREATE_AUTO */
	  "WITH c AS ("
	  "  SELECT s.slug FROM ("
	  "    SELECT CASE WHEN g.n = 1 THEN $2"
	  "           ELSE rtrim(left($2, 499 - length(g.n::text)), '-')"
	  "                || '-' || g.n END AS slug"
	  "      FROM (SELECT generate_series(1, 2147483647) AS n) g) s"
	  "   WHERE NOT EXISTS (SELECT 1 FROM articles x"
	  "                      WHERE x.user_id = $1::uuid AND x.slug = s.slug)"
	  "   LIMIT 1), " CREATE_CHECK ","
	  " ins AS (INSERT INTO articles AS a " INS_COLS
	  "  SELECT $1::uuid, $3, c.slug, $4, " INS_VALS " FROM c"
	  "   WHERE (SELECT below FROM ok)"
	  CREATE_ANSWER, 13, DB_ROWS },
	{ "articles_update",	/* ART_UPDATE */
	  UPDATE_SQL " RETURNING " ARTICLE_COLS("a"), 14, DB_ROWS },
	{ "articles_delete",	/* ART_DELETE */
	  "DELETE FROM articles WHERE id = $2::uuid AND user_id = $1::uuid"
	  " RETURNING id", 2, DB_ROWS },
	/*
	 * ART_RELATED: one row per neighbour, nearest first, or one row of
	 * NULLs when the article has no embedding or no neighbour; no row
	 * when the article is not the user's.  A NULL distance (real[]: other
	 * length, zero norm) or NaN (pgvector: zero norm) sorts last and is
	 * skipped by the caller.
	 */
	{ "articles_related",	/* ART_RELATED */
	  "SELECT n.* FROM articles a"
	  " LEFT JOIN LATERAL ("
	  "   SELECT " SUMMARY_COLS("b") ", b.embedding <=> a.embedding AS distance"
	  "     FROM articles b"
	  "    WHERE b.user_id = a.user_id AND b.id <> a.id"
	  "      AND b.embedding IS NOT NULL AND a.embedding IS NOT NULL"
	  "    ORDER BY distance, b.created_at DESC, b.id DESC"
	  "    LIMIT $3::int8) n ON true"
	  " WHERE a.id = $2::uuid AND a.user_id = $1::uuid", 3, DB_ROWS },
	{ "articles_update_if",	/* ART_UPDATE_IF */
	  UPDATE_SQL IF_UNCHANGED("15", "16")
	  " RETURNING " ARTICLE_COLS("a"), 16, DB_ROWS },
	{ "articles_get_if",	/* ART_GET_IF */
	  "SELECT " ARTICLE_COLS("a") " FROM articles a"
	  " WHERE a.id = $2::uuid AND a.user_id = $1::uuid"
	  IF_UNCHANGED("3", "4"), 4, DB_ROWS },
	/*
	 * ART_LIST_OLDEST and its three: the lists again, oldest first (the
	 * same indexes, scanned backward)
	 */
	LIST_STMTS("articles_list_oldest", ">", LIST_TAIL_OLDEST),
	/*
	 * The lists with a title search (SEARCH_KEYED, SEARCH_SHORT above):
	 * $3 the text, $4 the status or NULL, $5 and $6 the cursor or NULLs.
	 */
	{ "articles_search",	/* ART_SEARCH */
	  SEARCH_KEYED SEARCH_BEFORE LIST_TAIL, 6, DB_ROWS },
	{ "articles_search_oldest",	/* ART_SEARCH_OLDEST */
	  SEARCH_KEYED SEARCH_AFTER LIST_TAIL_OLDEST, 6, DB_ROWS },
	{ "articles_search_short",	/* ART_SEARCH_SHORT */
	  SEARCH_SHORT SEARCH_BEFORE LIST_TAIL, 6, DB_ROWS },
	{ "articles_search_short_oldest",	/* ART_SEARCH_SHORT_OLDEST */
	  SEARCH_SHORT SEARCH_AFTER LIST_TAIL_OLDEST, 6, DB_ROWS },
};

const struct stmt_table repo_articles_table = { stmts, ART__MAX };

/* Row i of res (ARTICLE_COLS, SUMMARY_COLS from column col0) into *a. */
static void
article_row(PGresult *res, int i, int col0, struct article_row *a)
{
	const char *h;

	a->id = db_col(res, i, col0 + AC_ID);
	a->title = db_col(res, i, col0 + AC_TITLE);
	a->slug = db_col(res, i, col0 + AC_SLUG);
	a->content_markdown = db_col(res, i, col0 + AC_CONTENT_MARKDOWN);
	a->content_html = db_col(res, i, col0 + AC_CONTENT_HTML);
	a->meta_description = db_col(res, i, col0 + AC_META_DESCRIPTION);
	a->primary_keyword = db_col(res, i, col0 + AC_PRIMARY_KEYWORD);
	a->seo_score = db_col(res, i, col0 + AC_SEO_SCORE);
	a->status = db_col(res, i, col0 + AC_STATUS);
	a->wp_post_id = db_col(res, i, col0 + AC_WP_POST_ID);
	a->wp_url = db_col(res, i, col0 + AC_WP_URL);
	h = db_col(res, i, col0 + AC_HAS_EMBEDDING);
	a->has_embedding = h != NULL && h[0] == 't';
	a->created_at = db_col(res, i, col0 + AC_CREATED_AT);
	a->updated_at = db_col(res, i, col0 + AC_UPDATED_AT);
	a->distance = db_col(res, i, col0 + AC_DISTANCE);
}

/*
 * e, after giving each row of res with an id (its article from column
 * col0) to each (rows without one: the no-neighbour row of ART_RELATED,
 * the row of an insert that inserted nothing); res is cleared.
 */
static enum db_status
each_row(enum db_status e, PGresult *res, int col0, repo_article_fn *each,
    void *arg)
{
	struct article_row a;
	int i;

	if (e == DB_OK)
		for (i = 0; i < PQntuples(res); i++) {
			article_row(res, i, col0, &a);
			if (a.id != NULL)
				each(arg, &a);
		}
	PQclear(res);
	return e;
}

/* The list whose four statements start at first (LIST_STMTS), to each(). */
static enum db_status
list_rows(const struct stmt *first, const char *user, const char *status,
    const struct cursor *c, int64_t limit, repo_article_fn *each, void *arg)
{
	PGresult *res;
	enum db_status e;

	e = repo_list(first, user, status, c, limit, &res);
	return each_row(e, res, 0, each, arg);
}

enum db_status
repo_articles_list(const char *user, const char *status,
    const struct cursor *c, int64_t limit, repo_article_fn *each, void *arg)
{
	return list_rows(&stmts[ART_LIST], user, status, c, limit, each, arg);
}

enum db_status
repo_articles_get(const char *user, const char *id, repo_article_fn *one,
    void *arg)
{
	PGresult *res;
	enum db_status e;

	e = db_execv(&stmts[ART_GET], &res, user, id);
	return each_row(e, res, 0, one, arg);
}

enum db_status
repo_articles_create(const char *user, const char *slug_base,
    const struct article_in *in, int64_t limit, struct article_create *cr,
    repo_article_fn *one, void *arg)
{
	const char *p[13];
	char lim[24];
	PGresult *res;
	enum db_status e;
	bool explicit = (in->mask & (1u << AF_SLUG)) != 0;
	int f, k = 0;

	memset(cr, 0, sizeof(*cr));
	p[k++] = user;
	p[k++] = explicit ? in->v[AF_SLUG] : slug_base;
	for (f = 0; f < AF__MAX; f++)
		if (f != AF_SLUG)
			p[k++] = (in->mask & (1u << f)) ? in->v[f] : NULL;
	snprintf(lim, sizeof(lim), "%lld", (long long)limit);
	p[k++] = lim;
	if ((e = db_rows(db_exec(&stmts[explicit ? ART_CREATE :
	    ART_CREATE_AUTO], p, &res), &res)) != DB_OK)
		return e;
	/* one row: the check, then the new article or NULLs */
	cr->below = PQgetvalue(res, 0, 0)[0] == 't';
	if (!parse_int64(PQgetvalue(res, 0, 1), 0, INT64_MAX, &cr->used)) {
		PQclear(res);
		return DB_ERROR;
	}
	if (PQgetisnull(res, 0, CREATE_CHECK_COLS + AC_ID)) {
		/* the limit, or the slug taken (ON CONFLICT DO NOTHING) */
		PQclear(res);
		return DB_EMPTY;
	}
	return each_row(DB_OK, res, CREATE_CHECK_COLS, one, arg);
}

/*
 * The parameters of ART_UPDATE and ART_UPDATE_IF: $1 user, $2 id, $3 the
 * mask (written to mask), then the fields in enum article_field order.
 */
static void
update_params(const char **p, char mask[16], const char *user, const char *id,
    const struct article_in *in)
{
	int f;

	snprintf(mask, 16, "%u", in->mask);
	p[0] = user;
	p[1] = id;
	p[2] = mask;
	for (f = 0; f < AF__MAX; f++)
		p[3 + f] = (in->mask & (1u << f)) ? in->v[f] : NULL;
}

enum db_status
repo_articles_update(const char *user, const char *id,
    const struct article_in *in, repo_article_fn *one, void *arg)
{
	const char *p[14];
	char mask[16];
	PGresult *res;
	enum db_status e;

	update_params(p, mask, user, id, in);
	e = db_exec(&stmts[ART_UPDATE], p, &res);
	return each_row(e, res, 0, one, arg);
}

enum db_status
repo_articles_delete(const char *user, const char *id)
{
	const char *p[] = { user, id };

	return db_run(&stmts[ART_DELETE], p);
}

enum db_status
repo_articles_related(const char *user, const char *id, int64_t limit,
    repo_article_fn *each, void *arg)
{
	char lim[24];
	PGresult *res;
	enum db_status e;

	snprintf(lim, sizeof(lim), "%lld", (long long)limit);
	e = db_execv(&stmts[ART_RELATED], &res, user, id, lim);
	return each_row(e, res, 0, each, arg);
}

enum db_status
repo_articles_update_if(const char *user, const char *id,
    const struct article_in *in, const char *loaded, bool exact,
    repo_article_fn *one, void *arg)
{
	const char *p[16];
	char mask[16];
	PGresult *res;
	enum db_status e;

	if (in->mask == 0) {
		e = db_execv(&stmts[ART_GET_IF], &res, user, id, loaded,
		    exact ? "t" : "f");
		return each_row(e, res, 0, one, arg);
	}
	update_params(p, mask, user, id, in);
	p[14] = loaded;
	p[15] = exact ? "t" : "f";
	e = db_exec(&stmts[ART_UPDATE_IF], p, &res);
	return each_row(e, res, 0, one, arg);
}

enum db_status
repo_articles_list_oldest(const char *user, const char *status,
    const struct cursor *c, int64_t limit, repo_article_fn *each, void *arg)
{
	return list_rows(&stmts[ART_LIST_OLDEST], user, status, c, limit, each,
	    arg);
}

enum db_status
repo_articles_search(const char *user, const char *q, const char *status,
    const struct cursor *c, bool oldest, int64_t limit, repo_article_fn *each,
    void *arg)
{
	char lim[24];
	bool from = c != NULL && c->present;
	PGresult *res;
	enum db_status e;
	int k;

	/* three characters make a trigram: the keyed search from there */
	if (utf8_len(q, strlen(q)) >= 3)
		k = oldest ? ART_SEARCH_OLDEST : ART_SEARCH;
	else
		k = oldest ? ART_SEARCH_SHORT_OLDEST : ART_SEARCH_SHORT;
	snprintf(lim, sizeof(lim), "%lld", (long long)limit);
	e = db_execv(&stmts[k], &res,
	    user, lim, q, status, from ? c->ts : NULL, from ? c->id : NULL);
	/* a list: no row is an empty page */
	return each_row(e == DB_EMPTY ? DB_OK : e, res, 0, each, arg);
}
