/* repo_export.h - the reads of a user's export (repo_export.c). */
#ifndef BP_REPO_EXPORT_H
#define BP_REPO_EXPORT_H

#include <stdbool.h>

#include "db.h"

/* Rows per page of articles or pipelines. */
#define EXPORT_PAGE 500

extern const struct stmt_table repo_export_table;

/* The most columns a row of the export has. */
#define EXPORT_MAX_COLS 16

/*
 * Called with each row: cols[0..n) as text, NULL for SQL NULL, valid
 * during the call.  Returns false to stop (the client went away).
 */
typedef bool repo_export_fn(void *arg, const char *const *cols, int n);

/*
 * Every article / pipeline run of the user, newest first, page by page
 * (EXPORT_PAGE rows a statement), to each().  Run them inside one
 * read-only REPEATABLE READ transaction (db_tx_run) so that the pages
 * fit together.  Article columns: id, title, slug, content_markdown,
 * content_html, meta_description, primary_keyword, seo_score, status,
 * wp_post_id, wp_url, embedding (text of the array or vector),
 * created_at, updated_at (UTC, "Z").  Pipeline columns: id, article_id,
 * status, estimated_cost, total_cost, started_at, completed_at,
 * error_message.
 */
enum db_status repo_export_articles(const char *user, repo_export_fn *each,
    void *arg);
enum db_status repo_export_pipelines(const char *user, repo_export_fn *each,
    void *arg);
/* The usage months, oldest first: month, articles_generated, total_cost. */
enum db_status repo_export_usage(const char *user, repo_export_fn *each,
    void *arg);

#endif
