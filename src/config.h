/* config.h - settings from the environment and an env file, validated. */
#ifndef BP_CONFIG_H
#define BP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "money.h"

#define ALLOWED_ADDRS_MAX	32

/* An IPv4 (family AF_INET, 4 bytes) or IPv6 (AF_INET6, 16 bytes) address. */
struct bp_addr {
	int		 family;
	unsigned char	 a[16];
};

struct bp_config {
	char	*database_url;		/* DATABASE_URL */
	/*
	 * DB_POOL_MODE=transaction: PostgreSQL is reached through a pooler
	 * in transaction mode (PgBouncer), so nothing may outlive a
	 * transaction: no named prepared statements, no session SET, no
	 * session advisory lock (db.c, repo_migrations.c).
	 */
	bool	 db_transaction_pool;
	char	*secret_key;		/* SECRET_KEY, NULL when unset */
	size_t	 secret_key_len;
	int64_t	 jwt_ttl;		/* JWT_TTL, seconds */
	char	 max_monthly_cost[MONEY_MAX];	/* MAX_MONTHLY_COST_PER_USER */
	int64_t	 max_articles;		/* MAX_ARTICLES_PER_USER_PER_MONTH */
	bool	 enable_registration;	/* ENABLE_USER_REGISTRATION */
	/* FASTCGI_ALLOWED_ADDRS: the peers a TCP listener accepts (0: any) */
	struct bp_addr	 allowed[ALLOWED_ADDRS_MAX];
	size_t		 nallowed;
	char		*allowed_text;
	int64_t	 embedding_dim;		/* EMBEDDING_DIM */
	int64_t	 pipeline_timeout_min;	/* PIPELINE_TIMEOUT_MINUTES */
	int64_t	 max_body_bytes;	/* MAX_BODY_BYTES */
	int64_t	 workers;		/* WORKERS */
	char	*listen;		/* LISTEN, NULL: fd 0 or the default */
	char	*migrations_dir;	/* MIGRATIONS_DIR */
	bool	 cost_reporting_admin;	/* COST_REPORTING=admin */
	int64_t	 max_stored_articles;	/* MAX_STORED_ARTICLES_PER_USER */
};

extern struct bp_config cfg;

/*
 * Load the configuration: defaults, then env_file (or ./.env when env_file
 * is NULL and it exists), then the process environment, which wins.
 * On any bad value writes "VARIABLE: reason" to err and returns false.
 */
bool config_load(const char *env_file, char *err, size_t errsz);

/* Serving needs a signing key: false with a message when it is missing. */
bool config_require_secret(char *err, size_t errsz);

/* Release what config_load allocated (tests and clean exits). */
void config_free(void);

/*
 * A copy of a libpq connection string (URI or key=value form) with its
 * passwords replaced by "***"; malloc'ed.  A string that cannot be read
 * is hidden whole.
 */
char *config_masked_dburl(const char *url);

/* Print every setting, secrets masked, one per line (check-config). */
void config_dump(void);

#endif
