/* config.c - the settings table, the env-file reader and validation. */
#include "autoconf.h"

#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct bp_config cfg;

enum ctype {
	C_STR,		/* any non-empty string */
	C_SECRET,	/* string of at least 32 bytes */
	C_INT,		/* integer in [min, max] */
	C_BOOL,		/* true/false/1/0/yes/no/on/off */
	C_DURATION,	/* N[smhd] in seconds, in [min, max] */
	C_MONEY,	/* money text, normalised */
	C_LISTEN,	/* unix:/path or host:port */
	C_ADDRS,	/* IP addresses, separated by commas or blanks */
};

struct setting {
	const char	*name;
	enum ctype	 type;
	const char	*def;	/* NULL: no default */
	int64_t		 min, max;
};

/* Alphabetical, as the docs list them. */
enum setting_id {
	S_COST_REPORTING,
	S_DATABASE_URL,
	S_DB_POOL_MODE,
	S_EMBEDDING_DIM,
	S_ENABLE_USER_REGISTRATION,
	S_FASTCGI_ALLOWED_ADDRS,
	S_JWT_TTL,
	S_LISTEN,
	S_MAX_ARTICLES,
	S_MAX_BODY_BYTES,
	S_MAX_MONTHLY_COST,
	S_MAX_STORED_ARTICLES,
	S_MIGRATIONS_DIR,
	S_PIPELINE_TIMEOUT,
	S_SECRET_KEY,
	S_WORKERS,
	S__MAX
};

static const struct setting settings[S__MAX] = {
	{ "COST_REPORTING", C_STR, "owner", 0, 0 },			/* S_COST_REPORTING */
	{ "DATABASE_URL", C_STR, "dbname=blogposter", 0, 0 },		/* S_DATABASE_URL */
	{ "DB_POOL_MODE", C_STR, "session", 0, 0 },			/* S_DB_POOL_MODE */
	{ "EMBEDDING_DIM", C_INT, "1536", 1, 16000 },			/* S_EMBEDDING_DIM */
	{ "ENABLE_USER_REGISTRATION", C_BOOL, "true", 0, 0 },		/* S_ENABLE_USER_REGISTRATION */
	{ "FASTCGI_ALLOWED_ADDRS", C_ADDRS, NULL, 0, 0 },		/* S_FASTCGI_ALLOWED_ADDRS */
	{ "JWT_TTL", C_DURATION, "7d", 60, 366 * 86400 },		/* S_JWT_TTL */
	{ "LISTEN", C_LISTEN, NULL, 0, 0 },				/* S_LISTEN */
	{ "MAX_ARTICLES_PER_USER_PER_MONTH", C_INT, "100", 0, 1000000000 },	/* S_MAX_ARTICLES */
	{ "MAX_BODY_BYTES", C_INT, "1048576", 1024, 64 * 1024 * 1024 },	/* S_MAX_BODY_BYTES */
	{ "MAX_MONTHLY_COST_PER_USER", C_MONEY, "50.00", 0, 0 },	/* S_MAX_MONTHLY_COST */
	{ "MAX_STORED_ARTICLES_PER_USER", C_INT, "100000", 0, 1000000000 },	/* S_MAX_STORED_ARTICLES */
	{ "MIGRATIONS_DIR", C_STR, NULL, 0, 0 },			/* S_MIGRATIONS_DIR */
	{ "PIPELINE_TIMEOUT_MINUTES", C_INT, "120", 1, 525600 },	/* S_PIPELINE_TIMEOUT */
	{ "SECRET_KEY", C_SECRET, NULL, 0, 0 },				/* S_SECRET_KEY */
	{ "WORKERS", C_INT, NULL, 1, 256 },				/* S_WORKERS */
};

/* Values as text, by setting, before validation. */
static char *raw[S__MAX];

static void
set_raw(enum setting_id id, const char *v)
{
	free(raw[id]);
	raw[id] = v == NULL ? NULL : xstrdup(v);
}

static int
find_setting(const char *name, size_t len)
{
	int i;

	for (i = 0; i < S__MAX; i++)
		if (strlen(settings[i].name) == len &&
		    memcmp(settings[i].name, name, len) == 0)
			return i;
	return -1;
}

/*
 * Read KEY=VALUE lines: blank lines and '#' comments are skipped, an
 * optional "export " prefix is allowed, and a value in matching single or
 * double quotes is unquoted.  Keys this program does not know are left to
 * other programs sharing the file.  Returns false on an unreadable file or
 * a malformed line, with err set.
 */
static bool
read_env_file(const char *path, char *err, size_t errsz)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	bool ok = true;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "env file %s: cannot read: %s", path,
		    strerror(errno));
		return false;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		char *p = line, *eq, *v, *end;
		int id;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		if ((eq = strchr(p, '=')) == NULL || eq == p) {
			snprintf(err, errsz, "env file %s, line %d: expected NAME=VALUE",
			    path, lineno);
			ok = false;
			break;
		}
		end = eq;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		{
			size_t vl = strlen(v);

			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				v[--vl] = '\0';
			if (vl >= 2 && (v[0] == '"' || v[0] == '\'') &&
			    v[vl - 1] == v[0]) {
				v[vl - 1] = '\0';
				v++;
			}
		}
		if ((id = find_setting(p, (size_t)(end - p))) >= 0)
			set_raw((enum setting_id)id, v);
	}
	free(line);
	if (ferror(f) && ok) {
		snprintf(err, errsz, "env file %s: read error", path);
		ok = false;
	}
	fclose(f);
	return ok;
}

static bool
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool
parse_duration(const char *s, int64_t *out)
{
	char num[32];
	size_t len = strlen(s);
	int64_t mult = 1, v;

	if (len == 0 || len >= sizeof(num))
		return false;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's': mult = 1; num[--len] = '\0'; break;
	case 'm': mult = 60; num[--len] = '\0'; break;
	case 'h': mult = 3600; num[--len] = '\0'; break;
	case 'd': mult = 86400; num[--len] = '\0'; break;
	default: break;
	}
	if (!parse_int64(num, 1, INT64_MAX / 86400, &v))
		return false;
	*out = v * mult;
	return true;
}

static bool
valid_listen(const char *s)
{
	const char *colon;
	int64_t port;

	if (strncmp(s, "unix:", 5) == 0)
		return s[5] != '\0';
	if ((colon = strrchr(s, ':')) == NULL || colon == s)
		return false;
	return parse_int64(colon + 1, 1, 65535, &port);
}

/*
 * Parse a list of IP addresses (IPv4 or IPv6, separated by commas or
 * blanks) into cfg.allowed.  False with err naming the first bad one.
 */
static bool
parse_addrs(const char *name, const char *v, char *err, size_t errsz)
{
	const char *p = v;

	cfg.nallowed = 0;
	for (;;) {
		char one[INET6_ADDRSTRLEN + 1];
		size_t len;
		struct bp_addr *a;

		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		if (cfg.nallowed == ALLOWED_ADDRS_MAX) {
			snprintf(err, errsz, "%s: at most %d addresses", name,
			    ALLOWED_ADDRS_MAX);
			return false;
		}
		a = &cfg.allowed[cfg.nallowed];
		if (len < sizeof(one)) {
			memcpy(one, p, len);
			one[len] = '\0';
			if (inet_pton(AF_INET, one, a->a) == 1)
				a->family = AF_INET;
			else if (inet_pton(AF_INET6, one, a->a) == 1)
				a->family = AF_INET6;
			else
				a->family = 0;
		} else
			a->family = 0;
		if (a->family == 0) {
			snprintf(err, errsz, "%s: not an IP address: %.*s",
			    name, (int)(len > 64 ? 64 : len), p);
			return false;
		}
		cfg.nallowed++;
		p += len;
	}
	if (cfg.nallowed == 0) {
		snprintf(err, errsz, "%s: must list at least one IP address",
		    name);
		return false;
	}
	return true;
}

/* Validate one setting's text and store it; false with err on a bad value. */
static bool
apply(enum setting_id id, const char *v, char *err, size_t errsz)
{
	const struct setting *s = &settings[id];
	int64_t n = 0;
	bool b = false;

	switch (s->type) {
	case C_STR:
		if (*v == '\0')
			goto bad;
		break;
	case C_SECRET:
		if (strlen(v) < 32) {
			snprintf(err, errsz, "%s: must be at least 32 bytes long "
			    "(got %zu)", s->name, strlen(v));
			return false;
		}
		break;
	case C_INT:
		if (!parse_int64(v, s->min, s->max, &n)) {
			snprintf(err, errsz, "%s: must be a whole number from "
			    "%lld to %lld", s->name, (long long)s->min,
			    (long long)s->max);
			return false;
		}
		break;
	case C_BOOL:
		if (!parse_bool(v, &b))
			goto bad;
		break;
	case C_DURATION:
		if (!parse_duration(v, &n) || n < s->min || n > s->max) {
			snprintf(err, errsz, "%s: must be a duration like 3600, "
			    "30m, 12h or 7d, from 1 minute to 366 days", s->name);
			return false;
		}
		break;
	case C_MONEY:
		if (!money_parse(v, strlen(v), cfg.max_monthly_cost))
			goto bad;
		break;
	case C_LISTEN:
		if (!valid_listen(v)) {
			snprintf(err, errsz, "%s: must be unix:/path or host:port",
			    s->name);
			return false;
		}
		break;
	case C_ADDRS:
		if (!parse_addrs(s->name, v, err, errsz))
			return false;
		break;
	}

	switch (id) {
	case S_COST_REPORTING:
		/* who may end a run and report its cost (API.md, Pipelines) */
		if (strcmp(v, "owner") != 0 && strcmp(v, "admin") != 0) {
			snprintf(err, errsz, "%s: must be owner or admin",
			    s->name);
			return false;
		}
		cfg.cost_reporting_admin = strcmp(v, "admin") == 0;
		break;
	case S_DATABASE_URL: cfg.database_url = xstrdup(v); break;
	case S_DB_POOL_MODE:
		if (strcmp(v, "session") == 0)
			cfg.db_transaction_pool = false;
		else if (strcmp(v, "transaction") == 0)
			cfg.db_transaction_pool = true;
		else {
			snprintf(err, errsz, "%s: must be session or transaction",
			    s->name);
			return false;
		}
		break;
	case S_EMBEDDING_DIM: cfg.embedding_dim = n; break;
	case S_ENABLE_USER_REGISTRATION: cfg.enable_registration = b; break;
	case S_FASTCGI_ALLOWED_ADDRS: cfg.allowed_text = xstrdup(v); break;
	case S_JWT_TTL: cfg.jwt_ttl = n; break;
	case S_LISTEN: cfg.listen = xstrdup(v); break;
	case S_MAX_ARTICLES: cfg.max_articles = n; break;
	case S_MAX_BODY_BYTES: cfg.max_body_bytes = n; break;
	case S_MAX_MONTHLY_COST: break;	/* written by money_parse */
	case S_MAX_STORED_ARTICLES: cfg.max_stored_articles = n; break;
	case S_MIGRATIONS_DIR: cfg.migrations_dir = xstrdup(v); break;
	case S_PIPELINE_TIMEOUT: cfg.pipeline_timeout_min = n; break;
	case S_SECRET_KEY:
		cfg.secret_key = xstrdup(v);
		cfg.secret_key_len = strlen(v);
		break;
	case S_WORKERS: cfg.workers = n; break;
	case S__MAX: break;
	}
	return true;
bad:
	snprintf(err, errsz, "%s: invalid value", s->name);
	return false;
}

bool
config_load(const char *env_file, char *err, size_t errsz)
{
	int i;
	long ncpu;

	config_free();
	for (i = 0; i < S__MAX; i++)
		set_raw((enum setting_id)i, settings[i].def);

	if (env_file != NULL) {
		if (!read_env_file(env_file, err, errsz))
			return false;
	} else if (access(".env", F_OK) == 0) {
		if (!read_env_file(".env", err, errsz))
			return false;
	}
	for (i = 0; i < S__MAX; i++) {
		const char *v = getenv(settings[i].name);

		if (v != NULL)
			set_raw((enum setting_id)i, v);
	}

	/*
	 * Twice the CPUs: a worker waiting on its commit's WAL flush leaves
	 * its CPU idle, and more committers share each flush (measured with
	 * bench/run --workers-sweep; docs/operations.md).
	 */
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cfg.workers = ncpu < 1 ? 2 : ncpu > 128 ? 256 : 2 * ncpu;
	for (i = 0; i < S__MAX; i++) {
		if (raw[i] == NULL)
			continue;
		if (!apply((enum setting_id)i, raw[i], err, errsz))
			return false;
	}
	if (cfg.migrations_dir == NULL) {
		if (access(PKGDATADIR "/migrations", R_OK) == 0)
			cfg.migrations_dir = xstrdup(PKGDATADIR "/migrations");
		else
			cfg.migrations_dir = xstrdup(SRC_MIGRATIONS_DIR);
	}
	return true;
}

bool
config_require_secret(char *err, size_t errsz)
{
	if (cfg.secret_key == NULL) {
		snprintf(err, errsz, "SECRET_KEY: is required (at least 32 "
		    "bytes; e.g. head -c 48 /dev/urandom | base64)");
		return false;
	}
	return true;
}

void
config_free(void)
{
	int i;

	for (i = 0; i < S__MAX; i++) {
		free(raw[i]);
		raw[i] = NULL;
	}
	free(cfg.database_url);
	if (cfg.secret_key != NULL)
		explicit_bzero(cfg.secret_key, cfg.secret_key_len);
	free(cfg.secret_key);
	free(cfg.listen);
	free(cfg.allowed_text);
	free(cfg.migrations_dir);
	memset(&cfg, 0, sizeof(cfg));
}

/* Append s[0..n) to the buffer at *o. */
static void
put(char **o, const char *s, size_t n)
{
	memcpy(*o, s, n);
	*o += n;
}

#define MASK	"***"

/* URI form: the password of the user info and any password= parameter. */
static bool
mask_uri(const char *s, size_t scheme_len, char *o)
{
	const char *auth = s + scheme_len, *end, *at = NULL, *colon, *q, *p;

	put(&o, s, scheme_len);
	/* libpq ends the user info at the first '@' before any '/'; the
	 * last one is taken here, so that a stray '@' shows no password */
	end = auth + strcspn(auth, "/");
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon != NULL) {
			put(&o, auth, (size_t)(colon - auth) + 1);
			put(&o, MASK, strlen(MASK));
			auth = at;
		}
	}
	q = strchr(at != NULL ? at : auth, '?');
	put(&o, auth, (size_t)((q != NULL ? q : end + strlen(end)) - auth));
	if (q == NULL) {
		*o = '\0';
		return true;
	}
	p = q;
	while (*p != '\0') {
		size_t n = strcspn(p + 1, "&");	/* p is at '?' or '&' */

		if (strncmp(p + 1, "password=", 9) == 0 && n >= 9) {
			put(&o, p, 10);
			put(&o, MASK, strlen(MASK));
		} else
			put(&o, p, n + 1);
		p += n + 1;
	}
	*o = '\0';
	return true;
}

/* key=value form, as libpq reads it: the value of each password key. */
static bool
mask_keywords(const char *s, char *o)
{
	const char *p = s;

	for (;;) {
		const char *k, *v;
		size_t klen;
		bool secret;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			*o++ = *p++;
		if (*p == '\0')
			break;
		k = p;
		while (*p != '\0' && *p != '=' && *p != ' ' && *p != '\t' &&
		    *p != '\n' && *p != '\r')
			p++;
		klen = (size_t)(p - k);
		put(&o, k, klen);
		while (*p == ' ' || *p == '\t')
			*o++ = *p++;
		if (*p != '=')
			return false;
		*o++ = *p++;
		while (*p == ' ' || *p == '\t')
			*o++ = *p++;
		secret = klen == 8 && strncmp(k, "password", 8) == 0;
		v = p;
		if (*p == '\'') {
			for (p++; *p != '\'' ; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '\0')
					return false;
			}
			p++;
		} else
			while (*p != '\0' && *p != ' ' && *p != '\t' &&
			    *p != '\n' && *p != '\r') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				p++;
			}
		if (secret)
			put(&o, MASK, strlen(MASK));
		else
			put(&o, v, (size_t)(p - v));
	}
	*o = '\0';
	return true;
}

char *
config_masked_dburl(const char *url)
{
	/* each mask follows a "password=" or a ':' and an '@' */
	size_t n = 2 * strlen(url) + 32;
	char *out = xmalloc(n);
	bool ok;

	if (strncmp(url, "postgresql://", 13) == 0)
		ok = mask_uri(url, 13, out);
	else if (strncmp(url, "postgres://", 11) == 0)
		ok = mask_uri(url, 11, out);
	else
		ok = mask_keywords(url, out);
	if (!ok)
		snprintf(out, n, "(unparsed, hidden)");
	return out;
}

void
config_dump(void)
{
	printf("COST_REPORTING=%s\n", cfg.cost_reporting_admin ? "admin" :
	    "owner");
	char *db = config_masked_dburl(cfg.database_url);

	printf("DATABASE_URL=%s\n", db);
	free(db);
	printf("DB_POOL_MODE=%s\n", cfg.db_transaction_pool ? "transaction" :
	    "session");
	printf("EMBEDDING_DIM=%lld\n", (long long)cfg.embedding_dim);
	printf("ENABLE_USER_REGISTRATION=%s\n",
	    cfg.enable_registration ? "true" : "false");
	printf("FASTCGI_ALLOWED_ADDRS=%s\n",
	    cfg.allowed_text ? cfg.allowed_text : "(unset: any peer)");
	printf("JWT_TTL=%llds\n", (long long)cfg.jwt_ttl);
	printf("LISTEN=%s\n", cfg.listen ? cfg.listen : "(fd 0 or default)");
	printf("MAX_ARTICLES_PER_USER_PER_MONTH=%lld\n",
	    (long long)cfg.max_articles);
	printf("MAX_BODY_BYTES=%lld\n", (long long)cfg.max_body_bytes);
	printf("MAX_MONTHLY_COST_PER_USER=%s\n", cfg.max_monthly_cost);
	printf("MAX_STORED_ARTICLES_PER_USER=%lld\n",
	    (long long)cfg.max_stored_articles);
	printf("MIGRATIONS_DIR=%s\n", cfg.migrations_dir);
	printf("PIPELINE_TIMEOUT_MINUTES=%lld\n",
	    (long long)cfg.pipeline_timeout_min);
	printf("SECRET_KEY=%s\n", cfg.secret_key ? "(set, hidden)" : "(unset)");
	printf("WORKERS=%lld\n", (long long)cfg.workers);
}
