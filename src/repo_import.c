/*
 * repo_import.c - the SQL of import-json and assign-orphans (see
 * repo_import.h).  One-shot connection, PQexecParams, parameters always.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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

static const char *const existing_sql[] = {
	[IMPORT_ARTICLES] =
	    "SELECT a.id, a.user_id FROM unnest($1::uuid[]) AS i(id)"
	    " JOIN articles a ON a.id = i.id",
	[IMPORT_PIPELINES] =
	    "SELECT p.id, p.user_id FROM unnest($1::uuid[]) AS i(id)"
	    " JOIN pipelines p ON p.id = i.id",
};

/* The status of a result; logs what went wrong. */
static enum db_status
status_of(PGconn *c, PGresult *r, const char *what)
{
	ExecStatusType st = PQresultStatus(r);
	const char *state;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
	    st == PGRES_COPY_IN)
		return DB_OK;
	state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	log_warnx("%s: %s", what, r != NULL && *PQresultErrorMessage(r) ?
	    PQresultErrorMessage(r) : PQerrorMessage(c));
	if (PQstatus(c) != CONNECTION_OK)
		return DB_DOWN;
	if (state == NULL)
		return DB_ERROR;
	if (strcmp(state, "23505") == 0)
		return DB_UNIQUE;
	if (strcmp(state, "23503") == 0)
		return DB_FOREIGN;
	if (strcmp(state, "23514") == 0 || strncmp(state, "22", 2) == 0)
		return DB_CHECK;
	return DB_ERROR;
}

/* Run sql with params; *res gets the result on DB_OK when res is not NULL. */
static enum db_status
run(PGconn *c, const char *sql, int n, const char *const *params,
    PGresult **res, const char *what)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	enum db_status e = status_of(c, r, what);

	if (e == DB_OK && res != NULL)
		*res = r;
	else
		PQclear(r);
	return e;
}

PGconn *
repo_import_connect(const char *url, const char *cmd)
{
	PGconn *c;

	if ((c = db_connect_once(url)) == NULL) {
		fprintf(stderr, "blogposter %s: cannot connect to the database\n",
		    cmd);
		return NULL;
	}
	if (PQsetClientEncoding(c, "UTF8") != 0) {
		fprintf(stderr, "blogposter %s: cannot set the client encoding: "
		    "%s", cmd, PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

void
repo_import_close(PGconn *c)
{
	PQfinish(c);
}

enum db_status
repo_import_user(PGconn *c, const char *email, char id[37])
{
	const char *p[] = { email };
	PGresult *r;
	enum db_status e;

	e = run(c, "SELECT id FROM users WHERE email = lower($1)", 1, p, &r,
	    "owner lookup");
	if (e != DB_OK)
		return e;
	if (PQntuples(r) == 0)
		e = DB_EMPTY;
	else
		snprintf(id, 37, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return e;
}

enum db_status
repo_import_begin(PGconn *c, const char *owner, bool dry)
{
	const char *p[] = { owner };
	enum db_status e;

	e = run(c, dry ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" :
	    "BEGIN", 0, NULL, NULL, "begin");
	if (e == DB_OK)
		e = run(c, "SELECT pg_advisory_xact_lock(" IMPORT_LOCK ")", 0,
		    NULL, NULL, "import lock");
	/* NO KEY UPDATE: what a pipeline start or end of the owner takes */
	if (e == DB_OK && !dry)
		e = run(c, "SELECT 1 FROM users WHERE id = $1::uuid"
		    " FOR NO KEY UPDATE", 1, p, NULL, "owner lock");
	if (e != DB_OK)
		repo_import_rollback(c);
	return e;
}

enum db_status
repo_import_commit(PGconn *c)
{
	return run(c, "COMMIT", 0, NULL, NULL, "commit");
}

void
repo_import_rollback(PGconn *c)
{
	if (PQstatus(c) == CONNECTION_OK &&
	    PQtransactionStatus(c) != PQTRANS_IDLE)
		(void)run(c, "ROLLBACK", 0, NULL, NULL, "rollback");
}

enum db_status
repo_import_pgvector(PGconn *c, bool *pgvector)
{
	PGresult *r;
	enum db_status e;

	e = run(c, "SELECT bp_embedding_kind() = 'pgvector'", 0, NULL, &r,
	    "embedding kind");
	if (e == DB_OK) {
		*pgvector = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
	}
	return e;
}

enum db_status
repo_import_existing(PGconn *c, enum import_table t, const char *ids,
    void (*each)(void *, const char *, const char *), void *arg)
{
	const char *p[] = { ids };
	PGresult *r;
	enum db_status e;
	int i;

	if ((e = run(c, existing_sql[t], 1, p, &r, "existing ids")) != DB_OK)
		return e;
	for (i = 0; i < PQntuples(r); i++)
		each(arg, PQgetvalue(r, i, 0), PQgetisnull(r, i, 1) ? NULL :
		    PQgetvalue(r, i, 1));
	PQclear(r);
	return DB_OK;
}

enum db_status
repo_import_slugs(PGconn *c, const char *owner,
    void (*each)(void *, const char *), void *arg)
{
	const char *p[] = { owner };
	PGresult *r;
	enum db_status e;
	int i;

	e = run(c, "SELECT slug FROM articles WHERE user_id = $1::uuid", 1, p,
	    &r, "owner's slugs");
	if (e != DB_OK)
		return e;
	for (i = 0; i < PQntuples(r); i++)
		each(arg, PQgetvalue(r, i, 0));
	PQclear(r);
	return DB_OK;
}

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

static enum db_status
copy_put(PGconn *c, const char *data, size_t len)
{
	while (len > 0) {
		int k = len > (1 << 30) ? (1 << 30) : (int)len;

		if (PQputCopyData(c, data, k) != 1) {
			log_warnx("copy: %s", PQerrorMessage(c));
			return PQstatus(c) == CONNECTION_OK ? DB_ERROR : DB_DOWN;
		}
		data += k;
		len -= (size_t)k;
	}
	return DB_OK;
}

static enum db_status
copy_end(PGconn *c, long *rows)
{
	PGresult *r;
	enum db_status e;

	*rows = 0;
	if (PQputCopyEnd(c, NULL) != 1) {
		log_warnx("copy end: %s", PQerrorMessage(c));
		return PQstatus(c) == CONNECTION_OK ? DB_ERROR : DB_DOWN;
	}
	r = PQgetResult(c);
	e = status_of(c, r, "copy");
	if (e == DB_OK)
		*rows = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	/* drain: COPY has one result, then NULL */
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
	return e;
}

/* A COPY given up: ended with an error, so that the connection stays usable. */
static void
copy_abort(PGconn *c)
{
	PGresult *r;

	(void)PQputCopyEnd(c, "import aborted");
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
}

enum db_status
repo_import_copy(PGconn *c, enum import_table t,
    int (*next)(void *, const char **), void *arg, long *rows)
{
	const char *v[(int)IA__MAX > (int)IP__MAX ? IA__MAX : IP__MAX];
	int n = t == IMPORT_ARTICLES ? IA__MAX : IP__MAX, k;
	enum db_status e;
	struct buf b;

	*rows = 0;
	if ((e = run(c, copy_sql[t], 0, NULL, NULL, "copy")) != DB_OK)
		return e;
	buf_init(&b);
	while ((k = next(arg, v)) > 0) {
		copy_row(&b, v, n);
		if (b.len >= (size_t)COPY_CHUNK) {
			if ((e = copy_put(c, b.data, b.len)) != DB_OK)
				goto fail;
			buf_reset(&b, (size_t)COPY_CHUNK * 2);
		}
	}
	if (k < 0) {
		e = DB_ERROR;
		goto fail;
	}
	if (b.len > 0 && (e = copy_put(c, b.data, b.len)) != DB_OK)
		goto fail;
	buf_free(&b);
	return copy_end(c, rows);
fail:
	buf_free(&b);
	copy_abort(c);
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

enum db_status
repo_import_usage(PGconn *c, const char *owner, const char *months,
    bool dry, const char *add_articles, const char *add_costs,
    void (*each)(void *, const char *, const char *, const char *,
    const char *, const char *), void *arg)
{
	/* rebuilt from the runs in the database (the imported ones included) */
	static const char rebuild[] = USAGE_CTES
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
	    "  ORDER BY up.month";
	/* what the rebuild would give: the runs in the database plus the new */
	static const char preview[] = USAGE_CTES
	    " SELECT " TS("m.month") ", coalesce(o.articles_generated, 0),"
	    "        round(coalesce(o.total_cost, 0), 4),"
	    "        coalesce(r.articles, 0) + m.add_articles,"
	    "        round(coalesce(r.cost, 0) + m.add_cost, 4)"
	    "   FROM m LEFT JOIN runs r ON r.month = m.month"
	    "   LEFT JOIN old o ON o.month = m.month"
	    "  ORDER BY m.month";
	const char *p[] = { owner, months, add_articles, add_costs };
	PGresult *r;
	enum db_status e;
	int i;

	e = run(c, dry ? preview : rebuild, 4, p, &r, "usage rebuild");
	if (e != DB_OK)
		return e;
	for (i = 0; i < PQntuples(r); i++)
		each(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		    PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
	PQclear(r);
	return DB_OK;
}

enum db_status
repo_orphans_list(PGconn *c, void (*each)(void *, const char *, const char *),
    void *arg)
{
	PGresult *r;
	enum db_status e;
	int i;

	e = run(c, "SELECT id, slug FROM articles WHERE user_id IS NULL"
	    " ORDER BY created_at, id", 0, NULL, &r, "orphans");
	if (e != DB_OK)
		return e;
	for (i = 0; i < PQntuples(r); i++)
		each(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	PQclear(r);
	return DB_OK;
}

enum db_status
repo_orphans_assign(PGconn *c, const char *owner, const char *ids,
    const char *slugs, long *n)
{
	const char *p[] = { owner, ids, slugs };
	PGresult *r;
	enum db_status e;

	*n = 0;
	e = run(c, "UPDATE articles AS a SET user_id = $1::uuid, slug = o.slug"
	    "  FROM unnest($2::uuid[], $3::text[]) AS o(id, slug)"
	    " WHERE a.id = o.id AND a.user_id IS NULL", 3, p, &r,
	    "assign orphans");
	if (e == DB_OK) {
		*n = strtol(PQcmdTuples(r), NULL, 10);
		PQclear(r);
	}
	return e;
}
