/*
 * http.c - one request from accept to access-log line.
 *
 * The dispatcher does every check that does not depend on the resource,
 * in this order, before a handler runs: route (404/405), body size (413),
 * database (503), credentials (401/403), content type (415), JSON (400).
 * Handlers see a parsed JSON object and an authenticated user.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "router.h"
#include "util.h"

#define KEEP_BUF	(64 * 1024)	/* buffer capacity kept between requests */
#define DRAIN_MAX	(256LL * 1024 * 1024)
#define JSON_MAX_DEPTH	64

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

void
http_error(struct req *r, int status, const char *code, const char *message,
    const char *field)
{
	struct jw w;

	buf_reset(&r->out, KEEP_BUF);
	jw_init(&w, &r->out);
	jw_obj(&w);
	jw_key(&w, "error");
	jw_obj(&w);
	jw_kstr(&w, "code", code);
	jw_kstr(&w, "message", message);
	if (field != NULL)
		jw_kstr(&w, "field", field);
	jw_end(&w, '}');
	jw_end(&w, '}');
	r->status = status;
}

void
http_validation(struct req *r, const char *field, const char *message)
{
	http_error(r, 400, "validation_failed", message, field);
}

void
http_not_found(struct req *r)
{
	http_error(r, 404, "not_found", "no such resource", NULL);
}

void
http_unavailable(struct req *r)
{
	http_error(r, 503, "service_unavailable",
	    "the database is unreachable; retry shortly", NULL);
	http_header(r, "Retry-After", "%d", DB_RETRY_AFTER);
}

void
http_internal(struct req *r)
{
	http_error(r, 500, "internal", "internal error", NULL);
}

void
http_db_failed(struct req *r, enum db_status e)
{
	if (e == DB_DOWN)
		http_unavailable(r);
	else if (e == DB_DENIED)	/* replaced by auth_settle() */
		http_error(r, 401, "unauthorized",
		    "the credentials are no longer valid", NULL);
	else
		http_internal(r);
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

bool
http_path_id(struct req *r, char id[37])
{
	const char *p = r->params[0];
	int i;

	if (p == NULL || !is_uuid(p)) {
		http_not_found(r);
		return false;
	}
	for (i = 0; i < 37; i++)
		id[i] = (p[i] >= 'A' && p[i] <= 'F') ? (char)(p[i] - 'A' + 'a') :
		    p[i];
	return true;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
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
				char msg[128];

				snprintf(msg, sizeof(msg),
				    "%s must be given at most once", name);
				http_validation(r, name, msg);
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
		char msg[128];

		snprintf(msg, sizeof(msg), "%s is not valid percent-encoded UTF-8",
		    name);
		http_validation(r, name, msg);
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

/* True when some string (key or value) in v holds a NUL character. */
static bool
has_nul(json_object *v, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return true;
	switch (json_object_get_type(v)) {
	case json_type_string:
		return strlen(json_object_get_string(v)) !=
		    (size_t)json_object_get_string_len(v);
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			(void)key;
			if (has_nul(val, depth + 1))
				return true;
		}
		return false;
	}
	case json_type_array: {
		size_t i, n = json_object_array_length(v);

		for (i = 0; i < n; i++)
			if (has_nul(json_object_array_get_idx(v, i), depth + 1))
				return true;
		return false;
	}
	default:
		return false;
	}
}

/*
 * What json-c lets through: single-quoted strings (even in strict mode)
 * and a \u0000 escape in an object key, which it silently truncates.
 */
static enum body_status
prescan(const char *s, size_t len)
{
	bool in_str = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (in_str) {
			if (s[i] == '\\') {
				if (len - i > 5 && s[i + 1] == 'u' &&
				    memcmp(s + i + 2, "0000", 4) == 0)
					return BODY_NUL;
				i++;
			} else if (s[i] == '"')
				in_str = false;
		} else if (s[i] == '"')
			in_str = true;
		else if (s[i] == '\'')
			return BODY_INVALID;
	}
	return BODY_OK;
}

/* Members of the objects in v and in everything it holds (distinct keys). */
static size_t
count_members(json_object *v)
{
	size_t n = 0;

	switch (json_object_get_type(v)) {
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			(void)key;
			n += 1 + count_members(val);
		}
		return n;
	}
	case json_type_array: {
		size_t i, len = json_object_array_length(v);

		for (i = 0; i < len; i++)
			n += count_members(json_object_array_get_idx(v, i));
		return n;
	}
	default:
		return 0;
	}
}

/* The value of the 4 hex digits at s (a \u escape), or -1. */
static long
hex4(const char *s)
{
	long v = 0;
	int i, d;

	for (i = 0; i < 4; i++) {
		if ((d = hexval(s[i])) < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The number (or NaN, Infinity) at s[0..len) outside a string: NULL when
 * JSON allows it and json-c holds it as sent, else why not; *n is its
 * length.  json-c takes NaN, Infinity, "00", "-01" and "1.e3", and turns
 * an integer below INT64_MIN into INT64_MIN (one above UINT64_MAX becomes
 * UINT64_MAX, which no field accepts).
 */
static const char *
bad_number(const char *s, size_t len, size_t *n)
{
	size_t j = 0, d0, nd;

	*n = 1;
	if (len > 0 && s[0] == '-')
		j++;
	if (j < len && (s[j] == 'N' || s[j] == 'I'))
		return "request body has NaN or Infinity, which JSON does not "
		    "allow";
	d0 = j;
	while (j < len && is_digit(s[j]))
		j++;
	nd = j - d0;
	*n = j;
	if (nd > 1 && s[d0] == '0')
		return "request body has a number with a leading zero";
	if (j < len && s[j] == '.') {
		if (++j >= len || !is_digit(s[j]))
			return "request body has a malformed number";
		while (j < len && is_digit(s[j]))
			j++;
	}
	if (j < len && (s[j] == 'e' || s[j] == 'E')) {
		if (++j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j >= len || !is_digit(s[j]))
			return "request body has a malformed number";
		while (j < len && is_digit(s[j]))
			j++;
	}
	if (j == d0 + nd && s[0] == '-' && (nd > 19 || (nd == 19 &&
	    memcmp(s + d0, "9223372036854775808", 19) > 0))) {
		*n = j;
		return "request body has an integer below "
		    "-9223372036854775808";
	}
	*n = j;
	return NULL;
}

/*
 * What json-c accepts and the API refuses, in a body http_parse_json
 * took (so data is JSON as json-c sees it):
 *   - an object that repeats a key: json-c keeps the last value and drops
 *     the other without a word.  Every ':' outside a string ends one
 *     member's name, so the text has more members than the parsed objects
 *     exactly when some object repeats a key (equal after unescaping:
 *     "a" and "\u0061" are one key);
 *   - a \uD800..\uDFFF escape that is not half of a surrogate pair: json-c
 *     stores U+FFFD in its place, not what the client sent;
 *   - numbers JSON does not allow, or that json-c would change (above).
 */
const char *
http_json_strict(const char *data, size_t len, json_object *v)
{
	bool in_str = false;
	size_t i, n, colons = 0;
	const char *why;

	for (i = 0; i < len; i++) {
		if (!in_str) {
			if (data[i] == '"')
				in_str = true;
			else if (data[i] == ':')
				colons++;
			else if (data[i] == '-' || is_digit(data[i]) ||
			    data[i] == 'N' || data[i] == 'I') {
				if ((why = bad_number(data + i, len - i, &n)) !=
				    NULL)
					return why;
				i += n - 1;
			}
		} else if (data[i] == '"')
			in_str = false;
		else if (data[i] == '\\') {
			long u, lo;

			if (len - i < 6 || data[i + 1] != 'u') {
				i++;
				continue;
			}
			u = hex4(data + i + 2);
			i += 5;
			if (u >= 0xdc00 && u <= 0xdfff)
				return "request body has an unpaired UTF-16 "
				    "surrogate escape";
			if (u < 0xd800 || u > 0xdbff)
				continue;
			lo = len - i > 6 && data[i + 1] == '\\' &&
			    data[i + 2] == 'u' ? hex4(data + i + 3) : -1;
			if (lo < 0xdc00 || lo > 0xdfff)
				return "request body has an unpaired UTF-16 "
				    "surrogate escape";
			i += 6;
		}
	}
	if (colons != count_members(v))
		return "request body has a duplicate key in an object";
	return NULL;
}

enum body_status
http_parse_json(const char *data, size_t len, json_object **out)
{
	enum body_status pre;
	struct json_tokener *tok;
	json_object *v;
	size_t i;

	*out = NULL;
	for (i = 0; i < len; i++)
		if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' &&
		    data[i] != '\n')
			break;
	if (i == len)
		return BODY_EMPTY;
	if (memchr(data, '\0', len) != NULL)
		return BODY_NUL;
	if (len > INT32_MAX)
		return BODY_INVALID;
	/*
	 * json-c's own check lets overlong forms, surrogates and code points
	 * beyond U+10FFFF through, and an error answer would echo them (an
	 * unknown field's name): the whole body must be strict UTF-8.
	 */
	if (utf8_len(data, len) < 0)
		return BODY_INVALID;
	if ((pre = prescan(data, len)) != BODY_OK)
		return pre;
	if ((tok = json_tokener_new_ex(JSON_MAX_DEPTH)) == NULL)
		fatalx("json_tokener_new_ex");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	v = json_tokener_parse_ex(tok, data, (int)len);
	if (v == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		/* trailing white space is fine, anything else is not */
		size_t end = json_tokener_get_parse_end(tok);

		if (v != NULL && json_tokener_get_error(tok) ==
		    json_tokener_success) {
			for (; end < len; end++)
				if (data[end] != ' ' && data[end] != '\t' &&
				    data[end] != '\r' && data[end] != '\n')
					break;
		}
		if (v == NULL || end != len) {
			json_object_put(v);
			json_tokener_free(tok);
			return BODY_INVALID;
		}
	}
	json_tokener_free(tok);
	if (!json_object_is_type(v, json_type_object)) {
		json_object_put(v);
		return BODY_NOT_OBJECT;
	}
	if (has_nul(v, 0)) {
		json_object_put(v);
		return BODY_NUL;
	}
	*out = v;
	return BODY_OK;
}

/*
 * Read the whole body; keep at most MAX_BODY_BYTES of it.  Returns false
 * when there was more (the rest is read and dropped so the connection
 * stays usable).
 */
static bool
read_body(struct req *r)
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

static void
respond(struct req *r)
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

static void
access_log(struct req *r)
{
	char path[256], rid[80], method[16];

	log_escape(path, sizeof(path), r->path, r->path ? strlen(r->path) : 0);
	log_escape(rid, sizeof(rid), r->request_id ? r->request_id : "-",
	    r->request_id ? strlen(r->request_id) : 1);
	log_escape(method, sizeof(method), r->method, strlen(r->method));
	log_info("access rid=%s %s %s %d %lldus user=%s", rid, method, path,
	    r->status, http_now_us() - r->t0_us,
	    r->user.ok ? r->user.id : "-");
}

/* Run the checks of the route table, then the handler. */
static void
dispatch(struct req *r)
{
	char allow[64];
	const char *why;
	bool fits;

	switch (router_match(r->method, r->path, &r->route, r->params,
	    REQ_MAX_PARAMS, allow, sizeof(allow))) {
	case ROUTE_NOT_FOUND:
		(void)read_body(r);
		http_error(r, 404, "not_found", "no such endpoint", NULL);
		return;
	case ROUTE_BAD_METHOD:
		(void)read_body(r);
		http_error(r, 405, "method_not_allowed",
		    "method not allowed on this endpoint", NULL);
		http_header(r, "Allow", "%s", allow);
		return;
	case ROUTE_FOUND:
		break;
	}
	for (size_t i = 0; i < REQ_MAX_PARAMS; i++)
		if (r->params[i] != NULL) {
			char *p = req_strdup(r, r->params[i]);

			free(r->params[i]);
			r->params[i] = p;
		}

	fits = read_body(r);
	if (!fits) {
		char msg[96];

		snprintf(msg, sizeof(msg), "request body is larger than %lld bytes",
		    (long long)cfg.max_body_bytes);
		http_error(r, 413, "payload_too_large", msg, NULL);
		return;
	}
	if (!(r->route->flags & RF_NODB) && !db_ready()) {
		http_unavailable(r);
		return;
	}
	if ((r->route->flags & RF_AUTH) && !auth_request(r))
		return;
	if (r->route->flags & RF_BODY) {
		if (!http_is_json_type(r->content_type)) {
			http_error(r, 415, "unsupported_media_type",
			    "send the body as Content-Type: application/json",
			    NULL);
			return;
		}
		switch (http_parse_json(r->body.data ? r->body.data : "",
		    r->body.len, &r->json)) {
		case BODY_OK:
			break;
		case BODY_EMPTY:
			http_error(r, 400, "invalid_json",
			    "request body must be a JSON object", NULL);
			return;
		case BODY_NUL:
			http_error(r, 400, "invalid_json",
			    "request body must not contain NUL characters", NULL);
			return;
		case BODY_INVALID:
			http_error(r, 400, "invalid_json",
			    "request body is not valid JSON", NULL);
			return;
		case BODY_NOT_OBJECT:
			http_error(r, 400, "invalid_json",
			    "request body must be a JSON object", NULL);
			return;
		}
		if ((why = http_json_strict(r->body.data, r->body.len,
		    r->json)) != NULL) {
			http_error(r, 400, "invalid_json", why, NULL);
			return;
		}
	}
	r->route->handler(r);
	auth_settle(r);
	if (r->status == 0)
		http_internal(r);
	if (r->status >= 500 && r->status != 503)
		log_warnx("%s %s answered %d", r->method, r->route->name,
		    r->status);
}

void
http_handle(FCGX_Request *fcgi)
{
	struct req *r = &ctx;
	const char *uri;
	size_t i;

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
	r->path = req_alloc(r, strcspn(uri, "?") + 1);
	memcpy(r->path, uri, strcspn(uri, "?"));
	r->path[strcspn(uri, "?")] = '\0';

	dispatch(r);
	auth_settle(r);		/* a check still pending after an early answer */
	respond(r);
	access_log(r);

	/* the one place a request's memory is released */
	json_object_put(r->json);
	for (i = 0; i < r->nallocs; i++)
		free(r->allocs[i]);
	{
		struct buf body = r->body, out = r->out, hdrs = r->hdrs;
		void **allocs = r->allocs;
		size_t cap = r->allocs_cap;

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
}
