/* test_buf.c - the JSON writer, money and the strict parsers. */
#include "autoconf.h"

#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "money.h"
#include "tap.h"
#include "util.h"

int
main(void)
{
	struct buf b;
	struct jw w;
	char m[MONEY_MAX];
	int64_t v;

	buf_init(&b);
	json_escape(&b, "a\"b\\c\n\x01\x7f\xc3\xa9", 10);
	is_str(b.data, "\"a\\\"b\\\\c\\n\\u0001\x7f\xc3\xa9\"",
	    "escapes quotes, backslashes and controls, keeps UTF-8");
	buf_reset(&b, 0);

	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "s", "x");
	jw_kint(&w, "n", -5);
	jw_key(&w, "a");
	jw_arr(&w);
	jw_int(&w, 1);
	jw_null(&w);
	jw_obj(&w);
	jw_end(&w, '}');
	jw_end(&w, ']');
	jw_kbool(&w, "t", true);
	jw_kstr(&w, "z", NULL);
	jw_end(&w, '}');
	is_str(b.data, "{\"s\":\"x\",\"n\":-5,\"a\":[1,null,{}],\"t\":true,\"z\":null}",
	    "writer places commas and nests");
	buf_reset(&b, 0);

	jw_init(&w, &b);
	jw_arr(&w);
	jw_int(&w, 0);
	jw_int(&w, 9);
	jw_int(&w, 10);
	jw_int(&w, -1);
	jw_int(&w, INT64_MAX);
	jw_int(&w, INT64_MIN);
	jw_end(&w, ']');
	is_str(b.data, "[0,9,10,-1,9223372036854775807,-9223372036854775808]",
	    "integers, the extremes included");
	buf_reset(&b, 0);

	/* timestamps as PostgreSQL prints them, in RFC 3339 to the second */
	jw_init(&w, &b);
	jw_obj(&w);
	jw_ktime(&w, "a", "2026-11-27 09:18:31.999999+00");
	jw_ktime(&w, "b", "2026-11-27 09:18:31+00");
	jw_ktime(&w, "c", "2026-11-27 11:18:31.5+02");
	jw_ktime(&w, "d", "1969-12-31 23:59:59.5+00");
	jw_ktime(&w, "e", "2024-02-29 23:59:59.000001-05:30");
	jw_ktime(&w, "f", "0001-01-01 00:00:00+00");
	jw_ktime(&w, "g", "9999-12-31 23:59:59.999999+00");
	jw_ktime(&w, "h", NULL);
	jw_ktime(&w, "i", "infinity");
	jw_end(&w, '}');
	is_str(b.data, "{\"a\":\"2026-11-27T09:18:31Z\",\"b\":\"2026-11-27T09:18:31Z\","
	    "\"c\":\"2026-11-27T09:18:31Z\",\"d\":\"1969-12-31T23:59:59Z\","
	    "\"e\":\"2024-03-01T05:29:59Z\",\"f\":\"0001-01-01T00:00:00Z\","
	    "\"g\":\"9999-12-31T23:59:59Z\",\"h\":null,\"i\":\"infinity\"}",
	    "timestamps: the fraction dropped, zones to UTC, null, as is when unreadable");
	buf_reset(&b, 0);
	for (int i = 0; i < 5000; i++)
		buf_addc(&b, (char)('a' + i % 26));
	ok(b.len == 5000 && b.cap >= 5001 && b.data[5000] == '\0' &&
	    b.data[4999] == 'a' + 4999 % 26, "grows one byte at a time past 4 KiB");
	buf_free(&b);

	ok(money_parse("0.042", 5, m) && strcmp(m, "0.0420") == 0, "0.042 -> 0.0420");
	ok(money_parse("50", 2, m) && strcmp(m, "50.0000") == 0, "50 -> 50.0000");
	ok(money_parse("007.5", 5, m) && strcmp(m, "7.5000") == 0, "leading zeros");
	ok(money_parse("999999.9999", 11, m), "upper bound accepted");
	ok(!money_parse("1000000", 7, m), "above the bound refused");
	ok(!money_parse("1e3", 3, m), "exponent refused");
	ok(!money_parse("-1", 2, m), "negative refused");
	ok(!money_parse("-0", 2, m), "-0 refused");
	ok(!money_parse("1.23456", 7, m), "five decimals refused");
	ok(!money_parse(".5", 2, m), "no integer digit refused");
	ok(!money_parse("5.", 2, m), "trailing point refused");
	ok(!money_parse("", 0, m), "empty refused");
	ok(!money_parse(" 1", 2, m), "space refused");

	ok(parse_int64("42", 0, 100, &v) && v == 42, "int in range");
	ok(!parse_int64("101", 0, 100, &v), "int above range");
	ok(!parse_int64("4x", 0, 100, &v), "trailing garbage");
	ok(!parse_int64("", 0, 100, &v), "empty");
	ok(!parse_int64("99999999999999999999", INT64_MIN, INT64_MAX, &v),
	    "overflow");
	ok(parse_int64("-9223372036854775808", INT64_MIN, INT64_MAX, &v) &&
	    v == INT64_MIN, "INT64_MIN");

	ok(is_uuid("0b4f0c6e-1c6a-4b8e-9a43-2f5e1b7d9c01"), "uuid");
	ok(!is_uuid("0b4f0c6e-1c6a-4b8e-9a43-2f5e1b7d9c0"), "short uuid");
	ok(!is_uuid("0b4f0c6e11c6a-4b8e-9a43-2f5e1b7d9c01"), "misplaced dash");
	ok(utf8_len("h\xc3\xa9llo", 6) == 5, "utf8 length counts characters");
	ok(utf8_len("\xc3", 1) == -1, "truncated sequence");
	ok(utf8_len("\xc0\xaf", 2) == -1, "overlong form");
	ok(utf8_len("\xed\xa0\x80", 3) == -1, "surrogate");
	ok(ct_equal("abc", "abc", 3) && !ct_equal("abc", "abd", 3), "ct_equal");
	return tap_done();
}
