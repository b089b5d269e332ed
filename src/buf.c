/* buf.c - growable byte buffer and the JSON writer. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "isotime.h"
#include "log.h"
#include "util.h"

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
buf_reset(struct buf *b, size_t keep)
{
	if (b->cap > keep) {
		buf_free(b);
		return;
	}
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (b->data == NULL || len > b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void
buf_grow_slow(struct buf *b, size_t need)
{
	size_t cap;

	if (need < b->len)
		fatalx("buffer size overflow");
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("buf_printf: bad format");
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

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
		 * contents are kilobytes (bench/: json_escape was a tenth of
		 * a worker's time on GET /articles/{id}).
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
