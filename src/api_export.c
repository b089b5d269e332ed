/*
 * api_export.c - GET /api/v1/me/export: everything the caller owns as one
 * tar archive, in the layout of the file-based version that import-json
 * reads (DESIGN.md, "Legacy data"):
 *
 *   blogposter-export/articles/<id>.json    one article each, embedding included
 *   blogposter-export/pipelines/<id>.json   one pipeline run each
 *   blogposter-export/usage.json            the usage months (import-json
 *                                           rebuilds them from the runs)
 *
 * The archive is streamed: rows are read in pages (repo_export.c) inside
 * one snapshot, and each file goes into the FastCGI stream as soon as it
 * is written, so memory stays bounded by a page whatever the user owns.
 * The tar headers are written here (POSIX ustar).  Once the first byte is
 * sent the status cannot change: a failure later ends the stream without
 * the archive's end blocks, which every tar reader reports as truncated.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "auth.h"
#include "buf.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "repo_export.h"

#define EXPORT_DIR	"blogposter-export"
#define TAR_BLOCK	512

struct exporter {
	struct req	*r;
	struct buf	 file;		/* the file being written */
	long long	 mtime;
	bool		 ok;		/* false once the client is gone */
};

/* A ustar header for name (< 100 bytes), type '0' file or '5' directory. */
static void
tar_header(char h[TAR_BLOCK], const char *name, size_t size, char type,
    long long mtime)
{
	unsigned sum = 0;
	size_t i;

	memset(h, 0, TAR_BLOCK);
	snprintf(h, 100, "%s", name);
	snprintf(h + 100, 8, "%07o", type == '5' ? 0755 : 0644);
	snprintf(h + 108, 8, "%07o", 0);
	snprintf(h + 116, 8, "%07o", 0);
	snprintf(h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf(h + 136, 12, "%011llo", (unsigned long long)mtime);
	h[156] = type;
	memcpy(h + 257, "ustar", 6);	/* with its NUL */
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (i = 0; i < TAR_BLOCK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

static void
put(struct exporter *x, const void *p, size_t n)
{
	if (x->ok && !http_stream_write(x->r, p, n))
		x->ok = false;
}

/* One entry: header, x->file's bytes (type '0'), padding to a block. */
static void
entry(struct exporter *x, const char *name, char type)
{
	static const char zero[TAR_BLOCK];
	char h[TAR_BLOCK];
	size_t size = type == '0' ? x->file.len : 0;

	tar_header(h, name, size, type, x->mtime);
	put(x, h, sizeof(h));
	if (size > 0) {
		put(x, x->file.data, size);
		if (size % TAR_BLOCK != 0)
			put(x, zero, TAR_BLOCK - size % TAR_BLOCK);
	}
}

/* key: s, left out when NULL (import-json takes a missing field as null). */
static void
kstr(struct jw *w, const char *key, const char *s)
{
	if (s != NULL)
		jw_kstr(w, key, s);
}

static void
kraw(struct jw *w, const char *key, const char *s)
{
	if (s != NULL)
		jw_kraw(w, key, s);
}

/*
 * The embedding as a JSON array: pgvector prints "[1,2]", real[] prints
 * "{1,2}"; the numbers in between are JSON numbers either way.
 */
static void
kembedding(struct exporter *x, struct jw *w, const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) < 2)
		return;
	jw_key(w, "embedding");
	jw_raw(w, "[");		/* the value's start, for the writer's commas */
	buf_add(&x->file, s + 1, n - 2);
	buf_addc(&x->file, ']');
}

/* One article's file (repo_export_fn). */
static bool
article_file(void *arg, const char *const *c, int n)
{
	struct exporter *x = arg;
	char name[128];
	struct jw w;

	if (n < 14 || c[0] == NULL)
		return x->ok;
	buf_reset(&x->file, 1 << 20);
	jw_init(&w, &x->file);
	jw_obj(&w);
	kstr(&w, "id", c[0]);
	kstr(&w, "title", c[1]);
	kstr(&w, "slug", c[2]);
	kstr(&w, "content_markdown", c[3]);
	kstr(&w, "content_html", c[4]);
	kstr(&w, "meta_description", c[5]);
	kstr(&w, "primary_keyword", c[6]);
	kraw(&w, "seo_score", c[7]);
	kstr(&w, "status", c[8]);
	kraw(&w, "wp_post_id", c[9]);
	kstr(&w, "wp_url", c[10]);
	kembedding(x, &w, c[11]);
	kstr(&w, "created_at", c[12]);
	kstr(&w, "updated_at", c[13]);
	jw_end(&w, '}');
	buf_addc(&x->file, '\n');
	snprintf(name, sizeof(name), EXPORT_DIR "/articles/%s.json", c[0]);
	entry(x, name, '0');
	return x->ok;
}

/* One pipeline run's file (repo_export_fn). */
static bool
pipeline_file(void *arg, const char *const *c, int n)
{
	struct exporter *x = arg;
	char name[128];
	struct jw w;

	if (n < 8 || c[0] == NULL)
		return x->ok;
	buf_reset(&x->file, 1 << 20);
	jw_init(&w, &x->file);
	jw_obj(&w);
	kstr(&w, "id", c[0]);
	kstr(&w, "article_id", c[1]);
	kstr(&w, "status", c[2]);
	kstr(&w, "estimated_cost", c[3]);
	kstr(&w, "total_cost", c[4]);
	kstr(&w, "started_at", c[5]);
	kstr(&w, "completed_at", c[6]);
	kstr(&w, "error_message", c[7]);
	jw_end(&w, '}');
	buf_addc(&x->file, '\n');
	snprintf(name, sizeof(name), EXPORT_DIR "/pipelines/%s.json", c[0]);
	entry(x, name, '0');
	return x->ok;
}

/* One month of usage.json's items (repo_export_fn). */
static bool
usage_item(void *arg, const char *const *c, int n)
{
	struct jw *w = arg;

	if (n < 3)
		return true;
	jw_obj(w);
	jw_kstr(w, "month", c[0]);
	jw_kraw(w, "articles_generated", c[1]);
	jw_kstr(w, "total_cost", c[2]);
	jw_end(w, '}');
	return true;
}

static enum db_status
usage_file(struct exporter *x)
{
	enum db_status e;
	struct jw w;

	buf_reset(&x->file, 1 << 20);
	jw_init(&w, &x->file);
	jw_obj(&w);
	jw_key(&w, "items");
	jw_arr(&w);
	if ((e = repo_export_usage(x->r->user.id, usage_item, &w)) != DB_OK)
		return e;
	jw_end(&w, ']');
	jw_end(&w, '}');
	buf_addc(&x->file, '\n');
	entry(x, EXPORT_DIR "/usage.json", '0');
	return DB_OK;
}

/*
 * The archive, inside the export's transaction (one unit of work: it
 * cannot start over once bytes went out).  The headers are sent with the
 * first entry, so a failure before that (the transaction's BEGIN) is still
 * answered 503 or 500.  Returns DB_ROLLBACK (it wrote nothing to keep)
 * or the database failure that cut the archive short.
 */
static enum db_status
export_unit(void *arg)
{
	static const char zero[2 * TAR_BLOCK];
	struct exporter *x = arg;
	enum db_status e;
	char day[16];
	time_t now = (time_t)x->mtime;
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	http_header(x->r, "Content-Disposition",
	    "attachment; filename=\"blogposter-export-%s.tar\"", day);
	http_stream_begin(x->r, "application/x-tar");

	entry(x, EXPORT_DIR "/", '5');
	entry(x, EXPORT_DIR "/articles/", '5');
	entry(x, EXPORT_DIR "/pipelines/", '5');
	if ((e = usage_file(x)) == DB_OK &&
	    (e = repo_export_articles(x->r->user.id, article_file, x)) ==
	    DB_OK)
		e = repo_export_pipelines(x->r->user.id, pipeline_file, x);
	if (e == DB_OK && x->ok)
		put(x, zero, sizeof(zero));	/* the end of the archive */
	return e == DB_OK ? DB_ROLLBACK : e;	/* read only: nothing to keep */
}

void
api_me_export(struct req *r)
{
	struct exporter x;
	enum db_status e;

	/* The credential check before the first byte goes out. */
	auth_settle(r);
	if (!r->user.ok)
		return;
	memset(&x, 0, sizeof(x));
	x.r = r;
	x.ok = true;
	x.mtime = (long long)time(NULL);
	buf_init(&x.file);
	/* one snapshot, run once: bytes went out, it cannot start over */
	e = db_tx_run(DB_TX_READ_ONLY, 1, export_unit, &x);
	buf_free(&x.file);
	if (!r->streamed)
		http_db_failed(r, e);
	else if (e != DB_OK)
		log_warnx("export for user %s stopped: database error %d; "
		    "the archive is cut short", r->user.id, (int)e);
	else if (!x.ok)
		log_info("export for user %s: the client went away", r->user.id);
}
