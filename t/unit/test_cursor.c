/* test_cursor.c - pagination cursors and slugs made from titles. */
#include "autoconf.h"

#include <string.h>

#include "cursor.h"
#include "isotime.h"
#include "slug.h"
#include "tap.h"

/* pg: a row's time as PostgreSQL prints it; ts: the cursor's, decoded. */
static void
roundtrip(const char *pg, const char *id, const char *ts, const char *name)
{
	char enc[CURSOR_LEN + 1];
	struct cursor c;
	int64_t us = 0;

	ok(isotime_parse(pg, &us), "%s: read", name);
	ok(cursor_encode(us, id, enc), "%s: encodes", name);
	ok(strlen(enc) == CURSOR_LEN, "%s: %d characters", name, CURSOR_LEN);
	ok(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == CURSOR_LEN, "%s: base64url", name);
	ok(cursor_decode(enc, &c) && c.present, "%s: decodes", name);
	is_str(c.ts, ts, name);
	is_str(c.id, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "id, lower case");
}

static void
slug(const char *title, const char *want)
{
	char out[SLUG_MAX + 1];

	slug_from_title(title, out);
	is_str(out, want, title);
}

int
main(void)
{
	struct cursor c;
	char enc[CURSOR_LEN + 1], big[1200], want[SLUG_MAX + 1];

	roundtrip("2026-11-29 04:26:25.123456+00",
	    "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D",
	    "2026-11-29 04:26:25.123456+00", "a recent time");
	roundtrip("2026-11-29 04:26:25.12+00",
	    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
	    "2026-11-29 04:26:25.120000+00", "trailing zeros left out");
	roundtrip("2026-11-29 06:26:25+02", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
	    "2026-11-29 04:26:25.000000+00", "another zone, no fraction");
	roundtrip("1970-01-01 00:00:00+00", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
	    "1970-01-01 00:00:00.000000+00", "the epoch");
	roundtrip("1969-12-31 23:59:59.999999+00",
	    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
	    "1969-12-31 23:59:59.999999+00", "just before the epoch");
	roundtrip("1850-06-01 12:00:00.5+00", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
	    "1850-06-01 12:00:00.500000+00", "before 1900");
	roundtrip("0850-03-04 05:06:07.000008+00",
	    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
	    "0850-03-04 05:06:07.000008+00", "a three-digit year");
	roundtrip("0001-01-01 00:00:00+00", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
	    "0001-01-01 00:00:00.000000+00", "the earliest");
	roundtrip("9999-12-31 23:59:59.999999+00",
	    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
	    "9999-12-31 23:59:59.999999+00", "the latest");

	ok(!cursor_encode(INT64_C(-62135596800000001),
	    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", enc), "before the year 1 refused");
	ok(!cursor_encode(INT64_C(253402300800000000),
	    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", enc), "year 10000 refused");
	ok(!cursor_encode(1, "0a1b2c3d", enc), "a bad uuid refused");
	ok(!cursor_decode("", &c), "empty");
	ok(!cursor_decode(NULL, &c), "NULL");
	ok(!cursor_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &c), "31 characters");
	ok(!cursor_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &c), "33 characters");
	ok(!cursor_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &c), "padding");
	ok(!cursor_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+/", &c), "base64, not url");
	ok(!cursor_decode("f_____AAAAAAAAAAAAAAAAAAAAAAAAAA", &c),
	    "a time out of range");
	ok(cursor_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &c) &&
	    strcmp(c.id, "00000000-0000-0000-0000-000000000000") == 0,
	    "zero bytes: the epoch and the nil uuid");

	slug("Hello, World!", "hello-world");
	slug("  --Leading and trailing--  ", "leading-and-trailing");
	slug("Caf\xc3\xa9 au lait", "caf-au-lait");
	slug("!!!", "article");
	slug("", "article");
	slug("\xe6\x97\xa5\xe6\x9c\xac", "article");
	slug("A_B  C...D 2024", "a-b-c-d-2024");
	slug("x", "x");
	memset(big, 'a', 600);
	big[600] = '\0';
	memset(want, 'a', SLUG_MAX);
	want[SLUG_MAX] = '\0';
	slug(big, want);
	memset(big, 'a', 499);
	memcpy(big + 499, " bc", 4);
	want[499] = '\0';
	slug(big, want);	/* cut on the separator: no trailing '-' */
	return tap_done();
}
