/*
 * repo_import.c - the SQL of import-json and assign-orphans (see
 * repo_import.h): prepared statements on the command's handle (db.h), and
 * the COPY of the new rows.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db_stmt.h"
#include "log.h"
#include "repo_import.h"

/*
 * pg_advisory_xact_lock key of import-json and assign-orphans (migrate
 * uses 726267): two imports never interleave their checks and writes.
 */
#define IMPORT_LOCK	"726268"

/* COPY data is sent in chunks of about this size. */
#define COPY_CHUNK	(1L << 20)

#define TS(c)	"to_char(" c ", 'YYYY-MM')"

static const char *const copy_sql[] = {
	[IMPORT_ARTICLES] =
	    "COPY articles (id, user_id, title, slug, content_markdown,"
	    " content_html, meta_description, primary_keyword, seo_score,"
	    " status, wp_post_id, wp_url, embedding, created_at, updated_at)"
	    " FROM STDIN",
	[IMPORT_PIPELINES] =
	    "COPY pipelines (id, user_id, article_id, status, estimated_cost,"
	    " total_cost, started_at, completed_at, error_message)"
	    " FROM STDIN",
};

/* COPY's text format: backslash, newline, carriage return and tab escaped. */
static void
copy_escape(struct buf *b, const char *s)
{
	const char *run0 = s;

	for (; *s != '\0'; s++) {
		const char *esc;

		switch (*s) {
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default: continue;
		}
		buf_add(b, run0, (size_t)(s - run0));
		buf_add(b, esc, 2);
		run0 = s + 1;
	}
	buf_add(b, run0, (size_t)(s - run0));
}

static void
copy_row(struct buf *b, const char *const *vals, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(b, '\t');
		if (vals[i] == NULL)
			buf_add(b, "\\N", 2);
		else
			copy_escape(b, vals[i]);
	}
	buf_addc(b, '\n');
}

enum db_status
repo_import_copy(enum import_table t, int (*next)(void *, const char **),
    void *arg, long *rows)
{
	const char *v[(int)IA__MAX > (int)IP__MAX ? IA__MAX : IP__MAX];
	int n = t == IMPORT_ARTICLES ? IA__MAX : IP__MAX, k;
	enum db_status e;
	struct buf b;

	*rows = 0;
	if ((e = db_copy_begin(copy_sql[t])) != DB_OK)
		return e;
	buf_init(&b);
	while ((k = next(arg, v)) > 0) {
		copy_row(&b, v, n);
		if (b.len >= (size_t)COPY_CHUNK) {
			if ((e = db_copy_put(b.data, b.len)) != DB_OK)
				goto fail;
			buf_reset(&b, (size_t)COPY_CHUNK * 2);
		}
	}
	if (k < 0) {
		e = DB_ERROR;
		goto fail;
	}
	if (b.len > 0 && (e = db_copy_put(b.data, b.len)) != DB_OK)
		goto fail;
	buf_free(&b);
	return db_copy_end(rows);
fail:
	buf_free(&b);
	db_copy_abort("import aborted");
	return e;
}

/*
 * The owner's ended runs by UTC month of completed_at; the months asked
 * for; and what api_usage has for them now.
 */
#define USAGE_CTES							\
	"WITH m AS ("							\
	"  SELECT * FROM unnest($2::date[], $3::int[], $4::numeric[])"	\
	"    AS m(month, add_articles, add_cost)"			\
	"), runs AS ("							\
	"  SELECT date_trunc('month', p.completed_at AT TIME ZONE 'UTC')::date"	\
	"           AS month,"						\
	"         count(*) FILTER (WHERE p.status = 'completed') AS articles,"	\
	"         sum(p.total_cost) AS cost"				\
	"    FROM pipelines p"						\
	"   WHERE p.user_id = $1::uuid"					\
	"     AND p.status IN ('completed', 'failed')"			\
	"   GROUP BY 1"							\
	"), old AS ("							\
	"  SELECT u.month, u.articles_generated, u.total_cost"		\
	"    FROM api_usage u JOIN m ON m.month = u.month"		\
	"   WHERE u.user_id = $1::uuid"					\
	")"

/* The statements, in the order of this enum. */
enum {
	S_OWNER,
	S_LOCK,
	S_OWNER_LOCK,
	S_PGVECTOR,
	S_EXISTING_ARTICLES,
	S_EXISTING_PIPELINES,
	S_SLUGS,
	S_USAGE_REBUILD,
	S_USAGE_PREVIEW,
	S_ORPHANS,
	S_ORPHANS_ASSIGN,
	S__MAX
};

static const struct stmt stmts[S__MAX] = {
	/* S_OWNER */
	{ "import_owner", "SELECT id FROM users WHERE email = lower($1)", 1,
	  DB_ROWS },
	/* S_LOCK: one import or assign-orphans at a time */
	{ "import_lock", "SELECT pg_advisory_xact_lock(" IMPORT_LOCK ")", 0,
	  DB_ROWS },
	/* S_OWNER_LOCK: NO KEY UPDATE, what a pipeline start or end takes */
	{ "import_owner_lock", "SELECT 1 FROM users WHERE id = $1::uuid"
	  " FOR NO KEY UPDATE", 1, DB_ROWS },
	/* S_PGVECTOR */
	{ "import_pgvector", "SELECT bp_embedding_kind() = 'pgvector'", 0,
	  DB_ROWS },
	/* S_EXISTING_ARTICLES */
	{ "import_existing_articles",
	  "SELECT a.id, a.user_id FROM unnest($1::uuid[]) AS i(id)"
	  " JOIN articles a ON a.id = i.id", 1, DB_ROWS },
	/* S_EXISTING_PIPELINES */
	{ "import_existing_pipelines",
	  "SELECT p.id, p.user_id FROM unnest($1::uuid[]) AS i(id)"
	  " JOIN pipelines p ON p.id = i.id", 1, DB_ROWS },
	/* S_SLUGS */
	{ "import_slugs", "SELECT slug FROM articles WHERE user_id = $1::uuid",
	  1, DB_ROWS },
	/* S_USAGE_REBUILD: from the runs in the database, the imported ones included */
	{ "import_usage_rebuild", USAGE_CTES
	  ", up AS ("
	  "  INSERT INTO api_usage AS u (user_id, month, articles_generated,"
	  "                              total_cost)"
	  "  SELECT $1::uuid, m.month, coalesce(r.articles, 0),"
	  "         coalesce(r.cost, 0)"
	  "    FROM m LEFT JOIN runs r ON r.month = m.month"
	  "  ON CONFLICT (user_id, month) DO UPDATE"
	  "     SET articles_generated = excluded.articles_generated,"
	  "         total_cost = excluded.total_cost"
	  "  RETURNING u.month, u.articles_generated, u.total_cost"
	  ")"
	  " SELECT " TS("up.month") ", coalesce(o.articles_generated, 0),"
	  "        round(coalesce(o.total_cost, 0), 4),"
	  "        up.articles_generated, round(up.total_cost, 4)"
	  "   FROM up LEFT JOIN old o ON o.month = up.month"
	  "  ORDER BY up.month", 4, DB_ROWS },
	/* S_USAGE_PREVIEW: what the rebuild would give, with the new runs */
	{ "import_usage_preview", USAGE_CTES
	  " SELECT " TS("m.month") ", coalesce(o.articles_generated, 0),"
	  "        round(coalesce(o.total_cost, 0), 4),"
	  "        coalesce(r.articles, 0) + m.add_articles,"
	  "        round(coalesce(r.cost, 0) + m.add_cost, 4)"
	  "   FROM m LEFT JOIN runs r ON r.month = m.month"
	  "   LEFT JOIN old o ON o.month = m.month"
	  "  ORDER BY m.month", 4, DB_ROWS },
	/* S_ORPHANS */
	{ "import_orphans", "SELECT id, slug FROM articles WHERE user_id IS NULL"
	  " ORDER BY created_at, id", 0, DB_ROWS },
	/* S_ORPHANS_ASSIGN */
	{ "import_orphans_assign",
	  "UPDATE articles AS a SET user_id = $1::uuid, slug = o.slug"
	  "  FROM unnest($2::uuid[], $3::text[]) AS o(id, slug)"
	  " WHERE a.id = o.id AND a.user_id IS NULL", 3, DB_CMD },
};

/* e, with DB_EMPTY (no row) as success: the rows, if any, are in *r. */
static enum db_status
rows_ok(enum db_status e)
{
	return e == DB_EMPTY ? DB_OK : e;
}

enum db_status
repo_import_user(const char *email, char id[37])
{
	PGresult *r;
	enum db_status e;

	if ((e = db_execv(&stmts[S_OWNER], &r, email)) == DB_OK)
		snprintf(id, 37, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return e;
}

enum db_status
repo_import_lock(const char *owner, bool dry)
{
	PGresult *r;
	enum db_status e;

	e = db_execv(&stmts[S_LOCK], &r);
	PQclear(r);
	if (e == DB_OK && !dry) {
		e = db_execv(&stmts[S_OWNER_LOCK], &r, owner);
		PQclear(r);
	}
	return e;
}

enum db_status
repo_import_pgvector(bool *pgvector)
{
	PGresult *r;
	enum db_status e;

	if ((e = db_execv(&stmts[S_PGVECTOR], &r)) == DB_OK)
		*pgvector = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return e;
}

enum db_status
repo_import_existing(enum import_table t, const char *ids,
    void (*each)(void *, const char *, const char *), void *arg)
{
	PGresult *r;
	enum db_status e;
	int i;

	e = rows_ok(db_execv(&stmts[t == IMPORT_ARTICLES ?
	    S_EXISTING_ARTICLES : S_EXISTING_PIPELINES], &r, ids));
	for (i = 0; e == DB_OK && r != NULL && i < PQntuples(r); i++)
		each(arg, PQgetvalue(r, i, 0), db_col(r, i, 1));
	PQclear(r);
	return e;
}

enum db_status
repo_import_slugs(const char *owner, void (*each)(void *, const char *),
    void *arg)
{
	PGresult *r;
	enum db_status e;
	int i;

	e = rows_ok(db_execv(&stmts[S_SLUGS], &r, owner));
	for (i = 0; e == DB_OK && r != NULL && i < PQntuples(r); i++)
		each(arg, PQgetvalue(r, i, 0));
	PQclear(r);
	return e;
}

enum db_status
repo_import_usage(const char *owner, const char *months, bool dry,
    const char *add_articles, const char *add_costs,
    void (*each)(void *, const char *, const char *, const char *,
    const char *, const char *), void *arg)
{
	PGresult *r;
	enum db_status e;
	int i;

	e = rows_ok(db_execv(&stmts[dry ? S_USAGE_PREVIEW : S_USAGE_REBUILD],
	    &r, owner, months, add_articles, add_costs));
	for (i = 0; e == DB_OK && r != NULL && i < PQntuples(r); i++)
		each(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		    PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
	PQclear(r);
	return e;
}

enum db_status
repo_orphans_list(void (*each)(void *, const char *, const char *), void *arg)
{
	PGresult *r;
	enum db_status e;
	int i;

	e = rows_ok(db_execv(&stmts[S_ORPHANS], &r));
	for (i = 0; e == DB_OK && r != NULL && i < PQntuples(r); i++)
		each(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	PQclear(r);
	return e;
}

enum db_status
repo_orphans_assign(const char *owner, const char *ids, const char *slugs,
    long *n)
{
	PGresult *r;
	enum db_status e;

	*n = 0;
	e = rows_ok(db_execv(&stmts[S_ORPHANS_ASSIGN], &r, owner, ids, slugs));
	if (e == DB_OK && r != NULL)
		*n = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return e;
}
