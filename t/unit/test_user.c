/* test_user.c - the email rule and the user object's JSON. */
#include "autoconf.h"

#include <string.h>

#include "buf.h"
#include "config.h"
#include "json.h"
#include "tap.h"
#include "user.h"

static void
email_is(const char *in, const char *want, const char *name)
{
	char out[USER_EMAIL_MAX];
	bool okay = user_email_normalize(in, out);

	if (want == NULL)
		ok(!okay && out[0] == '\0', "refused: %s", name);
	else
		is_str(okay ? out : NULL, want, name);
}

int
main(void)
{
	char big[400];
	struct user u;
	struct buf b;
	struct jw w;

	email_is("a@example.com", "a@example.com", "plain");
	email_is(" \t\r\nA@Example.COM \n", "a@example.com", "trimmed, lower-cased");
	email_is("\xc3\x89@example.com", "\xc3\x89@example.com",
	    "non-ASCII kept (SQL lower() does it)");
	email_is("a@b", "a@b", "shortest");
	email_is("", NULL, "empty");
	email_is("   ", NULL, "blanks only");
	email_is("@example.com", NULL, "nothing before @");
	email_is("a@", NULL, "nothing after @");
	email_is("ab", NULL, "no @");
	email_is("a@b@c", NULL, "two @");
	email_is("a b@example.com", NULL, "inner space");
	email_is("a\x01@example.com", NULL, "control character");
	email_is("a\x7f@example.com", NULL, "DEL");
	email_is("a\xc2\x85@example.com", NULL, "C1 control (NEL)");
	email_is("a\xc2\xa0@example.com", NULL, "no-break space");
	email_is("a\xe2\x80\xa8@example.com", NULL, "line separator");
	email_is("\xef\xbb\xbf" "a@example.com", NULL, "byte order mark");
	email_is("a\xff@example.com", NULL, "invalid UTF-8");
	email_is("a\xc3@example.com", NULL, "truncated UTF-8");

	memset(big, 'a', sizeof(big));
	strcpy(big + 254 - 12, "@example.com");
	ok(strlen(big) == 254, "254 characters");
	email_is(big, big, "254 characters accepted");
	memset(big, 'a', sizeof(big));
	strcpy(big + 255 - 12, "@example.com");
	email_is(big, NULL, "255 characters");
	/* 121 two-byte characters + "@example.com" = 133 characters, 254 bytes */
	{
		char mb[USER_EMAIL_MAX];
		size_t i, o = 0;

		for (i = 0; i < 242; i++)
			mb[o++] = (char)(i % 2 ? 0xa9 : 0xc3);
		strcpy(mb + o, "@example.com");
		email_is(mb, mb, "multi-byte: counted in characters");
	}

	memset(&u, 0, sizeof(u));
	strcpy(u.id, "0b9a4d4e-6e36-4f5c-8a3c-2a8f0d5d4c11");
	strcpy(u.email, "a\"b@example.com");
	strcpy(u.created_at, "2026-11-27T02:39:45Z");
	u.is_active = true;
	u.max_articles = -1;
	strcpy(cfg.max_monthly_cost, "50.0000");
	cfg.max_articles = 100;
	buf_init(&b);
	jw_init(&w, &b);
	user_write(&w, &u, false);
	is_str(b.data, "{\"id\":\"0b9a4d4e-6e36-4f5c-8a3c-2a8f0d5d4c11\","
	    "\"email\":\"a\\\"b@example.com\",\"role\":\"user\","
	    "\"is_active\":true,\"created_at\":\"2026-11-27T02:39:45Z\","
	    "\"api_key_prefix\":null,\"limits\":{\"max_monthly_cost\":"
	    "\"50.0000\",\"max_articles_per_month\":100},"
	    "\"limits_source\":{\"max_monthly_cost\":\"default\","
	    "\"max_articles_per_month\":\"default\"}}",
	    "user object with the default limits");
	buf_reset(&b, 0);
	u.admin = true;
	strcpy(u.api_key_prefix, "bp_Ab12C");
	strcpy(u.max_monthly_cost, "0.0000");
	u.max_articles = 0;
	jw_init(&w, &b);
	user_write(&w, &u, false);
	ok(strstr(b.data, "\"role\":\"admin\"") != NULL &&
	    strstr(b.data, "\"api_key_prefix\":\"bp_Ab12C\"") != NULL &&
	    strstr(b.data, "{\"max_monthly_cost\":\"0.0000\","
	    "\"max_articles_per_month\":0}") != NULL &&
	    strstr(b.data, "\"limits_source\":{\"max_monthly_cost\":"
	    "\"override\",\"max_articles_per_month\":\"override\"}") != NULL,
	    "overrides of zero are limits, not the default");
	buf_free(&b);
	return tap_done();
}
