/*
 * repo_import.h - SQL of import-json and assign-orphans, on the command's
 * handle (db_open): prepared statements, and the COPY of the new rows.
 * They run inside the command's one transaction (db_tx_run); failures
 * are classified and logged by db.c.
 */
#ifndef BP_REPO_IMPORT_H
#define BP_REPO_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

enum import_table {
	IMPORT_ARTICLES,
	IMPORT_PIPELINES,
};

/* The columns of a COPY row of articles, in order. */
enum import_article_col {
	IA_ID, IA_USER_ID, IA_TITLE, IA_SLUG, IA_CONTENT_MARKDOWN,
	IA_CONTENT_HTML, IA_META_DESCRIPTION, IA_PRIMARY_KEYWORD, IA_SEO_SCORE,
	IA_STATUS, IA_WP_POST_ID, IA_WP_URL, IA_EMBEDDING, IA_CREATED_AT,
	IA_UPDATED_AT, IA__MAX
};

/* The columns of a COPY row of pipelines, in order. */
enum import_pipeline_col {
	IP_ID, IP_USER_ID, IP_ARTICLE_ID, IP_STATUS, IP_ESTIMATED_COST,
	IP_TOTAL_COST, IP_STARTED_AT, IP_COMPLETED_AT, IP_ERROR_MESSAGE,
	IP__MAX
};

/* The user with this (normalised) email: DB_OK with id, or DB_EMPTY. */
enum db_status repo_import_user(const char *email, char id[37]);

/*
 * In the import's transaction: take the import lock (one import or
 * assign-orphans at a time) and, not dry, lock the owner's row, which
 * holds back the owner's pipeline starts and ends (and so their usage
 * updates) until the end.  A dry run's transaction is READ ONLY.
 */
enum db_status repo_import_lock(const char *owner, bool dry);

/* Embeddings are pgvector's (else real[]): the COPY text of the column. */
enum db_status repo_import_pgvector(bool *pgvector);

/*
 * The rows of table whose id is in ids (a text array literal
 * "{uuid,...}"): each(arg, id, user_id), user_id NULL for an article that
 * has no owner.
 */
enum db_status repo_import_existing(enum import_table t,
    const char *ids, void (*each)(void *, const char *, const char *),
    void *arg);

/* The slugs of owner's articles: each(arg, slug). */
enum db_status repo_import_slugs(const char *owner,
    void (*each)(void *, const char *), void *arg);

/*
 * COPY into table the rows next gives: next(arg, vals) sets vals[0..n)
 * (n: IA__MAX or IP__MAX; NULL is SQL NULL; valid until the next call)
 * and returns 1, or returns 0 at the end, or -1 to give up (it said why:
 * DB_ERROR, the COPY ended with an error).  The rows are sent in chunks
 * of about 1 MiB.  *rows: the number the server stored.  DB_UNIQUE: a
 * row collided with one committed meanwhile (a slug the API just gave).
 * Whatever the outcome, the handle is left usable (the transaction
 * failed, unless DB_OK).
 */
enum db_status repo_import_copy(enum import_table t,
    int (*next)(void *, const char **), void *arg, long *rows);

/*
 * The owner's usage of the months in months (a date array literal
 * "{2024-01-01,...}").  Not dry: every one of those months is rebuilt
 * from all the owner's ended runs (cost of completed and failed runs,
 * completed runs as articles, by the UTC month of completed_at) and
 * written to api_usage.  Dry: nothing is written; the rebuilt values are
 * those of the runs in the database plus add_articles / add_costs (int
 * and numeric array literals, one per month: the runs about to be
 * imported).  each(arg, "YYYY-MM", old articles, old cost, new articles,
 * new cost) per month, in order; money with 4 decimals.
 */
enum db_status repo_import_usage(const char *owner,
    const char *months, bool dry, const char *add_articles,
    const char *add_costs,
    void (*each)(void *, const char *, const char *, const char *,
    const char *, const char *), void *arg);

/* Articles without an owner, oldest first: each(arg, id, slug). */
enum db_status repo_orphans_list(void (*each)(void *, const char *, const char *), void *arg);

/*
 * Give the articles ids (uuid array literal) to owner, each with the slug
 * at the same place in slugs (text array literal), if it still has no
 * owner.  *n: how many were given.
 */
enum db_status repo_orphans_assign(const char *owner,
    const char *ids, const char *slugs, long *n);

#endif
