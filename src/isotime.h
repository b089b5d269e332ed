/*
 * isotime.h - instants as microseconds since 1970-01-01 UTC, and their
 * ISO 8601 text forms: what PostgreSQL prints and reads, RFC 3339 for the
 * API, and the lenient form of the legacy files.  Proleptic Gregorian
 * calendar, years 1 to 9999, no leap seconds.
 */
#ifndef BP_ISOTIME_H
#define BP_ISOTIME_H

#include <stdbool.h>
#include <stdint.h>

#define US_PER_SEC	INT64_C(1000000)
#define US_PER_DAY	(INT64_C(86400) * US_PER_SEC)

/* "YYYY-MM-DD HH:MM:SS.ffffff+00" and its NUL. */
#define ISOTIME_PG_MAX		32
/* "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define ISOTIME_RFC3339_MAX	21

/*
 * An ISO 8601 timestamp: YYYY-MM-DD, optionally followed by 'T' (or a
 * space) and HH:MM[:SS[.fraction]], optionally followed by 'Z' or an
 * offset +HH, +HHMM or +HH:MM.  Without a zone it is UTC.  Digits of the
 * fraction beyond microseconds are dropped.  The instant, in UTC, must lie
 * in the years 1 to 9999.  Returns true with *us set.  This reads
 * PostgreSQL's timestamptz output with DateStyle ISO ("2026-11-27
 * 09:18:31.123456+00").
 */
bool isotime_parse(const char *s, int64_t *us);

/* us as "YYYY-MM-DD HH:MM:SS.ffffff+00" (PostgreSQL input). */
void isotime_format_pg(int64_t us, char out[ISOTIME_PG_MAX]);

/* us as "YYYY-MM-DDTHH:MM:SSZ", the fraction dropped (the API's form). */
void isotime_format_rfc3339(int64_t us, char out[ISOTIME_RFC3339_MAX]);

/* The UTC month of us as year * 100 + month (202411). */
int isotime_month(int64_t us);

#endif
