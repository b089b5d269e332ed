/*
 * legacy.h - the JSON files of the file-based version (DESIGN.md, "Legacy
 * data"): one article or one pipeline run per file.
 *
 * The parsers here read one file's bytes and check every field with the
 * bounds the API applies to the same field (api_articles.c,
 * api_pipelines.c, validate.c), tolerating what real files look like: a
 * UTF-8 byte order mark, numbers given as strings, timestamps without a
 * zone (UTC) or with an offset (converted to UTC).  They touch no
 * database and no file, so that they can be fuzzed on their own.
 */
#ifndef BP_LEGACY_H
#define BP_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "money.h"

#define LEGACY_TITLE_MAX	500
#define LEGACY_META_MAX		320
#define LEGACY_KEYWORD_MAX	100
#define LEGACY_WP_URL_MAX	2048
#define LEGACY_ERROR_MAX	10000	/* pipelines' error_message */

/*
 * One article file.  The string pointers point into root (or into
 * embedding) and stay valid until legacy_article_free(); NULL is SQL NULL.
 */
struct legacy_article {
	json_object	*root;
	char		 id[37];	/* lower-case UUID; "" when the file has none */
	const char	*title;
	const char	*slug;		/* NULL: none given (make one from the title) */
	const char	*content_markdown, *content_html, *meta_description,
			*primary_keyword;
	const char	*seo_score;	/* number text for float8 (seo_buf) */
	const char	*status;	/* never NULL: "draft" when not given */
	const char	*wp_post_id;	/* points at wp_buf */
	const char	*wp_url;
	char		*embedding;	/* "x1,x2,..." without brackets (owned), or NULL */
	bool		 has_created, has_updated;
	int64_t		 created_us, updated_us;	/* UTC, microseconds since 1970 */
	char		 wp_buf[24];
	char		 seo_buf[32];
};

enum legacy_run_status {
	LEGACY_RUNNING,
	LEGACY_COMPLETED,
	LEGACY_FAILED,
};

/* One pipeline file; pointers as in struct legacy_article. */
struct legacy_pipeline {
	json_object		*root;
	char			 id[37];	/* "" when the file has none */
	char			 article_id[37];	/* "" when null or absent */
	enum legacy_run_status	 status;
	char			 estimated_cost[MONEY_MAX];	/* "0.0000" when absent */
	char			 total_cost[MONEY_MAX];	/* "0.0000" when absent */
	int64_t			 started_us;
	bool			 has_completed;
	int64_t			 completed_us;
	const char		*error_message;
};

/*
 * Parse and check one article file, data[0..len).  On success fills *out
 * (release with legacy_article_free) and returns true.  Otherwise writes
 * the reason to reason (e.g. "not JSON: truncated", "title is missing",
 * "seo_score must be a number from 0 to 100") and returns false; *out then
 * holds nothing to free, except that out->id is set when the file has a
 * readable id (so that a duplicate can still be named).
 */
bool legacy_parse_article(const char *data, size_t len,
    struct legacy_article *out, char *reason, size_t rsz);
void legacy_article_free(struct legacy_article *a);

/* The same for a pipeline file. */
bool legacy_parse_pipeline(const char *data, size_t len,
    struct legacy_pipeline *out, char *reason, size_t rsz);
void legacy_pipeline_free(struct legacy_pipeline *p);

const char *legacy_run_status_name(enum legacy_run_status s);

/*
 * The id given to a file that has none: the MD5 of the owner's id (the
 * lower-case UUID text), a colon and the file's path relative to the
 * data directory ("articles/x.json"), written as a UUID (the 32 hex
 * digits in 8-4-4-4-12 groups), which is what PostgreSQL's
 * md5(owner_id || ':' || path)::uuid gives.  The same file imported for
 * the same owner gets the same id on every run; the same path in another
 * owner's folder gets another.
 */
void legacy_path_id(const char *owner, const char *relpath, char out[37]);

/*
 * The id the first releases gave such a file: md5(path)::uuid, without
 * the owner.  Only to recognise rows those releases imported.
 */
void legacy_path_id_v1(const char *relpath, char out[37]);

#endif
