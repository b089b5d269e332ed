/* util.h - allocation wrappers and strict parsers shared by every module. */
#ifndef BP_UTIL_H
#define BP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation that cannot fail: on exhaustion the process logs and exits. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * Parse all of s as a decimal integer in [min, max]: no sign other than a
 * leading '-', no spaces, no trailing bytes.  Returns true and sets *out.
 */
bool parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* True when s is a canonical UUID (8-4-4-4-12 hex, either letter case). */
bool is_uuid(const char *s);

/* Count the UTF-8 characters of s[0..len); -1 when s is not valid UTF-8. */
long utf8_len(const char *s, size_t len);

/* Constant-time comparison of two byte strings of the same length n. */
bool ct_equal(const void *a, const void *b, size_t n);

/* The n bytes at d as 2n lower-case hex digits, then a NUL, at out. */
void hex_encode(const void *d, size_t n, char *out);
/* The value of hex digit c (either case), or -1. */
int hex_digit(char c);

/* 16 bytes as a canonical lower-case UUID (8-4-4-4-12) and a NUL. */
void uuid_format(const unsigned char b[16], char out[37]);

#endif
