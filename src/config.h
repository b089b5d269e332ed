/* config.h - settings from the environment and an env file, validated. */
#ifndef BP_CONFIG_H
#define BP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "money.h"

struct bp_config {
	char	*database_url;		/* DATABASE_URL */
	char	*secret_key;		/* SECRET_KEY, NULL when unset */
	size_t	 secret_key_len;
	int64_t	 jwt_ttl;		/* JWT_TTL, seconds */
	char	 max_monthly_cost[MONEY_MAX];	/* MAX_MONTHLY_COST_PER_USER */
	int64_t	 max_articles;		/* MAX_ARTICLES_PER_USER_PER_MONTH */
	bool	 enable_registration;	/* ENABLE_USER_REGISTRATION */
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

/* Print every setting, secrets masked, one per line (check-config). */
void config_dump(void);

#endif
