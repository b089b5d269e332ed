/* repo_export.h - the reads of a user's export (repo_export.c). */
#ifndef BP_REPO_EXPORT_H
#define BP_REPO_EXPORT_H

#include <libpq-fe.h>

#include "db.h"

/* Rows per page of articles or pipelines. */
#define EXPORT_PAGE 500

extern const struct stmt_table repo_export_table;

/* A read-only REPEATABLE READ transaction for the whole export. */
enum db_status repo_export_begin(void);
/* Its end (a rollback: nothing was written). */
void repo_export_end(void);

/*
 * The next page of the user's articles / pipelines, newest first: the
 * first when prev is NULL, else the one after prev's last row.  DB_EMPTY
 * after the last page.  Article columns: id, title, slug,
 * content_markdown, content_html, meta_description, primary_keyword,
 * seo_score, status, wp_post_id, wp_url, embedding (text of the array or
 * vector), created_at, updated_at (UTC, "Z"), then the keyset column.
 * Pipeline columns: id, article_id, status, estimated_cost, total_cost,
 * started_at, completed_at, error_message, then the keyset column.
 */
enum db_status repo_export_articles(const char *user, PGresult *prev,
    PGresult **res);
enum db_status repo_export_pipelines(const char *user, PGresult *prev,
    PGresult **res);

/* Every usage month: month (YYYY-MM), articles_generated, total_cost. */
enum db_status repo_export_usage(const char *user, PGresult **res);

#endif
