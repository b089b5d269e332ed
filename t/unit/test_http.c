/* test_http.c - body parsing, content types and percent-decoding. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "tap.h"

static enum body_status
parse(const char *s, size_t len)
{
	json_object *o = NULL;
	enum body_status st = json_parse_body(s, len, &o);

	json_object_put(o);
	return st;
}

/*
 * 1 when JSON text s passes json_strict, 0 when it is refused there
 * (why in *why), -1 when json_parse_body refuses it already.
 */
static int
strict(const char *s, const char **why)
{
	json_object *o = NULL;
	const char *w;

	*why = "";
	if (json_parse_body(s, strlen(s), &o) != BODY_OK)
		return -1;
	w = json_strict(s, strlen(s), o);
	json_object_put(o);
	if (w == NULL)
		return 1;
	*why = w;
	return 0;
}

/* 1 when keys and escapes of s are fine, 0 when refused for dup, -1 else */
static int
unique(const char *s)
{
	const char *why;
	int st = strict(s, &why);

	return st == 0 && strstr(why, "duplicate") == NULL ? -1 : st;
}

/* 1 when s passes, 0 when refused for a surrogate escape, -1 else */
static int
paired(const char *s)
{
	const char *why;
	int st = strict(s, &why);

	return st == 0 && strstr(why, "surrogate") == NULL ? -1 : st;
}

int
main(void)
{
	char deep[20001];
	char *d;
	size_t i;

	ok(parse("{\"a\":1}", 7) == BODY_OK, "object accepted");
	ok(parse("{\"a\":1}  \n", 10) == BODY_OK, "trailing white space ok");
	ok(parse("{\"a\":1}x", 8) == BODY_INVALID, "trailing garbage refused");
	ok(parse("{\"a\":1}{}", 9) == BODY_INVALID, "two documents refused");
	ok(parse("", 0) == BODY_EMPTY, "empty body");
	ok(parse("  ", 2) == BODY_EMPTY, "blank body");
	ok(parse("[1]", 3) == BODY_NOT_OBJECT, "array refused");
	ok(parse("\"x\"", 3) == BODY_NOT_OBJECT, "string refused");
	ok(parse("{\"a\":1,}", 8) == BODY_INVALID, "trailing comma refused");
	ok(parse("{'a':1}", 7) == BODY_INVALID, "single quotes refused");
	ok(parse("{\"a\":\"x\0y\"}", 11) == BODY_NUL, "raw NUL refused");
	ok(parse("{\"a\":\"x\\u0000y\"}", 16) == BODY_NUL, "escaped NUL refused");
	ok(parse("{\"a\\u0000\":1}", 13) == BODY_NUL || parse("{\"a\\u0000\":1}", 13) == BODY_INVALID,
	    "NUL in a key refused");
	ok(parse("{\"a\":\"\xff\"}", 9) == BODY_INVALID, "invalid UTF-8 refused");
	ok(parse("{\"a\":\"\xc0\x80\"}", 10) == BODY_INVALID,
	    "overlong UTF-8 refused");
	ok(parse("{\"\xed\xa0\x80\":1}", 9) == BODY_INVALID,
	    "UTF-8 surrogate in a key refused");
	ok(parse("{\"a\":\"\xf4\x90\x80\x80\"}", 12) == BODY_INVALID,
	    "code point beyond U+10FFFF refused");
	ok(parse("{\"a\":\"\xf0\x9f\x98\x80\"}", 12) == BODY_OK,
	    "4-byte UTF-8 (emoji) accepted");
	ok(1 == unique("{\"a\":1,\"b\":{\"a\":2,\"c\":[{\"a\":3}]}}"),
	    "equal keys in different objects are fine");
	ok(1 == unique("{\"a\":\"x:y\\\":\",\"b\":\":\"}"),
	    "colons and escaped quotes inside strings are not members");
	ok(0 == unique("{\"a\":1,\"a\":2}"), "duplicate key found");
	ok(0 == unique("{\"a\":1,\"\\u0061\":2}"),
	    "duplicate key found after unescaping");
	ok(0 == unique("{\"x\":[1,{\"k\":1,\"b\":2,\"k\":1}]}"),
	    "duplicate key found in a nested object");
	ok(0 == unique("{\"a\":{},\"a\":{}}"), "duplicate of empty objects found");
	ok(1 == paired("{\"a\":\"\\ud83d\\ude00 \\u00e9\\\\ud800\"}"),
	    "a surrogate pair, a BMP escape and an escaped backslash pass");
	ok(0 == paired("{\"a\":\"\\ud800\"}"), "lone high surrogate refused");
	ok(0 == paired("{\"a\":\"x\\ud83dy\"}"), "high surrogate and a letter refused");
	ok(0 == paired("{\"a\":\"\\ud83d\\u0041\"}"),
	    "high surrogate and a non-surrogate escape refused");
	ok(0 == paired("{\"a\":\"\\udc00\"}"), "lone low surrogate refused");
	ok(0 == paired("{\"\\uDE00\":1}"), "lone low surrogate in a key refused");
	ok(0 == paired("{\"a\":\"\\ude00\\ud83d\"}"), "reversed pair refused");
	{
		static const char *const good[] = { "0", "-0", "1", "-1",
		    "0.5", "-0.0", "1e5", "1E-5", "1.5e+3", "10", "120",
		    "-9223372036854775808", "9223372036854775807",
		    "18446744073709551615", "99999999999999999999", "1e999",
		    "-9223372036854775809", "-99999999999999999999",
		    "[1,-2,30]", "[-9223372036854775809]", NULL };
		static const char *const bad[] = { "00", "-01", "1.e3",
		    "NaN", "Infinity", "-Infinity", "[1,NaN]", NULL };
		char buf[64];
		const char *why;

		for (i = 0; good[i] != NULL; i++) {
			snprintf(buf, sizeof(buf), "{\"a\":%s}", good[i]);
			ok(strict(buf, &why) == 1, "number %s passes", good[i]);
		}
		for (i = 0; bad[i] != NULL; i++) {
			int st;

			snprintf(buf, sizeof(buf), "{\"a\":%s}", bad[i]);
			st = strict(buf, &why);
			ok(st == 0, "number %s refused (%s)", bad[i], why);
		}
		{
			static const char body[] = "{\"x\":[-9223372036854775809],"
			    "\"y\":{\"z\":1},\"a\":-9223372036854775809,\"b\":2}";
			json_object *o = NULL, *a, *x;

			ok(json_parse_body(body, strlen(body), &o) == BODY_OK &&
			    json_strict(body, strlen(body), o) == NULL,
			    "an integer below INT64_MIN passes the strict check");
			a = json_object_object_get(o, "a");
			ok(json_object_is_type(a, json_type_double) &&
			    strcmp(json_object_to_json_string(a),
			    "-9223372036854775809") == 0,
			    "... a top-level member keeps its text as a number "
			    "that is not an integer (%s)",
			    json_object_to_json_string(a));
			x = json_object_object_get(o, "b");
			ok(json_object_is_type(x, json_type_int) &&
			    json_object_get_int64(x) == 2,
			    "... the next member is untouched");
			json_object_put(o);
		}
		ok(strict("{\"N\":\"-01 NaN 1.e3\"}", &why) == 1,
		    "the same inside strings passes");
	}
	for (i = 0; i < 10000; i++) {
		deep[i] = '[';
		deep[10000 + i] = ']';
	}
	deep[20000] = '\0';
	{
		char *obj = malloc(20000 + 8);

		memcpy(obj, "{\"a\":", 5);
		memcpy(obj + 5, deep, 20000);
		memcpy(obj + 20005, "}", 2);
		ok(parse(obj, strlen(obj)) == BODY_INVALID,
		    "10,000 levels of nesting refused");
		free(obj);
	}

	ok(http_is_json_type("application/json"), "plain json type");
	ok(http_is_json_type("Application/JSON; charset=utf-8"), "charset and case");
	ok(!http_is_json_type("application/jsonx"), "longer type refused");
	ok(!http_is_json_type("text/plain"), "text refused");
	ok(!http_is_json_type(NULL), "missing refused");

	d = http_pct_decode("a%20b+c", 7);
	is_str(d, "a b c", "percent and plus decoded");
	free(d);
	ok(http_pct_decode("a%00b", 5) == NULL, "%%00 refused");
	ok(http_pct_decode("a%2", 3) == NULL, "truncated escape refused");
	ok(http_pct_decode("a%zz", 4) == NULL, "bad hex refused");
	ok(http_pct_decode("%ff", 3) == NULL, "invalid UTF-8 refused");
	return tap_done();
}
