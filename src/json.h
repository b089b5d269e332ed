/*
 * json.h - JSON in and out: the one escaping writer of every response
 * body, and the strict reader of request bodies and legacy files.
 */
#ifndef BP_JSON_H
#define BP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "buf.h"

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

/*
 * The strict reader of request bodies (and legacy files): json-c's
 * tokener, with what it lets through and JSON does not allow refused
 * before and after it.  On BODY_OK *out is the object, which the caller
 * releases with json_object_put.
 */
enum body_status {
	BODY_OK,
	BODY_EMPTY,
	BODY_NUL,
	BODY_INVALID,
	BODY_NOT_OBJECT,
};
enum body_status json_parse_body(const char *data, size_t len,
    json_object **out);

/*
 * What json-c accepts and the API refuses in the JSON text data[0..len)
 * that json_parse_body parsed into v: an object that repeats a key, an
 * unpaired \uD800..\uDFFF escape, NaN, Infinity, a leading zero, an
 * integer below INT64_MIN.  NULL when fine, else the reason.
 */
const char *json_strict(const char *data, size_t len, json_object *v);

#endif
