/* cursor.c - opaque keyset-pagination cursors (see cursor.h). */
#include "autoconf.h"

#include <string.h>

#include "cursor.h"
#include "http.h"
#include "isotime.h"
#include "util.h"

#define CURSOR_BYTES	24

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * The timestamps a cursor may carry: those isotime reads and writes,
 * 0001-01-01T00:00:00Z up to 9999-12-31T23:59:59.999999Z (a four-digit
 * year, which PostgreSQL accepts); any row's time the list can show.
 */
#define US_MIN	(-62135596800LL * 1000000)
#define US_MAX	(253402300800LL * 1000000 - 1)

bool
cursor_encode(int64_t us, const char *id, char out[CURSOR_LEN + 1])
{
	unsigned char raw[CURSOR_BYTES];
	uint64_t u;
	size_t i, o = 0, k = 0;

	if (us < US_MIN || us > US_MAX || !is_uuid(id))
		return false;
	u = (uint64_t)us;
	for (i = 0; i < 8; i++)
		raw[i] = (unsigned char)(u >> (56 - 8 * i));
	for (i = 0; i < 36; i += 2) {
		if (id[i] == '-')
			i++;
		raw[8 + k++] = (unsigned char)(hex_digit(id[i]) << 4 |
		    hex_digit(id[i + 1]));
	}
	/* 24 bytes: eight groups of three, no padding */
	for (i = 0; i < CURSOR_BYTES; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		    raw[i + 2];

		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	return true;
}

bool
cursor_decode(const char *s, struct cursor *c)
{
	unsigned char raw[CURSOR_BYTES];
	uint64_t u = 0;
	int64_t us;
	size_t i, o = 0;

	memset(c, 0, sizeof(*c));
	if (s == NULL || strlen(s) != CURSOR_LEN)
		return false;
	for (i = 0; i < CURSOR_LEN; i += 4) {
		uint32_t v = 0;

		for (size_t j = 0; j < 4; j++) {
			const char *q = memchr(b64url, s[i + j], 64);

			if (q == NULL || s[i + j] == '\0')
				return false;
			v = v << 6 | (uint32_t)(q - b64url);
		}
		raw[o++] = (unsigned char)(v >> 16);
		raw[o++] = (unsigned char)(v >> 8);
		raw[o++] = (unsigned char)v;
	}
	for (i = 0; i < 8; i++)
		u = u << 8 | raw[i];
	us = (int64_t)u;
	if (us < US_MIN || us > US_MAX)
		return false;
	isotime_format_pg(us, c->ts);
	uuid_format(raw + 8, c->id);
	c->present = true;
	return true;
}

bool
cursor_param(struct req *r, struct cursor *c)
{
	bool bad;
	const char *v = http_query(r, "cursor", &bad);

	memset(c, 0, sizeof(*c));
	if (bad)
		return false;
	if (v == NULL)
		return true;
	if (!cursor_decode(v, c)) {
		http_fail(r, ERR_VALIDATION, "cursor",
		    "cursor is not a cursor this API "
		    "returned");
		return false;
	}
	return true;
}
