/* test_config.c - settings: defaults, env file, environment, bad values. */
#include "autoconf.h"

#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static const char *const vars[] = { "DATABASE_URL", "SECRET_KEY", "JWT_TTL",
	"WORKERS", "MAX_BODY_BYTES", "MAX_MONTHLY_COST_PER_USER",
	"ENABLE_USER_REGISTRATION", "LISTEN", "EMBEDDING_DIM",
	"PIPELINE_TIMEOUT_MINUTES", "MAX_ARTICLES_PER_USER_PER_MONTH",
	"FASTCGI_ALLOWED_ADDRS", NULL };

static bool
load_with(const char *name, const char *value, char *err, size_t errsz)
{
	int i;

	for (i = 0; vars[i] != NULL; i++)
		unsetenv(vars[i]);
	if (name != NULL)
		setenv(name, value, 1);
	err[0] = '\0';
	return config_load("/dev/null", err, errsz);
}

int
main(void)
{
	char err[512], path[] = "/tmp/bp-test-env-XXXXXX";
	FILE *f;
	int fd;

	ok(load_with(NULL, NULL, err, sizeof(err)), "defaults load");
	ok(cfg.jwt_ttl == 7 * 86400, "JWT_TTL defaults to 7 days");
	is_str(cfg.max_monthly_cost, "50.0000", "cost limit default");
	ok(cfg.max_articles == 100, "article limit default");
	ok(cfg.enable_registration, "registration open by default");
	ok(cfg.embedding_dim == 1536, "embedding dim default");
	ok(cfg.max_body_bytes == 1048576, "body limit default");
	ok(cfg.workers >= 1, "workers default to the CPUs");
	ok(!config_require_secret(err, sizeof(err)) &&
	    strstr(err, "SECRET_KEY") != NULL, "missing SECRET_KEY named");

	ok(!load_with("SECRET_KEY", "short", err, sizeof(err)) &&
	    strstr(err, "SECRET_KEY") != NULL, "short SECRET_KEY refused");
	ok(load_with("SECRET_KEY", "0123456789abcdef0123456789abcdef", err,
	    sizeof(err)) && config_require_secret(err, sizeof(err)),
	    "32-byte SECRET_KEY accepted");
	ok(!load_with("WORKERS", "two", err, sizeof(err)) &&
	    strstr(err, "WORKERS") != NULL, "non-numeric WORKERS named");
	ok(!load_with("WORKERS", "0", err, sizeof(err)), "WORKERS=0 refused");
	ok(!load_with("MAX_BODY_BYTES", "-1", err, sizeof(err)) &&
	    strstr(err, "MAX_BODY_BYTES") != NULL, "negative body limit");
	ok(!load_with("JWT_TTL", "7x", err, sizeof(err)) &&
	    strstr(err, "JWT_TTL") != NULL, "bad duration");
	ok(load_with("JWT_TTL", "12h", err, sizeof(err)) &&
	    cfg.jwt_ttl == 12 * 3600, "12h");
	ok(!load_with("MAX_MONTHLY_COST_PER_USER", "1e3", err, sizeof(err)) &&
	    strstr(err, "MAX_MONTHLY_COST_PER_USER") != NULL, "exponent cost");
	ok(!load_with("ENABLE_USER_REGISTRATION", "maybe", err, sizeof(err)) &&
	    strstr(err, "ENABLE_USER_REGISTRATION") != NULL, "bad boolean");
	ok(load_with("ENABLE_USER_REGISTRATION", "false", err, sizeof(err)) &&
	    !cfg.enable_registration, "false");
	ok(!load_with("LISTEN", "nowhere", err, sizeof(err)) &&
	    strstr(err, "LISTEN") != NULL, "bad LISTEN");
	ok(!load_with("DATABASE_URL", "", err, sizeof(err)) &&
	    strstr(err, "DATABASE_URL") != NULL, "empty DATABASE_URL");

	/* env file, and the environment winning over it */
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fprintf(f, "# comment\n\nexport WORKERS=3\nJWT_TTL = \"2h\"\n"
	    "OTHER_TOOL=ignored\n");
	fclose(f);
	load_with(NULL, NULL, err, sizeof(err));
	ok(config_load(path, err, sizeof(err)) && cfg.workers == 3 &&
	    cfg.jwt_ttl == 7200, "env file read");
	setenv("WORKERS", "5", 1);
	ok(config_load(path, err, sizeof(err)) && cfg.workers == 5,
	    "environment wins over the env file");
	unsetenv("WORKERS");
	f = fopen(path, "w");
	fprintf(f, "WORKERS=lots\n");
	fclose(f);
	ok(!config_load(path, err, sizeof(err)) && strstr(err, "WORKERS"),
	    "bad value in env file named");
	f = fopen(path, "w");
	fprintf(f, "this is not an assignment\n");
	fclose(f);
	ok(!config_load(path, err, sizeof(err)) && strstr(err, "line 1"),
	    "malformed env line reported with its number");
	unlink(path);
	ok(!config_load(path, err, sizeof(err)) && strstr(err, path),
	    "unreadable env file named");
	config_free();
	{
		static const char *const cases[][2] = {
			{ "dbname=blogposter", "dbname=blogposter" },
			{ "postgres://bp:s3cret@db.example/bp",
			  "postgres://bp:***@db.example/bp" },
			{ "postgresql://bp:s3cret@db.example:5432/bp?sslmode=require",
			  "postgresql://bp:***@db.example:5432/bp?sslmode=require" },
			{ "postgres://bp@db.example/bp", "postgres://bp@db.example/bp" },
			{ "postgres://bp:p?w@d@db.example/bp",
			  "postgres://bp:***@db.example/bp" },
			{ "postgresql:///bp?host=/run/pg&password=s3cret&user=bp",
			  "postgresql:///bp?host=/run/pg&password=***&user=bp" },
			{ "host=db password=s3cret user=bp",
			  "host=db password=*** user=bp" },
			{ "host=db password = s3cret", "host=db password = ***" },
			{ "password='a b' dbname=bp", "password=*** dbname=bp" },
			{ "password='it\\'s x' dbname=bp", "password=*** dbname=bp" },
			{ "password=a\\ b dbname=bp", "password=*** dbname=bp" },
			{ "password=x password=y", "password=*** password=***" },
			{ "host=db password='unterminated", "(unparsed, hidden)" },
			{ "host=db s3cret", "(unparsed, hidden)" },
		};
		size_t i;

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char *m = config_masked_dburl(cases[i][0]);

			is_str(m, cases[i][1], cases[i][0]);
			free(m);
		}
	}
	return tap_done();
}
