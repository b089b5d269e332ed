/*
 * json.c - the JSON writer (the one escaping routine of every response)
 * and the strict reader of request bodies.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "isotime.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define JSON_MAX_DEPTH	64

/*
 * True when one of the eight bytes of v is a control character, '"' or
 * '\\' (the "has a byte less than n" bit trick, exact for n <= 128).
 */
static inline bool
escape_in8(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');

	return (((v - ones * 0x20) & ~v) | ((q - ones) & ~q) |
	    ((bs - ones) & ~bs)) & high;
}

void
json_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	buf_grow(b, n + 2);
	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c;
		const char *esc = NULL;
		char u[7];

		/*
		 * Eight bytes at a time while none needs escaping: article
		 * contents are kilobytes, and escaping them byte by byte is a
		 * visible share of a worker's time on GET /articles/{id}.
		 */
		while (n - i >= 8) {
			uint64_t v;

			memcpy(&v, s + i, 8);
			if (escape_in8(v))
				break;
			i += 8;
		}
		if (i == n)
			break;
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			memcpy(u, "\\u00", 4);
			u[4] = hex[c >> 4];
			u[5] = hex[c & 0xf];
			u[6] = '\0';
			esc = u;
			break;
		}
		buf_adds(b, esc);
	}
	buf_add(b, s + run, n - run);
	buf_addc(b, '"');
}

void
jw_init(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* Write the separator a new value needs at the current position. */
static void
jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth - 1])
			buf_addc(w->b, ',');
		w->first[w->depth - 1] = false;
	}
}

static void
jw_open(struct jw *w, char c)
{
	jw_sep(w);
	if (w->depth >= JW_MAXDEPTH)
		fatalx("jw: nesting too deep");
	buf_addc(w->b, c);
	w->first[w->depth++] = true;
}

void
jw_obj(struct jw *w)
{
	jw_open(w, '{');
}

void
jw_arr(struct jw *w)
{
	jw_open(w, '[');
}

void
jw_end(struct jw *w, char close)
{
	if (w->depth == 0)
		fatalx("jw: unbalanced close");
	w->depth--;
	buf_addc(w->b, close);
}

void
jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	json_escape(w->b, key, strlen(key));
	buf_addc(w->b, ':');
	w->after_key = true;
}

void
jw_str(struct jw *w, const char *s)
{
	if (s == NULL) {
		jw_null(w);
		return;
	}
	jw_strn(w, s, strlen(s));
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	json_escape(w->b, s, n);
}

void
jw_int(struct jw *w, int64_t v)
{
	char d[24], *p = d + sizeof(d);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	/* by hand: buf_printf formats twice, and this runs for every number */
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	jw_sep(w);
	buf_add(w->b, p, (size_t)(d + sizeof(d) - p));
}

void
jw_bool(struct jw *w, bool v)
{
	jw_sep(w);
	buf_adds(w->b, v ? "true" : "false");
}

void
jw_null(struct jw *w)
{
	jw_sep(w);
	buf_adds(w->b, "null");
}

void
jw_raw(struct jw *w, const char *s)
{
	jw_sep(w);
	buf_adds(w->b, s == NULL ? "null" : s);
}

void
jw_kstr(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}

void
jw_kint(struct jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_int(w, v);
}

void
jw_kbool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_bool(w, v);
}

void
jw_kraw(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_raw(w, s);
}

void
jw_ktime(struct jw *w, const char *key, const char *pg)
{
	char rfc[ISOTIME_RFC3339_MAX];
	int64_t us;

	jw_key(w, key);
	if (pg != NULL && isotime_parse(pg, &us)) {
		isotime_format_rfc3339(us, rfc);
		jw_str(w, rfc);
	} else
		jw_str(w, pg);
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
		if ((d = hex_digit(s[i])) < 0)
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
 * length.  json-c takes NaN, Infinity, "00", "-01" and "1.e3".  *below
 * is set when the number is an integer below INT64_MIN, which json-c
 * turns into INT64_MIN (one above UINT64_MAX becomes UINT64_MAX, which no
 * integer field accepts).
 */
static const char *
bad_number(const char *s, size_t len, size_t *n, bool *below)
{
	size_t j = 0, d0, nd;

	*n = 1;
	*below = false;
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
	    memcmp(s + d0, "9223372036854775808", 19) > 0)))
		*below = true;
	*n = j;
	return NULL;
}

/*
 * Gives the idx-th member of object v (0-based, in the order of the text:
 * json-c keeps it) the number text s[0..n) as a double that prints as that
 * text, in place of the INT64_MIN json-c made of it: an integer field then
 * refuses it as out of range (validation_failed naming the field), and a
 * number field reads the same value as from the integer.
 */
static void
unclamp_member(json_object *v, size_t idx, const char *s, size_t n)
{
	char text[64];
	json_object *d;

	if (n >= sizeof(text))
		n = sizeof(text) - 1;
	memcpy(text, s, n);
	text[n] = '\0';
	json_object_object_foreach(v, key, val) {
		(void)val;
		if (idx-- > 0)
			continue;
		if ((d = json_object_new_double_s(strtod(text, NULL), text)) !=
		    NULL)
			json_object_object_add(v, key, d);
		return;
	}
}

/*
 * What json-c accepts and the API refuses, in a body json_parse_body
 * took (so data is JSON as json-c sees it):
 *   - an object that repeats a key: json-c keeps the last value and drops
 *     the other without a word.  Every ':' outside a string ends one
 *     member's name, so the text has more members than the parsed objects
 *     exactly when some object repeats a key (equal after unescaping:
 *     "a" and "\u0061" are one key);
 *   - a \uD800..\uDFFF escape that is not half of a surrogate pair: json-c
 *     stores U+FFFD in its place, not what the client sent;
 *   - numbers JSON does not allow, or that json-c would change (above).
 * An integer below INT64_MIN is valid JSON with a value out of every
 * integer field's range: as a member of the top-level object it is given
 * back its text (unclamp_member), so the field's validator refuses it.
 */
const char *
json_strict(const char *data, size_t len, json_object *v)
{
	bool in_str = false, below;
	size_t i, n, colons = 0, depth = 0, top = 0;
	const char *why;

	for (i = 0; i < len; i++) {
		if (!in_str) {
			if (data[i] == '"')
				in_str = true;
			else if (data[i] == '{' || data[i] == '[')
				depth++;
			else if (data[i] == '}' || data[i] == ']')
				depth--;
			else if (data[i] == ':') {
				colons++;
				if (depth == 1)
					top++;
			} else if (data[i] == '-' || is_digit(data[i]) ||
			    data[i] == 'N' || data[i] == 'I') {
				if ((why = bad_number(data + i, len - i, &n,
				    &below)) != NULL)
					return why;
				if (below && depth == 1 && top > 0 &&
				    json_object_is_type(v, json_type_object))
					unclamp_member(v, top - 1, data + i, n);
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
json_parse_body(const char *data, size_t len, json_object **out)
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
