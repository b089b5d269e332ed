/*
 * http.c - one request and its answer: the request's memory (an arena
 * freed at one point), its parameters and query, the response and the
 * API's errors, written from one table.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define KEEP_BUF	(64 * 1024)	/* buffer capacity kept between requests */
#define DRAIN_MAX	(256LL * 1024 * 1024)

static struct req ctx;		/* the one request of this worker */

long long
http_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
http_worker_init(void)
{
	memset(&ctx, 0, sizeof(ctx));
}

void
http_worker_free(void)
{
	buf_free(&ctx.body);
	buf_free(&ctx.out);
	buf_free(&ctx.hdrs);
	free(ctx.allocs);
	memset(&ctx, 0, sizeof(ctx));
}

void *
req_alloc(struct req *r, size_t n)
{
	void *p = xmalloc(n);

	if (r->nallocs == r->allocs_cap) {
		r->allocs_cap = r->allocs_cap ? r->allocs_cap * 2 : 16;
		r->allocs = xrealloc(r->allocs, r->allocs_cap * sizeof(void *));
	}
	r->allocs[r->nallocs++] = p;
	return p;
}

char *
req_strdup(struct req *r, const char *s)
{
	size_t n = strlen(s);
	char *p = req_alloc(r, n + 1);

	memcpy(p, s, n + 1);
	return p;
}

const char *
http_param(struct req *r, const char *name)
{
	return r->fcgi ? FCGX_GetParam(name, r->fcgi->envp) : NULL;
}

void
http_header(struct req *r, const char *name, const char *fmt, ...)
{
	va_list ap;
	char val[512];

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	buf_printf(&r->hdrs, "%s: %s\r\n", name, val);
}

void
http_status(struct req *r, int status)
{
	r->status = status;
}

void
http_discard(struct req *r)
{
	buf_reset(&r->out, KEEP_BUF);
	buf_reset(&r->hdrs, KEEP_BUF);
	r->status = 0;
}

void
http_no_content(struct req *r)
{
	buf_reset(&r->out, KEEP_BUF);
	r->status = 204;
}

/* The error codes of API.md: status, code, default message (enum api_err). */
static const struct {
	int		 status;
	const char	*code;
	const char	*message;
} errs[ERR__MAX] = {
	/* ERR_INVALID_JSON */
	{ 400, "invalid_json", "request body is not valid JSON" },
	/* ERR_VALIDATION */
	{ 400, "validation_failed", "a field is not valid" },
	/* ERR_UNAUTHORIZED */
	{ 401, "unauthorized", "authentication required" },
	/* ERR_INVALID_CREDENTIALS */
	{ 401, "invalid_credentials", "wrong email or password" },
	/* ERR_USAGE_LIMIT */
	{ 402, "usage_limit_exceeded", "a monthly limit is reached" },
	/* ERR_FORBIDDEN */
	{ 403, "forbidden", "administrators only" },
	/* ERR_REGISTRATION_DISABLED */
	{ 403, "registration_disabled", "registration is closed" },
	/* ERR_ACCOUNT_DISABLED */
	{ 403, "account_disabled", "this account is deactivated" },
	/* ERR_NOT_FOUND */
	{ 404, "not_found", "no such resource" },
	/* ERR_METHOD_NOT_ALLOWED */
	{ 405, "method_not_allowed", "method not allowed on this endpoint" },
	/* ERR_CONFLICT */
	{ 409, "conflict", "the request conflicts with the current state" },
	/* ERR_EMAIL_TAKEN */
	{ 409, "email_taken", "an account with this email exists" },
	/* ERR_SLUG_TAKEN */
	{ 409, "slug_taken", "you already have an article with this slug" },
	/* ERR_INVALID_TRANSITION */
	{ 409, "invalid_transition", "this run has already ended" },
	/* ERR_ARTICLE_LIMIT */
	{ 409, "article_limit_reached",
	  "you have as many articles as this server stores for one account" },
	/* ERR_PAYLOAD_TOO_LARGE */
	{ 413, "payload_too_large", "request body is too large" },
	/* ERR_UNSUPPORTED_MEDIA_TYPE */
	{ 415, "unsupported_media_type",
	  "send the body as Content-Type: application/json" },
	/* ERR_TOO_MANY_REQUESTS */
	{ 429, "too_many_requests", "too many requests; retry later" },
	/* ERR_INTERNAL */
	{ 500, "internal", "internal error" },
	/* ERR_UNAVAILABLE */
	{ 503, "service_unavailable",
	  "the database is unreachable; retry shortly" },
};

struct jw *
http_fail_open(struct req *r, enum api_err e, const char *field,
    const char *message)
{
	struct jw *w = &r->errw;

	buf_reset(&r->out, KEEP_BUF);
	jw_init(w, &r->out);
	jw_obj(w);
	jw_key(w, "error");
	jw_obj(w);
	jw_kstr(w, "code", errs[e].code);
	jw_kstr(w, "message", message != NULL ? message : errs[e].message);
	if (field != NULL)
		jw_kstr(w, "field", field);
	r->status = errs[e].status;
	if (e == ERR_UNAVAILABLE)
		http_header(r, "Retry-After", "%d", DB_RETRY_AFTER);
	else if (e == ERR_UNAUTHORIZED)
		http_header(r, "WWW-Authenticate", "Bearer");
	return w;
}

void
http_fail_close(struct req *r)
{
	jw_end(&r->errw, '}');
	jw_end(&r->errw, '}');
}

void
http_fail(struct req *r, enum api_err e, const char *field, const char *fmt,
    ...)
{
	char msg[512];
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	http_fail_open(r, e, field, fmt != NULL ? msg : NULL);
	http_fail_close(r);
}

void
http_db_failed(struct req *r, enum db_status e)
{
	if (e == DB_DOWN)
		http_fail(r, ERR_UNAVAILABLE, NULL, NULL);
	else if (e == DB_DENIED)	/* replaced by auth_settle() */
		http_fail(r, ERR_UNAUTHORIZED, NULL,
		    "the credentials are no longer valid");
	else
		http_fail(r, ERR_INTERNAL, NULL, NULL);
}

/* http_tx's unit: one attempt of the handler's transaction. */
struct http_unit {
	struct req	*r;
	enum db_status	(*tx)(struct req *, const void *);
	const void	*arg;
	size_t		 hdrs0;
};

static enum db_status
http_unit(void *arg)
{
	struct http_unit *u = arg;

	buf_truncate(&u->r->out, 0);
	buf_truncate(&u->r->hdrs, u->hdrs0);
	return u->tx(u->r, u->arg);
}

void
http_tx(struct req *r, enum db_status (*tx)(struct req *, const void *),
    const void *arg)
{
	struct http_unit u = { r, tx, arg, r->hdrs.len };
	enum db_status e;

	if ((e = db_tx(http_unit, &u)) != DB_OK) {
		buf_truncate(&r->hdrs, u.hdrs0);
		http_db_failed(r, e);
	}
}

char *
http_pct_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (len - i < 3)	/* "%" needs two hex digits */
				goto fail;
			hi = hex_digit(s[i + 1]);
			lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto fail;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+')
			out[o++] = ' ';
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	if (utf8_len(out, o) < 0)
		goto fail;
	return out;
fail:
	free(out);
	return NULL;
}

const char *
http_query(struct req *r, const char *name, bool *bad)
{
	const char *p = r->query, *found = NULL;
	size_t nlen = strlen(name), flen = 0;
	char *v;

	*bad = false;
	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;

		if (klen == nlen && memcmp(p, name, nlen) == 0) {
			if (found != NULL) {
				http_fail(r, ERR_VALIDATION, name,
				    "%s must be given at most once", name);
				*bad = true;
				return NULL;
			}
			found = eq ? eq + 1 : p + len;
			flen = eq ? len - klen - 1 : 0;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (found == NULL)
		return NULL;
	if ((v = http_pct_decode(found, flen)) == NULL) {
		http_fail(r, ERR_VALIDATION, name,
		    "%s is not valid percent-encoded UTF-8", name);
		*bad = true;
		return NULL;
	}
	{
		char *keep = req_strdup(r, v);

		free(v);
		return keep;
	}
}

bool
http_is_json_type(const char *ct)
{
	size_t n;

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strlen("application/json");
	if (strncasecmp(ct, "application/json", n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

bool
http_read_body(struct req *r)
{
	char chunk[16384];
	long long total = 0;
	int n;
	bool fits = true;

	while ((n = FCGX_GetStr(chunk, sizeof(chunk), r->fcgi->in)) > 0) {
		total += n;
		if (total > cfg.max_body_bytes)
			fits = false;
		else
			buf_add(&r->body, chunk, (size_t)n);
		if (total > DRAIN_MAX)
			break;
	}
	return fits;
}

void
http_respond(struct req *r)
{
	static const struct {
		int code;
		const char *text;
	} reasons[] = {
		{ 200, "OK" }, { 201, "Created" }, { 204, "No Content" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 402, "Payment Required" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 409, "Conflict" }, { 413, "Payload Too Large" },
		{ 415, "Unsupported Media Type" }, { 429, "Too Many Requests" },
		{ 500, "Internal Server Error" }, { 503, "Service Unavailable" },
	};
	const char *reason = "Unknown";
	char head[128];
	size_t i;

	if (r->streamed)
		return;		/* http_stream_begin sent it all */
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == r->status)
			reason = reasons[i].text;
	/* libfcgi's own printf knows no %zu: format headers with snprintf */
	snprintf(head, sizeof(head), "Status: %d %s\r\n"
	    "Cache-Control: no-store\r\n", r->status, reason);
	FCGX_PutS(head, r->fcgi->out);
	if (r->hdrs.len > 0)
		FCGX_PutStr(r->hdrs.data, (int)r->hdrs.len, r->fcgi->out);
	if (r->status == 204) {
		FCGX_PutS("\r\n", r->fcgi->out);
		return;
	}
	snprintf(head, sizeof(head), "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", r->out.len);
	FCGX_PutS(head, r->fcgi->out);
	FCGX_PutStr(r->out.data, (int)r->out.len, r->fcgi->out);
}

void
http_stream_begin(struct req *r, const char *ct)
{
	FCGX_PutS("Status: 200 OK\r\nCache-Control: no-store\r\n",
	    r->fcgi->out);
	if (r->hdrs.len > 0)
		FCGX_PutStr(r->hdrs.data, (int)r->hdrs.len, r->fcgi->out);
	FCGX_PutS("Content-Type: ", r->fcgi->out);
	FCGX_PutS(ct, r->fcgi->out);
	FCGX_PutS("\r\n\r\n", r->fcgi->out);
	r->status = 200;
	r->streamed = true;
}

bool
http_stream_write(struct req *r, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		int k = n > 65536 ? 65536 : (int)n;

		if (FCGX_PutStr(c, k, r->fcgi->out) != k)
			return false;
		c += k;
		n -= (size_t)k;
	}
	return true;
}

struct req *
http_request_begin(FCGX_Request *fcgi)
{
	struct req *r = &ctx;
	const char *uri;
	size_t n;

	r->fcgi = fcgi;
	r->t0_us = http_now_us();
	r->method = http_param(r, "REQUEST_METHOD");
	if (r->method == NULL)
		r->method = "GET";
	r->request_id = http_param(r, "REQUEST_ID");
	r->content_type = http_param(r, "CONTENT_TYPE");
	r->query = http_param(r, "QUERY_STRING");
	if (r->query == NULL)
		r->query = "";
	/* the raw path as the client sent it: REQUEST_URI without the query */
	uri = http_param(r, "REQUEST_URI");
	if (uri == NULL)
		uri = http_param(r, "SCRIPT_NAME");
	if (uri == NULL)
		uri = "/";
	n = strcspn(uri, "?");
	r->path = req_alloc(r, n + 1);
	memcpy(r->path, uri, n);
	r->path[n] = '\0';
	return r;
}

void
http_request_end(struct req *r)
{
	struct buf body, out, hdrs;
	void **allocs;
	size_t i, cap;

	json_object_put(r->json);
	for (i = 0; i < r->nallocs; i++)
		free(r->allocs[i]);
	body = r->body;
	out = r->out;
	hdrs = r->hdrs;
	allocs = r->allocs;
	cap = r->allocs_cap;
	buf_reset(&body, KEEP_BUF);
	buf_reset(&out, KEEP_BUF);
	buf_reset(&hdrs, KEEP_BUF);
	if (cap > 256) {
		free(allocs);
		allocs = NULL;
		cap = 0;
	}
	memset(r, 0, sizeof(*r));
	r->body = body;
	r->out = out;
	r->hdrs = hdrs;
	r->allocs = allocs;
	r->allocs_cap = cap;
}
