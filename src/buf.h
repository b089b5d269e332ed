/* buf.h - growable byte buffer and the one escaping JSON writer. */
#ifndef BP_BUF_H
#define BP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char	*data;	/* always NUL-terminated when non-NULL */
	size_t	 len;
	size_t	 cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* Empty the buffer; keep up to keep bytes of capacity for reuse. */
void buf_reset(struct buf *b, size_t keep);
/* Cut b back to its first len bytes (no-op when it is shorter). */
void buf_truncate(struct buf *b, size_t len);
/* Make room for extra more bytes and the NUL (the out-of-line part). */
void buf_grow_slow(struct buf *b, size_t need);

static inline void
buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need > b->cap || need < b->len)
		buf_grow_slow(b, need);
}

/* Appends: inline, as the JSON writer makes one or more per value. */
static inline void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static inline void
buf_addc(struct buf *b, char c)
{
	buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * JSON writer.  Commas are placed by the writer: callers open containers,
 * write keys and values, and close.  Depth is bounded by JW_MAXDEPTH.
 */
#define JW_MAXDEPTH 16

struct jw {
	struct buf	*b;
	int		 depth;
	bool		 first[JW_MAXDEPTH];
	bool		 after_key;
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj(struct jw *w);		/* { */
void jw_arr(struct jw *w);		/* [ */
void jw_end(struct jw *w, char close);	/* } or ] */
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);		/* NULL writes null */
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Raw JSON text (a number libpq returned, or a nested document). */
void jw_raw(struct jw *w, const char *s);
/* Convenience: key + value. */
void jw_kstr(struct jw *w, const char *key, const char *s);
void jw_kint(struct jw *w, const char *key, int64_t v);
void jw_kbool(struct jw *w, const char *key, bool v);
void jw_kraw(struct jw *w, const char *key, const char *s);
/*
 * key + a timestamp as PostgreSQL printed it (DateStyle ISO), written in
 * RFC 3339 to the second ("2026-11-27T09:18:31Z"); NULL writes null.  A
 * text isotime_parse cannot read ('infinity', a year past 9999) is
 * written as it is.
 */
void jw_ktime(struct jw *w, const char *key, const char *pg);

/* Append s[0..n) to b as a quoted JSON string. */
void json_escape(struct buf *b, const char *s, size_t n);

#endif
