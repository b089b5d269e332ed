/* test_import.c - the legacy file parsers, timestamps, ids and slugs. */
#include "autoconf.h"

#include <stdint.h>
#include <string.h>

#include "config.h"
#include "import.h"
#include "isotime.h"
#include "legacy.h"
#include "tap.h"

static char reason[512];

static bool
article(const char *json, struct legacy_article *a)
{
	reason[0] = '\0';
	return legacy_parse_article(json, strlen(json), a, reason,
	    sizeof(reason));
}

static bool
pipeline(const char *json, struct legacy_pipeline *p)
{
	reason[0] = '\0';
	return legacy_parse_pipeline(json, strlen(json), p, reason,
	    sizeof(reason));
}

/* The article is refused with a reason containing want. */
static void
refused(const char *json, const char *want, const char *name)
{
	struct legacy_article a;
	bool got = article(json, &a);

	ok(!got && strstr(reason, want) != NULL, "%s", name);
	if (got)
		legacy_article_free(&a);
	else if (strstr(reason, want) == NULL)
		printf("#   reason: '%s', expected it to contain '%s'\n", reason,
		    want);
}

static void
run_refused(const char *json, const char *want, const char *name)
{
	struct legacy_pipeline p;
	bool got = pipeline(json, &p);

	ok(!got && strstr(reason, want) != NULL, "%s", name);
	if (got)
		legacy_pipeline_free(&p);
	else if (strstr(reason, want) == NULL)
		printf("#   reason: '%s', expected it to contain '%s'\n", reason,
		    want);
}

static void
times(void)
{
	char out[ISOTIME_PG_MAX];
	int64_t us;

	ok(isotime_parse("1970-01-01T00:00:00Z", &us) && us == 0, "epoch");
	ok(isotime_parse("2024-03-05T10:11:12", &us) &&
	    us == INT64_C(1709633472) * 1000000, "no zone is UTC");
	ok(isotime_parse("2024-03-05 12:11:12+02:00", &us) &&
	    us == INT64_C(1709633472) * 1000000, "offset converted to UTC");
	ok(isotime_parse("2024-03-05T05:11:12-0500", &us) &&
	    us == INT64_C(1709633472) * 1000000, "offset without a colon");
	ok(isotime_parse("2024-03-05T10:11:12.1234567Z", &us) &&
	    us == INT64_C(1709633472) * 1000000 + 123456,
	    "fraction cut to microseconds");
	ok(isotime_parse("2024-03-05", &us) &&
	    us == INT64_C(1709596800) * 1000000, "a date is midnight UTC");
	ok(isotime_parse("2024-02-29T00:00", &us), "leap day, no seconds");
	ok(!isotime_parse("2023-02-29T00:00:00Z", &us), "not a leap year");
	ok(!isotime_parse("2024-13-01T00:00:00Z", &us), "month 13");
	ok(!isotime_parse("2024-01-01T24:00:00Z", &us), "hour 24");
	ok(!isotime_parse("2024-01-01T00:00:00Zx", &us), "trailing text");
	ok(!isotime_parse("24-01-01", &us), "two-digit year");
	ok(!isotime_parse("", &us), "empty");
	ok(!isotime_parse("0001-01-01T00:00:00+01:00", &us),
	    "before year 1 in UTC");
	ok(isotime_parse("1969-12-31T23:59:59.5Z", &us) && us == -500000,
	    "before 1970");
	isotime_format_pg(-500000, out);
	is_str(out, "1969-12-31 23:59:59.500000+00", "formatted before 1970");
	isotime_format_pg(INT64_C(1709633472) * 1000000 + 7, out);
	is_str(out, "2024-03-05 10:11:12.000007+00", "formatted");
	ok(isotime_month(INT64_C(1709633472) * 1000000) == 202403, "month");
	ok(isotime_month(-1) == 196912, "month before 1970");
}

static void
ids_and_slugs(void)
{
	char id[37], s[SLUG_MAX + 1], base[SLUG_MAX + 1];

	legacy_path_id_v1("", id);
	is_str(id, "d41d8cd9-8f00-b204-e980-0998ecf8427e", "md5 of nothing");
	legacy_path_id_v1("articles/a.json", id);
	/* echo -n articles/a.json | md5sum */
	is_str(id, "fb26dbf8-9830-4ab1-176b-01a72c153a58", "md5 of a path");
	legacy_path_id("0b5c6f5e-8d4a-4c1e-9f00-1234567890ab",
	    "articles/a.json", id);
	/* echo -n 0b5c6f5e-8d4a-4c1e-9f00-1234567890ab:articles/a.json | md5sum */
	is_str(id, "5aa462d0-031d-b07f-1f84-bac61a5a4630",
	    "md5 of the owner, a colon and the path");

	import_slug_candidate("hello", 1, s);
	is_str(s, "hello", "candidate 1 is the base");
	import_slug_candidate("hello", 2, s);
	is_str(s, "hello-2", "candidate 2");
	import_slug_candidate("hello-", 3, s);
	is_str(s, "hello-3", "trailing dash trimmed");
	memset(base, 'a', SLUG_MAX);
	base[SLUG_MAX] = '\0';
	base[497] = '-';
	import_slug_candidate(base, 12, s);
	ok(strlen(s) == 497 + 3 && strcmp(s + 497, "-12") == 0,
	    "long base cut to fit, dash trimmed at the cut");
}

static void
articles(void)
{
	struct legacy_article a;

	ok(article("\xef\xbb\xbf{\"title\":\"Hi\",\"seo_score\":\"85.5\","
	    "\"wp_post_id\":\"42\",\"created_at\":\"2024-01-02T03:04:05\"}", &a),
	    "BOM, numbers as strings, timestamp without zone");
	is_str(a.title, "Hi", "title");
	ok(a.slug == NULL, "no slug");
	is_str(a.seo_score, "85.5", "seo_score from a string");
	is_str(a.wp_post_id, "42", "wp_post_id from a string");
	is_str(a.status, "draft", "status defaults to draft");
	ok(a.has_created && !a.has_updated, "created_at only");
	is_str(a.id, "", "no id");
	legacy_article_free(&a);

	ok(article("{\"id\":\"ABCDEF01-2345-6789-ABCD-EF0123456789\","
	    "\"title\":\"T\",\"slug\":\"\",\"seo_score\":99.50,"
	    "\"status\":\"published\",\"wp_post_id\":7,\"wp_url\":null,"
	    "\"has_embedding\":false,\"embedding\":[1,0.5,-2]}", &a),
	    "numbers, null, empty slug, embedding");
	is_str(a.id, "abcdef01-2345-6789-abcd-ef0123456789", "id lower-cased");
	ok(a.slug == NULL, "an empty slug is a missing one");
	is_str(a.seo_score, "99.5", "seo_score as the number it is");
	is_str(a.embedding, "1,0.5,-2", "embedding text");
	legacy_article_free(&a);

	ok(article("{\"title\":\"T\",\"seo_score\":1e-999}", &a),
	    "a seo_score that underflows");
	is_str(a.seo_score, "0", "is stored as 0, not as text PostgreSQL refuses");
	legacy_article_free(&a);
	ok(article("{\"title\":\"T\",\"seo_score\":\"-0\"}", &a), "-0");
	is_str(a.seo_score, "0", "-0 is 0");
	legacy_article_free(&a);

	refused("", "empty", "empty file");
	refused("   \n", "empty", "blank file");
	refused("{\"title\":\"x\"", "truncated", "truncated");
	refused("{\"title\":\"x\",", "truncated", "truncated after a comma");
	refused("title: x", "not JSON", "not JSON");
	refused("{\"title\":\"x\"} {}", "not JSON: unexpected character at byte 14", "two values");
	refused("{\"title\":'x'}", "not JSON", "single quotes");
	refused("[1]", "not a JSON object", "an array");
	refused("{\"title\":\"\xff\"}", "UTF-8", "invalid UTF-8");
	refused("{\"title\":\"a\\u0000b\"}", "NUL", "NUL character");
	refused("{\"slug\":\"x\"}", "title is missing", "missing title");
	refused("{\"title\":null}", "title is missing", "null title");
	refused("{\"title\":\"\"}", "title must be 1 to 500", "empty title");
	refused("{\"title\":5}", "title must be a string", "title a number");
	refused("{\"title\":\"x\",\"slug\":\"Hello World\"}", "slug may contain",
	    "bad slug");
	refused("{\"title\":\"x\",\"seo_score\":101}", "seo_score must be",
	    "seo_score over 100");
	refused("{\"title\":\"x\",\"seo_score\":\"high\"}", "seo_score must be",
	    "seo_score a word");
	refused("{\"title\":\"x\",\"wp_post_id\":1.5}", "wp_post_id", "wp id float");
	refused("{\"title\":\"x\",\"wp_url\":\"ftp://x\"}", "wp_url", "wp_url ftp");
	refused("{\"title\":\"x\",\"status\":\"live\"}", "status must be",
	    "unknown status");
	refused("{\"title\":\"x\",\"created_at\":\"yesterday\"}", "created_at",
	    "bad timestamp");
	refused("{\"title\":\"x\",\"id\":\"nope\"}", "id must be a UUID", "bad id");
	refused("{\"title\":\"x\",\"user_id\":null}", "unknown field: user_id",
	    "unknown field");
	refused("{\"title\":\"x\",\"embedding\":[1,2]}", "exactly 3", "embedding "
	    "of the wrong length");
	{
		char big[400];

		snprintf(big, sizeof(big), "{\"title\":\"x\",\"meta_description\":"
		    "\"%0321d\"}", 0);
		refused(big, "at most 320", "meta_description too long");
	}
	ok(!article("{\"id\":\"abcdef01-2345-6789-abcd-ef0123456789\","
	    "\"title\":7}", &a) &&
	    strcmp(a.id, "abcdef01-2345-6789-abcd-ef0123456789") == 0,
	    "a bad file's id is still known");
}

static void
pipelines(void)
{
	struct legacy_pipeline p;

	ok(pipeline("{\"id\":\"abcdef01-2345-6789-abcd-ef0123456789\","
	    "\"article_id\":null,\"status\":\"completed\",\"total_cost\":\"0.42\","
	    "\"started_at\":\"2024-01-31T23:00:00\","
	    "\"completed_at\":\"2024-02-01T00:30:00+01:00\",\"error_message\":null}",
	    &p), "a completed run");
	is_str(p.total_cost, "0.4200", "cost normalised");
	is_str(p.estimated_cost, "0.0000", "no estimate: 0");
	ok(p.status == LEGACY_COMPLETED && p.has_completed &&
	    isotime_month(p.completed_us) == 202401, "month of the end, in UTC");
	legacy_pipeline_free(&p);
	ok(pipeline("{\"status\":\"running\",\"started_at\":\"2024-01-01\"}", &p),
	    "a running run");
	ok(!p.has_completed && p.id[0] == '\0', "no end, no id");
	legacy_pipeline_free(&p);

	run_refused("{\"status\":\"completed\",\"started_at\":\"2024-01-01\","
	    "\"completed_at\":\"2024-01-01\"}", "total_cost is required",
	    "completed without a cost");
	run_refused("{\"status\":\"failed\",\"started_at\":\"2024-01-01\"}",
	    "completed_at is required", "failed without an end");
	run_refused("{\"status\":\"running\",\"started_at\":\"2024-01-01\","
	    "\"completed_at\":\"2024-01-02\"}", "must be null", "running with "
	    "an end");
	run_refused("{\"status\":\"done\",\"started_at\":\"2024-01-01\"}",
	    "status must be", "unknown status");
	run_refused("{\"status\":\"failed\",\"started_at\":\"2024-01-01\","
	    "\"completed_at\":\"2024-01-01\",\"total_cost\":1e3}",
	    "total_cost must be", "exponent in money");
	run_refused("{\"status\":\"running\"}", "started_at is missing",
	    "no start");
	run_refused("{\"status\":\"running\",\"started_at\":\"2024-01-01\","
	    "\"article_id\":\"x\"}", "article_id must be a UUID", "bad article_id");
}

int
main(void)
{
	cfg.embedding_dim = 3;
	times();
	ids_and_slugs();
	articles();
	pipelines();
	return tap_done();
}
