/* buf.h - growable byte buffer. */
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

#endif
