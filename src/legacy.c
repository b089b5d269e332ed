/*
 * legacy.c - parsing and checking the legacy JSON files (see legacy.h).
 *
 * The field rules are the API's (api_articles.c's field table,
 * api_pipelines.c, validate.c); where validate.c has a rule as a function
 * of a value (validate_slug, validate_number, validate_money,
 * validate_embedding, validate_is_http_url), it is called here, so that
 * the two cannot drift apart.  Where a legacy file needs more tolerance
 * than a request body gets, the difference is said at the field.
 */
#include "autoconf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "digest.h"
#include "isotime.h"
#include "json.h"
#include "legacy.h"
#include "log.h"
#include "slug.h"
#include "util.h"
#include "validate.h"

/* ---------------------------------------------------------------- ids */

void
legacy_path_id(const char *owner, const char *relpath, char out[37])
{
	unsigned char d[MD5_LEN];
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%s:%s", owner, relpath);
	digest_md5(b.data, b.len, d);
	buf_free(&b);
	uuid_format(d, out);
}

void
legacy_path_id_v1(const char *relpath, char out[37])
{
	unsigned char d[MD5_LEN];

	digest_md5(relpath, strlen(relpath), d);
	uuid_format(d, out);
}

/* ---------------------------------------------------------------- checks */

static bool
failf(char *reason, size_t rsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
failf(char *reason, size_t rsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, rsz, fmt, ap);
	va_end(ap);
	return false;
}

/*
 * A number written as a string ("85", "12.5", "-3", "1e2"): optional '-',
 * digits, optional fraction, optional exponent.  No blanks.
 */
static bool
is_number_text(const char *s)
{
	if (*s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* The number's text as the file wrote it (json-c keeps it for doubles). */
static const char *
number_text(json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

/* The member name of root, or NULL when absent or null. */
static json_object *
member(json_object *root, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(root, name, &v) ||
	    json_object_get_type(v) == json_type_null)
		return NULL;
	return v;
}

/*
 * A string member: NULL in *out when absent or null; its length in
 * characters must be in [min, max].
 */
static bool
get_string(json_object *root, const char *name, long min, long max,
    const char **out, char *reason, size_t rsz)
{
	json_object *v = member(root, name);
	const char *s;
	long n;

	*out = NULL;
	if (v == NULL)
		return true;
	if (json_object_get_type(v) != json_type_string)
		return failf(reason, rsz, "%s must be a string", name);
	s = json_object_get_string(v);
	if ((n = utf8_len(s, (size_t)json_object_get_string_len(v))) < 0)
		return failf(reason, rsz, "%s must be valid UTF-8", name);
	if (n < min || n > max) {
		if (min > 0)
			return failf(reason, rsz, "%s must be %ld to %ld "
			    "characters (has %ld)", name, min, max, n);
		return failf(reason, rsz, "%s must be at most %ld characters "
		    "(has %ld)", name, max, n);
	}
	*out = s;
	return true;
}

/* A UUID member, lower-cased into out ("" when absent or null). */
static bool
get_uuid(json_object *root, const char *name, char out[37], char *reason,
    size_t rsz)
{
	json_object *v = member(root, name);
	const char *s;
	int i;

	out[0] = '\0';
	if (v == NULL)
		return true;
	s = json_object_get_type(v) == json_type_string ?
	    json_object_get_string(v) : NULL;
	if (s == NULL || !is_uuid(s))
		return failf(reason, rsz, "%s must be a UUID", name);
	for (i = 0; i < 37; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') :
		    s[i];
	return true;
}

/* A timestamp member; *has false when absent or null. */
static bool
get_time(json_object *root, const char *name, bool *has, int64_t *us,
    char *reason, size_t rsz)
{
	json_object *v = member(root, name);

	*has = false;
	if (v == NULL)
		return true;
	if (json_object_get_type(v) != json_type_string ||
	    !isotime_parse(json_object_get_string(v), us))
		return failf(reason, rsz, "%s must be an ISO 8601 timestamp "
		    "(YYYY-MM-DDTHH:MM:SS, optionally with Z or an offset)",
		    name);
	*has = true;
	return true;
}

/* Money: a number or a string, plain decimal (validate_money, the API's). */
static bool
get_money(json_object *root, const char *name, bool *has,
    char out[MONEY_MAX], char *reason, size_t rsz)
{
	json_object *v = member(root, name);
	char why[VALIDATE_REASON_MAX];

	*has = false;
	memcpy(out, "0.0000", 7);
	if (v == NULL)
		return true;
	if (validate_money(name, v, out, why) != NULL)
		return failf(reason, rsz, "%s", why);
	*has = true;
	return true;
}

/* Every member must be one of names[]. */
static bool
known_fields(json_object *root, const char *const *names, char *reason,
    size_t rsz)
{
	json_object_object_foreach(root, key, val) {
		const char *const *n;

		(void)val;
		for (n = names; *n != NULL; n++)
			if (strcmp(*n, key) == 0)
				break;
		if (*n == NULL) {
			char k[64];

			log_escape(k, sizeof(k), key, strlen(key));
			return failf(reason, rsz, "unknown field: %s", k);
		}
	}
	return true;
}

/*
 * The bytes of a file as a JSON object: a UTF-8 BOM is skipped, and the
 * reason tells an empty file, a truncated one, invalid UTF-8 and other
 * syntax errors apart.
 */
static json_object *
parse_object(const char *data, size_t len, char *reason, size_t rsz)
{
	json_object *root = NULL;
	struct json_tokener *tok;
	enum json_tokener_error err;

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}
	if (utf8_len(data, len) < 0) {
		failf(reason, rsz, "not JSON: not valid UTF-8");
		return NULL;
	}
	switch (json_parse_body(data, len, &root)) {
	case BODY_OK:
		return root;
	case BODY_EMPTY:
		failf(reason, rsz, "not JSON: the file is empty");
		return NULL;
	case BODY_NUL:
		failf(reason, rsz, "not JSON: contains a NUL character");
		return NULL;
	case BODY_NOT_OBJECT:
		failf(reason, rsz, "not a JSON object");
		return NULL;
	case BODY_INVALID:
		break;
	}
	/* why: parse again for the error and where it is */
	if ((tok = json_tokener_new()) == NULL)
		fatalx("json_tokener_new");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, data, len > INT32_MAX ? INT32_MAX :
	    (int)len);
	err = json_tokener_get_error(tok);
	if (err == json_tokener_continue)
		failf(reason, rsz, "not JSON: truncated (the file ends inside "
		    "the JSON text)");
	else if (err != json_tokener_success)
		failf(reason, rsz, "not JSON: %s at byte %zu",
		    json_tokener_error_desc(err), json_tokener_get_parse_end(tok));
	else {
		size_t end = json_tokener_get_parse_end(tok);

		while (end < len && (data[end] == ' ' || data[end] == '\t' ||
		    data[end] == '\r' || data[end] == '\n'))
			end++;
		if (end < len)
			failf(reason, rsz, "not JSON: unexpected text after the "
			    "JSON value at byte %zu", end);
		else	/* what json_parse_body refuses besides */
			failf(reason, rsz, "not JSON: strings must be in "
			    "double quotes");
	}
	json_object_put(root);
	json_tokener_free(tok);
	return NULL;
}

/* ---------------------------------------------------------------- articles */

static const char *const article_fields[] = {
	"id", "title", "slug", "content_markdown", "content_html",
	"meta_description", "primary_keyword", "seo_score", "status",
	"wp_post_id", "wp_url", "embedding", "created_at", "updated_at",
	"has_embedding", NULL
};

static const char *const article_statuses[] = {
	"draft", "scheduled", "published", "archived", NULL
};

static bool
article_seo_score(json_object *root, struct legacy_article *a, char *reason,
    size_t rsz)
{
	json_object *v = member(root, "seo_score");
	char why[VALIDATE_REASON_MAX];
	enum json_type t;
	double d;

	a->seo_score = NULL;
	if (v == NULL)
		return true;
	t = json_object_get_type(v);
	if (t == json_type_int || t == json_type_double) {
		d = json_object_get_double(v);
	} else if (t == json_type_string) {
		/* tolerated: a number given as a string */
		const char *s = json_object_get_string(v);

		if (!is_number_text(s))
			return failf(reason, rsz, "seo_score must be a number");
		d = strtod(s, NULL);
	} else
		return failf(reason, rsz, "seo_score must be a number");
	/* the API's range, and the double's own value, not the file's text */
	if (validate_number("seo_score", d, 0, 100, a->seo_buf, why) != NULL)
		return failf(reason, rsz, "%s", why);
	a->seo_score = a->seo_buf;
	return true;
}

static bool
article_wp_post_id(json_object *root, struct legacy_article *a, char *reason,
    size_t rsz)
{
	json_object *v = member(root, "wp_post_id");
	enum json_type t;
	int64_t x;

	a->wp_post_id = NULL;
	if (v == NULL)
		return true;
	t = json_object_get_type(v);
	/* tolerated: an integer given as a string */
	if ((t != json_type_int && t != json_type_string) ||
	    !parse_int64(t == json_type_int ? number_text(v) :
	    json_object_get_string(v), INT64_MIN, INT64_MAX, &x))
		return failf(reason, rsz, "wp_post_id must be an integer");
	snprintf(a->wp_buf, sizeof(a->wp_buf), "%lld", (long long)x);
	a->wp_post_id = a->wp_buf;
	return true;
}

/* The API's embedding rule (validate_embedding), without the brackets. */
static bool
article_embedding(json_object *root, struct legacy_article *a, char *reason,
    size_t rsz)
{
	json_object *v = member(root, "embedding");
	char why[VALIDATE_REASON_MAX];
	struct buf b;

	a->embedding = NULL;
	if (v == NULL)
		return true;
	buf_init(&b);
	if (validate_embedding("embedding", v, &b, why) != NULL) {
		buf_free(&b);
		return failf(reason, rsz, "%s", why);
	}
	a->embedding = b.data != NULL ? b.data : xstrdup("");
	return true;
}

static bool
check_article(json_object *root, struct legacy_article *a, char *reason,
    size_t rsz)
{
	json_object *v;
	const char *const *c;

	if (!known_fields(root, article_fields, reason, rsz))
		return false;
	if (member(root, "title") == NULL)
		return failf(reason, rsz, "title is missing");
	if (!get_string(root, "title", 1, LEGACY_TITLE_MAX, &a->title, reason,
	    rsz))
		return false;
	/* tolerated: an empty slug is a missing one (made from the title) */
	if ((v = member(root, "slug")) != NULL &&
	    json_object_get_type(v) == json_type_string &&
	    json_object_get_string_len(v) == 0)
		a->slug = NULL;
	else {
		char why[VALIDATE_REASON_MAX];

		/* type and UTF-8 here, then the API's rule (validate_slug) */
		if (!get_string(root, "slug", 0, INT32_MAX, &a->slug, reason,
		    rsz))
			return false;
		if (a->slug != NULL && validate_slug("slug", a->slug, 1,
		    SLUG_MAX, why) != NULL)
			return failf(reason, rsz, "%s", why);
	}
	if (!get_string(root, "content_markdown", 0, INT32_MAX,
	    &a->content_markdown, reason, rsz) ||
	    !get_string(root, "content_html", 0, INT32_MAX, &a->content_html,
	    reason, rsz) ||
	    !get_string(root, "meta_description", 0, LEGACY_META_MAX,
	    &a->meta_description, reason, rsz) ||
	    !get_string(root, "primary_keyword", 0, LEGACY_KEYWORD_MAX,
	    &a->primary_keyword, reason, rsz) ||
	    !article_seo_score(root, a, reason, rsz))
		return false;
	/* a missing or null status is the API's default */
	a->status = "draft";
	if ((v = member(root, "status")) != NULL) {
		const char *s = json_object_get_type(v) == json_type_string ?
		    json_object_get_string(v) : "";

		for (c = article_statuses; *c != NULL; c++)
			if (strcmp(*c, s) == 0)
				break;
		if (*c == NULL)
			return failf(reason, rsz, "status must be one of: draft, "
			    "scheduled, published, archived");
		a->status = *c;
	}
	if (!article_wp_post_id(root, a, reason, rsz) ||
	    !get_string(root, "wp_url", 0, LEGACY_WP_URL_MAX, &a->wp_url, reason,
	    rsz))
		return false;
	if (a->wp_url != NULL && !validate_is_http_url(a->wp_url))
		return failf(reason, rsz, "wp_url must be an http:// or https:// "
		    "URL");
	/* has_embedding is derived from embedding: checked, not kept */
	if ((v = member(root, "has_embedding")) != NULL &&
	    json_object_get_type(v) != json_type_boolean)
		return failf(reason, rsz, "has_embedding must be true or false");
	if (!get_time(root, "created_at", &a->has_created, &a->created_us,
	    reason, rsz) ||
	    !get_time(root, "updated_at", &a->has_updated, &a->updated_us,
	    reason, rsz))
		return false;
	/* last: it allocates */
	return article_embedding(root, a, reason, rsz);
}

bool
legacy_parse_article(const char *data, size_t len, struct legacy_article *out,
    char *reason, size_t rsz)
{
	json_object *root;

	memset(out, 0, sizeof(*out));
	if ((root = parse_object(data, len, reason, rsz)) == NULL)
		return false;
	/* the id first: a bad file with a good id can still be named by it */
	if (!get_uuid(root, "id", out->id, reason, rsz) ||
	    !check_article(root, out, reason, rsz)) {
		char id[37];

		memcpy(id, out->id, sizeof(id));
		json_object_put(root);
		memset(out, 0, sizeof(*out));
		memcpy(out->id, id, sizeof(id));
		return false;
	}
	out->root = root;
	return true;
}

void
legacy_article_free(struct legacy_article *a)
{
	json_object_put(a->root);
	free(a->embedding);
	memset(a, 0, sizeof(*a));
}

/* ---------------------------------------------------------------- pipelines */

static const char *const pipeline_fields[] = {
	"id", "article_id", "status", "estimated_cost", "total_cost",
	"started_at", "completed_at", "error_message", NULL
};

const char *
legacy_run_status_name(enum legacy_run_status s)
{
	switch (s) {
	case LEGACY_RUNNING:
		return "running";
	case LEGACY_COMPLETED:
		return "completed";
	case LEGACY_FAILED:
		return "failed";
	}
	return "running";
}

static bool
check_pipeline(json_object *root, struct legacy_pipeline *p, char *reason,
    size_t rsz)
{
	json_object *v;
	const char *s;
	bool has_total, has_estimate, has_started;

	if (!known_fields(root, pipeline_fields, reason, rsz) ||
	    !get_uuid(root, "article_id", p->article_id, reason, rsz))
		return false;
	if ((v = member(root, "status")) == NULL)
		return failf(reason, rsz, "status is missing");
	s = json_object_get_type(v) == json_type_string ?
	    json_object_get_string(v) : "";
	if (strcmp(s, "completed") == 0)
		p->status = LEGACY_COMPLETED;
	else if (strcmp(s, "failed") == 0)
		p->status = LEGACY_FAILED;
	else if (strcmp(s, "running") == 0)
		p->status = LEGACY_RUNNING;
	else
		return failf(reason, rsz, "status must be one of: running, "
		    "completed, failed");
	if (!get_money(root, "estimated_cost", &has_estimate, p->estimated_cost,
	    reason, rsz) ||
	    !get_money(root, "total_cost", &has_total, p->total_cost, reason,
	    rsz))
		return false;
	/* as PATCH /pipelines/{id}: a completed run says what it cost */
	if (p->status == LEGACY_COMPLETED && !has_total)
		return failf(reason, rsz, "total_cost is required when status is "
		    "completed");
	if (!get_time(root, "started_at", &has_started, &p->started_us, reason,
	    rsz) ||
	    !get_time(root, "completed_at", &p->has_completed, &p->completed_us,
	    reason, rsz))
		return false;
	if (!has_started)
		return failf(reason, rsz, "started_at is missing");
	if (p->status == LEGACY_RUNNING && p->has_completed)
		return failf(reason, rsz, "completed_at must be null when status "
		    "is running");
	if (p->status != LEGACY_RUNNING && !p->has_completed)
		return failf(reason, rsz, "completed_at is required when status "
		    "is %s (its cost counts in that month)",
		    legacy_run_status_name(p->status));
	return get_string(root, "error_message", 0, LEGACY_ERROR_MAX,
	    &p->error_message, reason, rsz);
}

bool
legacy_parse_pipeline(const char *data, size_t len,
    struct legacy_pipeline *out, char *reason, size_t rsz)
{
	json_object *root;

	memset(out, 0, sizeof(*out));
	if ((root = parse_object(data, len, reason, rsz)) == NULL)
		return false;
	if (!get_uuid(root, "id", out->id, reason, rsz) ||
	    !check_pipeline(root, out, reason, rsz)) {
		char id[37];

		memcpy(id, out->id, sizeof(id));
		json_object_put(root);
		memset(out, 0, sizeof(*out));
		memcpy(out->id, id, sizeof(id));
		return false;
	}
	out->root = root;
	return true;
}

void
legacy_pipeline_free(struct legacy_pipeline *p)
{
	json_object_put(p->root);
	memset(p, 0, sizeof(*p));
}
