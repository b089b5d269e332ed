/* money.h - exact money as text: parse, normalise, compare.  No doubles. */
#ifndef BP_MONEY_H
#define BP_MONEY_H

#include <stdbool.h>
#include <stddef.h>

/* Longest normalised form: "999999.9999" plus NUL. */
#define MONEY_MAX 16

/*
 * Parse s[0..len) as plain decimal money: digits, optionally '.' and 1..4
 * digits; no sign, exponent or spaces; value 0..999999.9999.  On success
 * writes the normalised form with exactly 4 decimals ("0.0420") to out.
 */
bool money_parse(const char *s, size_t len, char out[MONEY_MAX]);

#endif
