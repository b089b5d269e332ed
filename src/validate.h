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
 * Query parameters: limit (1..max, default def) and a cursor; false when
 * the request has been answered with 400.
 */
bool validate_limit(struct req *r, const char *name, int64_t def,
    int64_t max, int64_t *out);

#endif
