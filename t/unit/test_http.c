/* test_http.c - body parsing, content types and percent-decoding. */
#include "autoconf.h"

#include <stdlib.h>

#include "http.h"
#include "tap.h"

static enum body_status
parse(const char *s, size_t len)
{
	json_object *o = NULL;
	enum body_status st = http_parse_json(s, len, &o);

	json_object_put(o);
	return st;
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
