/* isotime.c - instants and their ISO 8601 text forms (see isotime.h). */
#include "autoconf.h"

#include <stdio.h>

#include "isotime.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* n digits at *s as a number; advances *s.  -1 when they are not digits. */
static int
digits(const char **s, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (**s < '0' || **s > '9')
			return -1;
		v = v * 10 + (**s - '0');
		(*s)++;
	}
	return v;
}

bool
isotime_parse(const char *s, int64_t *us)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, fd = 0, oh = 0, om = 0;
	int sign = 0;
	int64_t t, lo, hi;

	if ((y = digits(&s, 4)) < 1 || *s++ != '-' ||
	    (mo = digits(&s, 2)) < 1 || mo > 12 || *s++ != '-' ||
	    (d = digits(&s, 2)) < 1 || d > days_in_month(y, mo))
		return false;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if ((h = digits(&s, 2)) < 0 || h > 23 || *s++ != ':' ||
		    (mi = digits(&s, 2)) < 0 || mi > 59)
			return false;
		if (*s == ':') {
			s++;
			if ((sec = digits(&s, 2)) < 0 || sec > 59)
				return false;
			if (*s == '.' || *s == ',') {
				s++;
				if (*s < '0' || *s > '9')
					return false;
				for (; *s >= '0' && *s <= '9'; s++)
					if (fd < 6) {
						frac = frac * 10 + (*s - '0');
						fd++;
					}
				for (; fd < 6; fd++)
					frac *= 10;
			}
		}
		if (*s == 'Z' || *s == 'z')
			s++;
		else if (*s == '+' || *s == '-') {
			sign = *s++ == '-' ? -1 : 1;
			if ((oh = digits(&s, 2)) < 0 || oh > 23)
				return false;
			if (*s == ':')
				s++;
			if (*s != '\0' && ((om = digits(&s, 2)) < 0 || om > 59))
				return false;
		}
	}
	if (*s != '\0')
		return false;
	t = days_from_civil(y, mo, d) * US_PER_DAY +
	    ((int64_t)h * 3600 + mi * 60 + sec) * US_PER_SEC + frac;
	t -= (int64_t)sign * ((int64_t)oh * 3600 + om * 60) * US_PER_SEC;
	lo = days_from_civil(1, 1, 1) * US_PER_DAY;
	hi = days_from_civil(10000, 1, 1) * US_PER_DAY;
	if (t < lo || t >= hi)
		return false;
	*us = t;
	return true;
}

/* Floor division of us into days and the microseconds of the day. */
static void
split_us(int64_t us, int64_t *day, int64_t *rest)
{
	*day = us / US_PER_DAY;
	*rest = us % US_PER_DAY;
	if (*rest < 0) {
		*rest += US_PER_DAY;
		(*day)--;
	}
}

void
isotime_format_pg(int64_t us, char out[ISOTIME_PG_MAX])
{
	int64_t day, rest;
	int y, m, d;

	split_us(us, &day, &rest);
	civil_from_days(day, &y, &m, &d);
	/* the moduli only tell the compiler the widths (years 1..9999) */
	snprintf(out, ISOTIME_PG_MAX, "%04u-%02u-%02u %02u:%02u:%02u.%06u+00",
	    (unsigned)y % 10000, (unsigned)m % 100, (unsigned)d % 100,
	    (unsigned)(rest / (3600 * US_PER_SEC)) % 100,
	    (unsigned)(rest / (60 * US_PER_SEC) % 60),
	    (unsigned)(rest / US_PER_SEC % 60),
	    (unsigned)(rest % US_PER_SEC) % 1000000);
}

/* n decimal digits of v at p (v < 10^n). */
static char *
put_digits(char *p, unsigned v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

void
isotime_format_rfc3339(int64_t us, char out[ISOTIME_RFC3339_MAX])
{
	int64_t day, rest;
	int y, m, d;
	unsigned s;
	char *p = out;

	split_us(us, &day, &rest);
	civil_from_days(day, &y, &m, &d);
	s = (unsigned)(rest / US_PER_SEC);
	p = put_digits(p, (unsigned)y % 10000, 4);
	*p++ = '-';
	p = put_digits(p, (unsigned)m, 2);
	*p++ = '-';
	p = put_digits(p, (unsigned)d, 2);
	*p++ = 'T';
	p = put_digits(p, s / 3600, 2);
	*p++ = ':';
	p = put_digits(p, s / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, s % 60, 2);
	*p++ = 'Z';
	*p = '\0';
}

int
isotime_month(int64_t us)
{
	int64_t day, rest;
	int y, m, d;

	split_us(us, &day, &rest);
	civil_from_days(day, &y, &m, &d);
	return y * 100 + m;
}
