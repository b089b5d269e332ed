/*
 * api_articles.c - /api/v1/articles: the caller's own articles.
 *
 * Another user's article and an id that is not a UUID are both 404: the
 * API never tells that someone else's resource exists.  The embedding is
 * write-only; has_embedding says whether one is set.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "api.h"
#include "api_list.h"
#include "buf.h"
#include "config.h"
#include "cursor.h"
#include "http.h"
#include "idempotency.h"
#include "isotime.h"
#include "json.h"
#include "repo.h"
#include "slug.h"
#include "util.h"
#include "validate.h"

#define RELATED_DEFAULT	5
#define RELATED_MAX	50
#define SLUG_TRIES	10	/* a free slug taken by a concurrent insert */
#define CONTENT_MAX	INT32_MAX	/* the body limit is the real bound */
#define WP_URL_MAX	2048
#define SEARCH_MAX	200	/* characters of ?q= */

static const char *const statuses[] = {
	"draft", "scheduled", "published", "archived", NULL
};

/* The writable fields, in enum article_field order (repo.h). */
#define ARTICLE_FIELDS(title_required) {				\
	{ "title", FT_STRING, title_required, false, 1, 500, NULL },	\
	{ "slug", FT_SLUG, false, false, 1, SLUG_MAX, NULL },		\
	{ "content_markdown", FT_STRING, false, true, 0, CONTENT_MAX, NULL }, \
	{ "content_html", FT_STRING, false, true, 0, CONTENT_MAX, NULL }, \
	{ "meta_description", FT_STRING, false, true, 0, 320, NULL },	\
	{ "primary_keyword", FT_STRING, false, true, 0, 100, NULL },	\
	{ "seo_score", FT_NUMBER, false, true, 0, 100, NULL },		\
	{ "status", FT_ENUM, false, false, 0, 0, statuses },		\
	{ "wp_post_id", FT_INT, false, true, INT64_MIN, INT64_MAX, NULL }, \
	{ "wp_url", FT_URL, false, true, 0, WP_URL_MAX, NULL },		\
	{ "embedding", FT_EMBEDDING, false, true, 0, 0, NULL },		\
}

static const struct field create_fields[AF__MAX] = ARTICLE_FIELDS(true);
static const struct field update_fields[AF__MAX] = ARTICLE_FIELDS(false);
const struct fieldset api_articles_create_body = { create_fields, AF__MAX };
const struct fieldset api_articles_update_body = { update_fields, AF__MAX };

static void
to_input(const struct fval *v, struct article_in *in)
{
	int f;

	memset(in, 0, sizeof(*in));
	for (f = 0; f < AF__MAX; f++) {
		if (!v[f].present)
			continue;
		in->mask |= 1u << f;
		if (v[f].is_null)
			in->v[f] = NULL;
		else if (f == AF_WP_POST_ID)
			in->v[f] = NULL;	/* set by the caller: needs a buffer */
		else
			in->v[f] = v[f].s;
	}
}

/* A float8 as PostgreSQL writes it, when it is also a JSON number. */
static bool
json_number(const char *s)
{
	if (s == NULL)
		return false;
	if (*s == '-')
		s++;
	return *s >= '0' && *s <= '9';
}

/* One article; full adds the contents. */
static void
article_write(struct jw *w, const struct article_row *a, bool full)
{
	jw_obj(w);
	jw_kstr(w, "id", a->id);
	jw_kstr(w, "title", a->title);
	jw_kstr(w, "slug", a->slug);
	if (full) {
		jw_kstr(w, "content_markdown", a->content_markdown);
		jw_kstr(w, "content_html", a->content_html);
	}
	jw_kstr(w, "meta_description", a->meta_description);
	jw_kstr(w, "primary_keyword", a->primary_keyword);
	jw_kraw(w, "seo_score", json_number(a->seo_score) ? a->seo_score : NULL);
	jw_kstr(w, "status", a->status);
	jw_kraw(w, "wp_post_id", a->wp_post_id);
	jw_kstr(w, "wp_url", a->wp_url);
	jw_kbool(w, "has_embedding", a->has_embedding);
	jw_ktime(w, "created_at", a->created_at);
	jw_ktime(w, "updated_at", a->updated_at);
	if (a->distance != NULL)
		jw_kraw(w, "distance", a->distance);
	jw_end(w, '}');
}

/* How to answer with one article (repo_article_fn answer_article). */
struct answer {
	struct req	*r;
	int		 status;	/* 200, 201 */
	bool		 location;	/* with its Location header */
};

/*
 * The ETag of an article: its updated_at with the microseconds, which the
 * JSON leaves out ("2026-11-27T02:39:45.123456Z"), for If-Match.
 */
static void
etag_header(struct req *r, const char *updated_pg)
{
	char rfc[ISOTIME_RFC3339_MAX];
	int64_t us;

	if (updated_pg == NULL || !isotime_parse(updated_pg, &us))
		return;
	isotime_format_rfc3339(us, rfc);
	rfc[strlen(rfc) - 1] = '\0';		/* the Z, put back after */
	http_header(r, "ETag", "\"%s.%06lldZ\"", rfc,
	    (long long)(((us % US_PER_SEC) + US_PER_SEC) % US_PER_SEC));
}

/* Answer with the full article, and its ETag. */
static void
answer_article(void *arg, const struct article_row *a)
{
	const struct answer *an = arg;
	struct req *r = an->r;
	struct jw w;

	jw_init(&w, &r->out);
	article_write(&w, a, true);
	http_status(r, an->status);
	if (an->location)
		http_header(r, "Location", "/api/v1/articles/%s", a->id);
	etag_header(r, a->updated_at);
}

/*
 * The If-Match header of a PATCH: the article's ETag, or its updated_at as
 * the JSON shows it, in double quotes.  Returns 1 with loaded (PostgreSQL's
 * form) and *exact (microseconds given) set, 0 without the header, -1
 * when it was malformed and answered 400.
 */
static int
if_match(struct req *r, char loaded[ISOTIME_PG_MAX], bool *exact)
{
	const char *h = http_param(r, "HTTP_IF_MATCH");
	char v[64];
	size_t n;
	int64_t us;

	if (h == NULL)
		return 0;
	n = strlen(h);
	if (n < 3 || n >= sizeof(v) + 2 || h[0] != '"' || h[n - 1] != '"')
		goto bad;
	memcpy(v, h + 1, n - 2);
	v[n - 2] = '\0';
	if (strchr(v, 'T') == NULL || v[n - 3] != 'Z' ||
	    !isotime_parse(v, &us))
		goto bad;
	isotime_format_pg(us, loaded);
	*exact = strchr(v, '.') != NULL;
	return 1;
bad:
	http_fail(r, ERR_VALIDATION, "If-Match", "If-Match must be the "
	    "article's ETag or its updated_at, in double quotes");
	return -1;
}

/* A list row: the summary of an article. */
static void
article_item(void *arg, const struct article_row *a)
{
	struct jw *w = api_list_item(arg, a->created_at, a->id);

	if (w != NULL)
		article_write(w, a, false);
}

void
api_articles_list(struct req *r)
{
	int64_t limit;
	const char *status;
	struct cursor c;
	struct list_page page;
	enum db_status e;
	const char *order, *q;
	bool bad, oldest;

	if (!api_list_query(r, statuses, &limit, &status, &c))
		return;
	/* ?order=newest (the default) or oldest */
	order = http_query(r, "order", &bad);
	if (bad)
		return;
	oldest = order != NULL && strcmp(order, "oldest") == 0;
	if (order != NULL && !oldest && strcmp(order, "newest") != 0) {
		http_fail(r, ERR_VALIDATION, "order",
		    "order must be one of: newest, oldest");
		return;
	}
	/* ?q=: the title contains it (an empty one filters nothing) */
	q = http_query(r, "q", &bad);
	if (bad)
		return;
	if (q != NULL && utf8_len(q, strlen(q)) > SEARCH_MAX) {
		http_fail(r, ERR_VALIDATION, "q",
		    "q must be at most %d characters", SEARCH_MAX);
		return;
	}
	api_list_begin(&page, r, limit);
	if (q != NULL && *q != '\0')
		e = repo_articles_search(r->user.id, q, status, &c, oldest,
		    limit + 1, article_item, &page);
	else
		e = (oldest ? repo_articles_list_oldest : repo_articles_list)(
		    r->user.id, status, &c, limit + 1, article_item, &page);
	if (e != DB_OK) {
		http_db_failed(r, e);
		return;
	}
	api_list_end(&page);
}

struct create_args {
	const struct idem	*k;
	const struct article_in	*in;
	const char		*base;
};

/* 409 article_limit_reached: the user has used of MAX_STORED_ARTICLES_PER_USER. */
static void
stored_limit_reached(struct req *r, int64_t used)
{
	struct jw *w;

	w = http_fail_open(r, ERR_ARTICLE_LIMIT, NULL, "you have "
	    "reached the number of articles this server stores for one "
	    "account: delete some to create more");
	jw_key(w, "details");
	jw_obj(w);
	jw_kstr(w, "limit", "stored_articles");
	jw_kint(w, "used", used);
	jw_kint(w, "max", cfg.max_stored_articles);
	jw_end(w, '}');
	http_fail_close(r);
}

/*
 * One attempt at the create transaction (http_tx).  DB_OK: created and
 * answered; DB_ROLLBACK: answered (replayed, or refused); otherwise
 * nothing is answered.  The user's row lock, the one pipeline starts
 * take, goes in one round trip with the insert, which checks the stored
 * limit itself: concurrent creates never pass it.  Without an
 * Idempotency-Key the insert is the last statement and carries the
 * COMMIT: an insert that inserted nothing wrote nothing.  Either way the
 * insert says why it inserted nothing (the limit comes before the slug),
 * from the snapshot it acted on: a refusal is one round trip too.
 */
static enum db_status
create_tx(struct req *r, const void *arg)
{
	const struct create_args *a = arg;
	const struct idem *k = a->k;
	const struct article_in *in = a->in;
	const char *base = a->base;
	struct answer an = { r, 201, true };
	struct article_create cr;
	bool explicit = (in->mask & (1u << AF_SLUG)) != 0;
	enum db_status e;
	int tries;

	switch (idem_claim(r, k, &e)) {
	case IDEM_GO:
		break;
	case IDEM_DONE:
		return DB_ROLLBACK;
	case IDEM_ERR:
		return e;
	}
	for (tries = 0; tries < SLUG_TRIES; tries++) {
		if ((e = repo_pipelines_lock_user(r->user.id)) != DB_OK)
			return e;
		if (!k->active)
			db_commit_next();
		e = repo_articles_create(r->user.id, base, in,
		    cfg.max_stored_articles, &cr, answer_article, &an);
		if (e != DB_EMPTY)
			break;
		if (!cr.below) {
			stored_limit_reached(r, cr.used);
			return DB_ROLLBACK;
		}
		e = DB_UNIQUE;
		if (explicit)
			break;
	}
	if (e == DB_DENIED) {
		http_fail(r, ERR_UNAUTHORIZED, NULL, "the credentials are no "
		    "longer valid");
		return DB_ROLLBACK;
	}
	if (e == DB_UNIQUE) {
		if (explicit)
			http_fail(r, ERR_SLUG_TAKEN, "slug",
			    "you already have an "
			    "article with this slug");
		else
			http_fail(r, ERR_CONFLICT, "slug", "no free slug found; "
			    "retry");
		return DB_ROLLBACK;
	}
	if (e != DB_OK)
		return e;
	if (k->active)
		db_commit_next();
	return idem_store(r, k);
}

void
api_articles_create(struct req *r)
{
	const struct fval *v = r->in;
	struct article_in in;
	struct idem k;
	char base[SLUG_MAX + 1], wp[24];
	struct create_args a = { &k, &in, base };

	to_input(v, &in);
	if (v[AF_WP_POST_ID].present && !v[AF_WP_POST_ID].is_null) {
		snprintf(wp, sizeof(wp), "%lld", (long long)v[AF_WP_POST_ID].i);
		in.v[AF_WP_POST_ID] = wp;
	}
	slug_from_title(in.v[AF_TITLE], base);
	if (!idem_prepare(r, &k))
		return;
	http_tx(r, create_tx, &a);
}

void
api_articles_get(struct req *r)
{
	const char *id = r->id;
	struct answer an = { r, 200, false };
	enum db_status e;

	if ((e = repo_articles_get(r->user.id, id, answer_article, &an)) ==
	    DB_EMPTY) {
		http_fail(r, ERR_NOT_FOUND, NULL, NULL);
		return;
	}
	if (e != DB_OK) {
		http_db_failed(r, e);
		return;
	}
}

/* A row that only says the article exists (repo_article_fn). */
static void
exists_row(void *arg, const struct article_row *a)
{
	(void)arg;
	(void)a;
}

void
api_articles_update(struct req *r)
{
	const char *id = r->id;
	char wp[24];
	const struct fval *v = r->in;
	struct article_in in;
	struct answer an = { r, 200, false };
	enum db_status e;
	char loaded[ISOTIME_PG_MAX];
	bool exact = false;
	int cond;

	to_input(v, &in);
	if (v[AF_WP_POST_ID].present && !v[AF_WP_POST_ID].is_null) {
		snprintf(wp, sizeof(wp), "%lld", (long long)v[AF_WP_POST_ID].i);
		in.v[AF_WP_POST_ID] = wp;
	}
	if ((cond = if_match(r, loaded, &exact)) < 0)
		return;
	/* nothing to change: the article as it is, updated_at untouched */
	if (cond)
		e = repo_articles_update_if(r->user.id, id, &in, loaded, exact,
		    answer_article, &an);
	else if (in.mask == 0)
		e = repo_articles_get(r->user.id, id, answer_article, &an);
	else
		e = repo_articles_update(r->user.id, id, &in, answer_article,
		    &an);
	/* no row under the precondition: gone, or changed meanwhile */
	if (e == DB_EMPTY && cond &&
	    (e = repo_articles_get(r->user.id, id, exists_row, NULL)) == DB_OK) {
		http_fail(r, ERR_CONFLICT, NULL, "the article changed since "
		    "it was loaded; load it again and redo the change");
		return;
	}
	switch (e) {
	case DB_OK:
		return;
	case DB_EMPTY:
		http_fail(r, ERR_NOT_FOUND, NULL, NULL);
		return;
	case DB_UNIQUE:
		http_fail(r, ERR_SLUG_TAKEN, "slug",
		    "you already have an article "
		    "with this slug");
		return;
	default:
		http_db_failed(r, e);
		return;
	}
}

void
api_articles_delete(struct req *r)
{
	const char *id = r->id;
	enum db_status e;

	if ((e = repo_articles_delete(r->user.id, id)) == DB_EMPTY)
		http_fail(r, ERR_NOT_FOUND, NULL, NULL);
	else if (e != DB_OK)
		http_db_failed(r, e);
	else
		http_no_content(r);
}

/* The related articles being written. */
struct related {
	struct req	*r;
	struct jw	 w;
	bool		 started, done;
};

static void
related_start(struct related *rel)
{
	if (rel->started)
		return;
	rel->started = true;
	jw_init(&rel->w, &rel->r->out);
	jw_obj(&rel->w);
	jw_key(&rel->w, "items");
	jw_arr(&rel->w);
}

/* One neighbour, nearest first. */
static void
related_item(void *arg, const struct article_row *a)
{
	struct related *rel = arg;

	related_start(rel);
	/* no distance (NaN, infinite): these sort last */
	if (rel->done || !json_number(a->distance)) {
		rel->done = true;
		return;
	}
	article_write(&rel->w, a, false);
}

void
api_articles_related(struct req *r)
{
	const char *id = r->id;
	int64_t limit;
	struct related rel = { r, { 0 }, false, false };
	enum db_status e;

	if (!validate_limit(r, "limit", RELATED_DEFAULT, RELATED_MAX, &limit))
		return;
	if ((e = repo_articles_related(r->user.id, id, limit, related_item,
	    &rel)) == DB_EMPTY) {
		http_fail(r, ERR_NOT_FOUND, NULL, NULL);
		return;
	}
	if (e != DB_OK) {
		http_db_failed(r, e);
		return;
	}
	related_start(&rel);
	jw_end(&rel.w, ']');
	jw_end(&rel.w, '}');
	http_status(r, 200);
}
