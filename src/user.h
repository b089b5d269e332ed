/*
 * user.h - an account as the API shows it: the row the repo fills, the
 * email rule, and the one JSON writer of API.md's user object.
 */
#ifndef BP_USER_H
#define BP_USER_H

#include <stdbool.h>
#include <stdint.h>

#include <crypt.h>

struct jw;

/* 254 characters of up to 4 bytes each, plus the NUL. */
#define USER_EMAIL_CHARS	254
#define USER_EMAIL_MAX		(USER_EMAIL_CHARS * 4 + 1)

struct user {
	char	 id[37];
	char	 email[USER_EMAIL_MAX];
	bool	 admin;
	bool	 is_active;
	char	 created_at[40];	/* as PostgreSQL prints it (isotime.h) */
	char	 api_key_prefix[16];	/* "" when the user has no key */
	char	 max_monthly_cost[24];	/* the override, "" when none */
	int64_t	 max_articles;		/* the override, -1 when none */
	/* only from the statements that need them (login, password checks) */
	int64_t	 token_version;
	char	 password_hash[CRYPT_OUTPUT_SIZE];
};

/* PATCH /admin/users/{id}: what to change. */
struct user_patch {
	int		 is_active;	/* -1 unchanged, else 0 or 1 */
	const char	*role;		/* NULL: unchanged */
	bool		 set_max_cost;
	const char	*max_cost;	/* NULL (with set): back to the default */
	bool		 set_max_articles;
	int64_t		 max_articles;	/* -1 (with set): back to the default */
};

/* One row of GET /admin/usage, and its totals. */
struct month_usage {
	char	 user_id[37];
	char	 email[USER_EMAIL_MAX];
	int64_t	 articles_generated;
	char	 total_cost[32];
};

/*
 * Normalise an email address: trim ASCII white space at both ends and
 * lower-case ASCII letters (SQL's lower() does the rest when it is
 * stored).  The result must be valid UTF-8 of at most 254 characters with
 * exactly one '@' that has text on both sides, and no white space or
 * control character anywhere.  Returns true with out filled, else false.
 */
bool user_email_normalize(const char *in, char out[USER_EMAIL_MAX]);

/*
 * Write u as API.md's user object; limits are the user's overrides or the
 * global defaults (cfg.max_monthly_cost, cfg.max_articles).  The caller has
 * written the key, if any.  Leaves the object open when open is true so
 * that the caller can add members (the admin list adds "usage").
 */
void user_write(struct jw *w, const struct user *u, bool open);

#endif
