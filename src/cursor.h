/*
 * cursor.h - opaque keyset-pagination cursors.
 *
 * A cursor names the last row of a page by its sort key: a timestamp with
 * microseconds and a UUID (e.g. created_at, id).  On the wire it is 32
 * base64url characters (no padding) of 24 bytes: the timestamp as
 * microseconds since the Unix epoch (signed, big-endian) and the UUID's 16
 * bytes.  Clients must treat it as opaque; a malformed one is a 400 on
 * field "cursor".
 */
#ifndef BP_CURSOR_H
#define BP_CURSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "isotime.h"

struct req;

#define CURSOR_LEN	32	/* characters, without the NUL */

/* A decoded cursor, ready to be bound as $n::timestamptz and $m::uuid. */
struct cursor {
	bool	present;	/* false: no ?cursor=, start at the top */
	char	ts[ISOTIME_PG_MAX];	/* "2026-11-27 02:39:45.123456+00" */
	char	id[37];		/* canonical lower-case UUID */
};

/*
 * Encode the key of a row: us its timestamp in microseconds since the
 * epoch, id a UUID as libpq returned it.  Returns false (out untouched)
 * when the time is out of range (years 1 to 9999) or id malformed.
 */
bool cursor_encode(int64_t us, const char *id, char out[CURSOR_LEN + 1]);

/* Decode s; false when it is not a cursor this program made. */
bool cursor_decode(const char *s, struct cursor *c);

/*
 * The ?cursor= query parameter of r: c->present is false when it is
 * absent.  Returns false when the request has been answered with 400
 * validation_failed (field "cursor").
 */
bool cursor_param(struct req *r, struct cursor *c);

#endif
