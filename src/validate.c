/* validate.c - the field-table validator for JSON request bodies. */
#include "autoconf.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "config.h"
#include "http.h"
#include "util.h"
#include "validate.h"

static bool
fail(struct req *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
fail(struct req *r, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_fail(r, ERR_VALIDATION, field, "%s", msg);
	return false;
}

/* The number's text as the client wrote it (json-c keeps it for doubles). */
static const char *
number_text(json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

bool
validate_is_slug(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-'))
			return false;
	return true;
}

bool
validate_is_http_url(const char *s)
{
	const char *host;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return false;
	if (*host == '\0' || *host == '/' || *host == '?' || *host == '#')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

static const char *
reasonf(char reason[VALIDATE_REASON_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *
reasonf(char reason[VALIDATE_REASON_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, VALIDATE_REASON_MAX, fmt, ap);
	va_end(ap);
	return reason;
}

const char *
validate_slug(const char *name, const char *s, int64_t min, int64_t max,
    char reason[VALIDATE_REASON_MAX])
{
	long n = utf8_len(s, strlen(s));

	if (n < min || n > max) {
		if (min > 0)
			return reasonf(reason, "%s must be %lld to %lld "
			    "characters", name, (long long)min, (long long)max);
		return reasonf(reason, "%s must be at most %lld characters",
		    name, (long long)max);
	}
	if (!validate_is_slug(s))
		return reasonf(reason, "%s may contain only a-z, 0-9 and '-'",
		    name);
	return NULL;
}

const char *
validate_number(const char *name, double d, int64_t min, int64_t max,
    char out[32], char reason[VALIDATE_REASON_MAX])
{
	if (!isfinite(d) || d < (double)min || d > (double)max)
		return reasonf(reason, "%s must be a number from %lld to %lld",
		    name, (long long)min, (long long)max);
	snprintf(out, 32, "%.17g", d == 0 ? 0.0 : d);
	return NULL;
}

const char *
validate_money(const char *name, json_object *v, char out[MONEY_MAX],
    char reason[VALIDATE_REASON_MAX])
{
	enum json_type t = json_object_get_type(v);
	const char *s;

	if (t == json_type_string)
		s = json_object_get_string(v);
	else if (t == json_type_int || t == json_type_double)
		s = number_text(v);
	else
		return reasonf(reason, "%s must be a decimal number or string",
		    name);
	if (!money_parse(s, strlen(s), out))
		return reasonf(reason, "%s must be a plain decimal from 0 to "
		    "999999.9999 with at most 4 decimals", name);
	return NULL;
}

const char *
validate_embedding(const char *name, json_object *v, struct buf *out,
    char reason[VALIDATE_REASON_MAX])
{
	size_t i, n;

	if (json_object_get_type(v) != json_type_array)
		return reasonf(reason, "%s must be an array of %lld numbers or "
		    "null", name, (long long)cfg.embedding_dim);
	n = json_object_array_length(v);
	if ((int64_t)n != cfg.embedding_dim)
		return reasonf(reason, "%s must have exactly %lld numbers (got "
		    "%zu)", name, (long long)cfg.embedding_dim, n);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		enum json_type et = json_object_get_type(e);
		double d;

		if (et != json_type_int && et != json_type_double)
			break;
		d = json_object_get_double(e);
		if (!isfinite(d) || fabs(d) > FLT_MAX)
			break;
		/*
		 * Stored as real: write the float the server will keep (a
		 * value too small for one is 0, not the underflow error
		 * PostgreSQL would raise for its text).
		 */
		buf_printf(out, "%s%.9g", i ? "," : "", (double)(float)d);
	}
	if (i < n)
		return reasonf(reason, "%s[%zu] must be a finite number", name,
		    i);
	return NULL;
}

/* Check one value; false when the 400 has been written. */
static bool
check(struct req *r, const struct field *f, json_object *v, struct fval *o)
{
	enum json_type t = json_object_get_type(v);
	char reason[VALIDATE_REASON_MAX];

	o->present = true;
	if (t == json_type_null) {
		if (!f->nullable)
			return fail(r, f->name, "%s must not be null", f->name);
		o->is_null = true;
		return true;
	}
	switch (f->type) {
	case FT_STRING:
	case FT_URL:
	case FT_SLUG:
	case FT_UUID:
	case FT_ENUM: {
		const char *s;
		long n;

		if (t != json_type_string)
			return fail(r, f->name, "%s must be a string", f->name);
		s = json_object_get_string(v);
		n = utf8_len(s, strlen(s));
		if (n < 0)
			return fail(r, f->name, "%s must be valid UTF-8", f->name);
		o->s = s;
		if (f->type == FT_UUID) {
			if (!is_uuid(s))
				return fail(r, f->name, "%s must be a UUID", f->name);
			char *low = req_strdup(r, s);
			for (char *p = low; *p; p++)
				if (*p >= 'A' && *p <= 'F')
					*p = (char)(*p - 'A' + 'a');
			o->s = low;
			return true;
		}
		if (f->type == FT_ENUM) {
			const char *const *c;

			for (c = f->choices; *c != NULL; c++)
				if (strcmp(*c, s) == 0)
					return true;
			{
				struct buf b;

				buf_init(&b);
				for (c = f->choices; *c != NULL; c++)
					buf_printf(&b, "%s%s", c == f->choices ?
					    "" : ", ", *c);
				fail(r, f->name, "%s must be one of: %s", f->name,
				    b.data);
				buf_free(&b);
				return false;
			}
		}
		if (f->type == FT_SLUG) {
			const char *why = validate_slug(f->name, s, f->min,
			    f->max, reason);

			return why == NULL || fail(r, f->name, "%s", why);
		}
		if (n < f->min || n > f->max) {
			if (f->min > 0)
				return fail(r, f->name, "%s must be %lld to %lld "
				    "characters", f->name, (long long)f->min,
				    (long long)f->max);
			return fail(r, f->name, "%s must be at most %lld "
			    "characters", f->name, (long long)f->max);
		}
		if (f->type == FT_URL && !validate_is_http_url(s))
			return fail(r, f->name, "%s must be an http:// or "
			    "https:// URL", f->name);
		return true;
	}
	case FT_INT: {
		int64_t x;

		if (t != json_type_int ||
		    !parse_int64(number_text(v), f->min, f->max, &x))
			return fail(r, f->name, "%s must be an integer from %lld "
			    "to %lld", f->name, (long long)f->min,
			    (long long)f->max);
		o->i = x;
		return true;
	}
	case FT_NUMBER: {
		char num[32];
		const char *why;

		if (t != json_type_int && t != json_type_double)
			return fail(r, f->name, "%s must be a number", f->name);
		if ((why = validate_number(f->name, json_object_get_double(v),
		    f->min, f->max, num, reason)) != NULL)
			return fail(r, f->name, "%s", why);
		o->s = req_strdup(r, num);
		return true;
	}
	case FT_BOOL:
		if (t != json_type_boolean)
			return fail(r, f->name, "%s must be true or false", f->name);
		o->b = json_object_get_boolean(v);
		return true;
	case FT_MONEY: {
		const char *why;

		if ((why = validate_money(f->name, v, o->money, reason)) != NULL)
			return fail(r, f->name, "%s", why);
		o->s = o->money;
		return true;
	}
	case FT_EMBEDDING: {
		const char *why;
		struct buf b;

		buf_init(&b);
		buf_addc(&b, '[');
		if ((why = validate_embedding(f->name, v, &b, reason)) != NULL) {
			buf_free(&b);
			return fail(r, f->name, "%s", why);
		}
		buf_addc(&b, ']');
		o->s = req_strdup(r, b.data);
		buf_free(&b);
		return true;
	}
	}
	return fail(r, f->name, "%s is invalid", f->name);
}

bool
validate_body(struct req *r, const struct field *fields, size_t n,
    struct fval *out)
{
	size_t i;

	memset(out, 0, n * sizeof(*out));
	/* unknown and read-only fields first: name the first one */
	{
		json_object_object_foreach(r->json, key, val) {
			(void)val;
			for (i = 0; i < n; i++)
				if (strcmp(fields[i].name, key) == 0)
					break;
			if (i == n) {
				char k[64];

				snprintf(k, sizeof(k), "%s", key);
				return fail(r, req_strdup(r, k), "unknown or read-only "
				    "field: %s", k);
			}
		}
	}
	for (i = 0; i < n; i++) {
		json_object *v;

		if (!json_object_object_get_ex(r->json, fields[i].name, &v)) {
			if (fields[i].required)
				return fail(r, fields[i].name, "%s is required",
				    fields[i].name);
			continue;
		}
		if (!check(r, &fields[i], v, &out[i]))
			return false;
	}
	return true;
}

bool
validate_limit(struct req *r, const char *name, int64_t def, int64_t max,
    int64_t *out)
{
	bool bad;
	const char *v = http_query(r, name, &bad);

	if (bad)
		return false;
	if (v == NULL) {
		*out = def;
		return true;
	}
	if (!parse_int64(v, 1, max, out))
		return fail(r, name, "%s must be a whole number from 1 to %lld",
		    name, (long long)max);
	return true;
}
