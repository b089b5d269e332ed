/*
 * validate.h - request bodies checked against a field table before a
 * handler uses them.  A handler declares its fields (name, type, bounds,
 * required, nullable) and gets validated values, or the request has been
 * answered with 400 validation_failed naming the field.
 */
#ifndef BP_VALIDATE_H
#define BP_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "money.h"

struct req;

enum ftype {
	FT_STRING,	/* UTF-8 string, length min..max in characters */
	FT_INT,		/* JSON integer in min..max */
	FT_NUMBER,	/* finite JSON number in min..max, kept as text */
	FT_BOOL,
	FT_MONEY,	/* number or string, plain decimal, 0..999999.9999 */
	FT_UUID,	/* canonical UUID string (lower-cased on output) */
	FT_ENUM,	/* one of choices[] */
	FT_URL,		/* http(s) URL, at most max characters */
	FT_SLUG,	/* [a-z0-9-], length min..max */
	FT_EMBEDDING,	/* array of exactly EMBEDDING_DIM finite numbers */
};

struct field {
	const char		*name;
	enum ftype		 type;
	bool			 required;
	bool			 nullable;
	int64_t			 min, max;
	const char *const	*choices;	/* FT_ENUM, NULL-terminated */
};

/* A body's field table, as a route names it (router.h). */
struct fieldset {
	const struct field	*fields;
	size_t			 n;
};

struct fval {
	bool		 present;
	bool		 is_null;
	const char	*s;		/* string forms; per-request memory */
	int64_t		 i;
	bool		 b;
	char		 money[MONEY_MAX];
};

/*
 * Check r->json against fields[0..n).  Unknown fields (and the read-only
 * ones, which are simply not in the table) are refused.  On success fills
 * out[0..n) in table order and returns true; otherwise the 400 has been
 * written and it returns false.
 */
bool validate_body(struct req *r, const struct field *fields, size_t n,
    struct fval *out);

/* The slug alphabet [a-z0-9-] (the length is checked by the caller). */
bool validate_is_slug(const char *s);
/* An http:// or https:// URL with a host and no blanks or controls. */
bool validate_is_http_url(const char *s);

/*
 * The rules of single values, shared by the request validator above and
 * the legacy file parser (legacy.c): each takes the value (never JSON
 * null: the caller decides what null means) and the field's name, and
 * returns NULL when the value is good, else the reason ("<name> must
 * ..."), written into reason.
 */
#define VALIDATE_REASON_MAX	192

struct buf;
struct json_object;

/*
 * A string s of min..max characters of [a-z0-9-] (s valid UTF-8: its
 * length is counted in characters).
 */
const char *validate_slug(const char *name, const char *s, int64_t min,
    int64_t max, char reason[VALIDATE_REASON_MAX]);

/*
 * A finite number d from min to max; out receives the double as the
 * server keeps it ("%.17g", -0 as 0: not the client's text, which
 * PostgreSQL may refuse where the double is fine, e.g. 1e-999).
 */
const char *validate_number(const char *name, double d, int64_t min,
    int64_t max, char out[32], char reason[VALIDATE_REASON_MAX]);

/*
 * Money: a JSON number or string, plain decimal from 0 to 999999.9999
 * with at most 4 decimals (money_parse); out the normalised text.
 */
const char *validate_money(const char *name, struct json_object *v,
    char out[MONEY_MAX], char reason[VALIDATE_REASON_MAX]);

/*
 * An embedding: a JSON array of exactly cfg.embedding_dim finite numbers
 * that fit a float.  Appends to out the numbers as the server keeps them
 * (float, "%.9g"), comma-separated, without brackets.
 */
const char *validate_embedding(const char *name, struct json_object *v,
    struct buf *out, char reason[VALIDATE_REASON_MAX]);

/*
 * Query parameters: limit (1..max, default def) and a cursor; false when
 * the request has been answered with 400.
 */
bool validate_limit(struct req *r, const char *name, int64_t def,
    int64_t max, int64_t *out);

#endif
