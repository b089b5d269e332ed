/*
 * repo.h - the SQL, one repo_* file per table.  Each file keeps its
 * statements in an enum and a same-order table; db.c prepares every table
 * listed in repo_tables after each connect.
 *
 * Repos hand back filled structs, or rows passed one by one to a function
 * of the caller (valid during that call only), never a libpq result.
 */
#ifndef BP_REPO_H
#define BP_REPO_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

struct stmt_table;
extern const struct stmt_table *const repo_tables[];

struct buf;
struct cursor;

/* repo_meta.c */
extern const struct stmt_table repo_meta_table;
/* Health: a round trip and the newest applied migration (-1 if none). */
enum db_status repo_meta_schema_version(long *version);

/* repo_users.c */
extern const struct stmt_table repo_users_table;
/* The authenticated-user checks: one indexed query each, active users only. */
enum db_status repo_users_auth_token(const char *id, int64_t ver,
    const char *jti, bool *admin);
enum db_status repo_users_auth_key(const char *key, char id[37], bool *admin);
/*
 * The same checks as guards of a read (db_guard): run with the request's
 * first statement, in one round trip.  guard_key: a key whose user is
 * known from an earlier request.
 */
void repo_users_guard_token(const char *id, int64_t ver, const char *jti);
/*
 * Before checking a password of user id (login, PUT /me/password, DELETE
 * /me): count the check as a failure unless too many failed lately.
 * DB_OK: go on, and call repo_users_password_ok when it was right;
 * DB_DENIED: too many, *retry_after seconds until the next is allowed;
 * DB_EMPTY: no such user.
 */
enum db_status repo_users_password_attempt(const char *id,
    int64_t *retry_after);
/* The password was right: the count of failures starts again. */
enum db_status repo_users_password_ok(const char *id);
/*
 * Sign-out: token jti of user id stays refused until exp (Unix time).
 * Expired entries are deleted in the same statement, up to 100 at a time.
 * DB_FOREIGN: the user is gone.
 */
enum db_status repo_users_revoke_token(const char *id, const char *jti,
    int64_t exp);
/* Delete up to batch revoked tokens that have expired (housekeeping). */
enum db_status repo_users_purge_revoked(int64_t batch);
void repo_users_guard_key(const char *key, const char *id);

/*
 * Accounts (api_auth.c, api_me.c, api_admin.c, cmd_users.c, on the
 * worker's handle or a command's).  DB_EMPTY: no such user; DB_UNIQUE
 * (create): the email is taken.  Users come back in *u (struct user,
 * user.h).
 */
struct cursor;
struct month_usage;
struct usage;
struct user;
struct user_patch;
enum db_status repo_users_create(const char *email,
    const char *hash, bool admin, const char *key, const char *prefix,
    struct user *u);
enum db_status repo_users_by_email(const char *email, struct user *u);
enum db_status repo_users_by_id(const char *id, struct user *u);
/* Make email an active admin; a non-NULL hash also sets the password. */
enum db_status repo_users_promote(const char *email, const char *hash,
    struct user *u);
/* Replace old_hash by new_hash unless the password changed meanwhile. */
enum db_status repo_users_rehash(const char *id, const char *old_hash,
    const char *new_hash);
/* Revoke every token of the user. */
enum db_status repo_users_bump_version(const char *id);
/* New password (and token version *ver) if old_hash is still current. */
enum db_status repo_users_set_password(const char *id, const char *old_hash,
    const char *new_hash, int64_t *ver);
enum db_status repo_users_set_key(const char *id, const char *key,
    const char *prefix);
enum db_status repo_users_clear_key(const char *id);
/* Delete the user and all it owns, unless it is the last active admin. */
enum db_status repo_users_delete(const char *id, bool *last_admin);
/* Newest first, email containing q, after cursor; each row to each(). */
enum db_status repo_users_list(const char *q, const struct cursor *cur,
    int64_t limit,
    void (*each)(void *, const struct user *, const struct usage *),
    void *arg);
/* As admin actor (*actor_ok false when actor no longer is one). */
enum db_status repo_users_patch(const char *actor, const char *id,
    const struct user_patch *p, bool *actor_ok, struct user *u);
/* Usage of the month starting at month_date ("YYYY-MM-01"), by cost. */
enum db_status repo_users_usage_month(const char *month_date,
    void (*each)(void *, const struct month_usage *), void *arg,
    struct month_usage *totals);

/* repo_articles.c: always the caller's own articles (user_id in every WHERE). */
extern const struct stmt_table repo_articles_table;

struct cursor;

/* The writable fields of an article, in the order of api_articles.c's table. */
enum article_field {
	AF_TITLE,
	AF_SLUG,
	AF_CONTENT_MARKDOWN,
	AF_CONTENT_HTML,
	AF_META_DESCRIPTION,
	AF_PRIMARY_KEYWORD,
	AF_SEO_SCORE,
	AF_STATUS,
	AF_WP_POST_ID,
	AF_WP_URL,
	AF_EMBEDDING,		/* '[x1,...]' text, for bp_embedding_in() */
	AF__MAX
};

/* Validated input: bit (1 << AF_x) of mask set when the field was given. */
struct article_in {
	unsigned	 mask;
	const char	*v[AF__MAX];	/* NULL: SQL NULL */
};

/*
 * One row of articles, valid during the call of the repo_article_fn it is
 * given to; NULL for SQL NULL.  Lists leave the contents NULL.
 * Timestamps are PostgreSQL's text (isotime_parse reads it).
 */
struct article_row {
	const char	*id, *title, *slug, *content_markdown, *content_html,
			*meta_description, *primary_keyword, *seo_score, *status,
			*wp_post_id, *wp_url, *created_at, *updated_at;
	const char	*distance;	/* related articles only */
	bool		 has_embedding;
};

/* Called with each row of a result, in order. */
typedef void repo_article_fn(void *arg, const struct article_row *a);

/*
 * Newest first, at most limit rows after the cursor, optionally one
 * status.  No row is DB_OK (an empty page).
 */
enum db_status repo_articles_list(const char *user, const char *status,
    const struct cursor *c, int64_t limit, repo_article_fn *each, void *arg);
/* Those whose title contains q (letter case ignored), either order. */
enum db_status repo_articles_search(const char *user, const char *q,
    const char *status, const struct cursor *c, bool oldest, int64_t limit,
    repo_article_fn *each, void *arg);
/* The same, oldest first: the cursor goes forward in time. */
enum db_status repo_articles_list_oldest(const char *user, const char *status,
    const struct cursor *c, int64_t limit, repo_article_fn *each, void *arg);
/* The article to one(); DB_EMPTY: no such article. */
enum db_status repo_articles_get(const char *user, const char *id,
    repo_article_fn *one, void *arg);
/* What repo_articles_create found, inserted or not. */
struct article_create {
	bool	 below;	/* the user had fewer than limit articles */
	int64_t	 used;	/* how many the user had, counted up to limit */
};
/*
 * Insert, unless user has limit articles already (after
 * repo_pipelines_lock_user, which makes that check hold); without AF_SLUG
 * in mask the slug is made from slug_base with the first free suffix.
 * DB_OK: inserted, given to one().  DB_EMPTY: nothing inserted, and *cr,
 * from the same statement, says why: cr->below false, the limit (the
 * slug was not tried); cr->below true, the explicit slug is taken (or,
 * without one, the free slug found was taken meanwhile: call again).
 */
enum db_status repo_articles_create(const char *user, const char *slug_base,
    const struct article_in *in, int64_t limit, struct article_create *cr,
    repo_article_fn *one, void *arg);
/* Update the fields in mask; DB_EMPTY: no such article; DB_UNIQUE: slug taken. */
enum db_status repo_articles_update(const char *user, const char *id,
    const struct article_in *in, repo_article_fn *one, void *arg);
/*
 * The same, only if the article's updated_at is still loaded ("YYYY-MM-DD
 * HH:MM:SS.ffffff+00"): exact, or (exact false) within the same second.  An
 * empty mask changes nothing.  DB_EMPTY: no such article, or it changed.
 */
enum db_status repo_articles_update_if(const char *user, const char *id,
    const struct article_in *in, const char *loaded, bool exact,
    repo_article_fn *one, void *arg);
/* DB_EMPTY: no such article. */
enum db_status repo_articles_delete(const char *user, const char *id);
/*
 * The caller's other articles nearest to id by cosine distance, nearest
 * first, each with its distance.  DB_EMPTY: no such article; DB_OK with
 * no row when it has no neighbour (or no embedding).
 */
enum db_status repo_articles_related(const char *user, const char *id,
    int64_t limit, repo_article_fn *each, void *arg);

/* repo_pipelines.c: always the caller's own runs. */
extern const struct stmt_table repo_pipelines_table;

struct pipeline_row {
	const char	*id, *article_id, *status, *estimated_cost, *total_cost,
			*started_at, *completed_at, *error_message;
};

/* Called with each pipeline of a result (valid during the call). */
typedef void repo_pipeline_fn(void *arg, const struct pipeline_row *p);

/* As repo_articles_list. */
enum db_status repo_pipelines_list(const char *user, const char *status,
    const struct cursor *c, int64_t limit, repo_pipeline_fn *each, void *arg);
/* The pipeline to one(); DB_EMPTY: no such pipeline. */
enum db_status repo_pipelines_get(const char *user, const char *id,
    repo_pipeline_fn *one, void *arg);
/*
 * Inside a transaction: lock the user's row, which serialises every start
 * and end of that user's runs and every article insert.  Sent ahead of
 * the next statement, in its round trip (db_ahead): that statement
 * answers DB_DENIED when the user is gone.
 */
enum db_status repo_pipelines_lock_user(const char *user);

/* The limit check of a start, money as numeric text. */
struct pipeline_start {
	bool	 article_ok, cost_ok, articles_ok, started;
	char	 used_cost[24], max_cost[24], remaining_cost[24];
	int64_t	 used_articles, max_articles, remaining_articles;
};
/*
 * Check the limits and insert a running pipeline when they allow it, in
 * one statement (after repo_pipelines_lock_user).  On DB_OK st says what
 * happened; when st->started, the new pipeline is given to one().
 */
enum db_status repo_pipelines_start(const char *user, const char *article_id,
    const char *estimate, struct pipeline_start *st, repo_pipeline_fn *one,
    void *arg);
/* What an end did, and what it left of the user's monthly limits. */
#define PIPELINE_STATUS_MAX 16
struct pipeline_end {
	bool	 ended;
	char	 was[PIPELINE_STATUS_MAX];
	char	 remaining_cost[24];
	int64_t	 remaining_articles;
};
/*
 * End a running pipeline and add its cost (and, completed, one article) to
 * the usage of the current UTC month, in one statement.  DB_EMPTY: no such
 * pipeline; end->ended false: it was not running, and end->was is its
 * status.  Ended, the pipeline is given to one(), and end->remaining_cost
 * and end->remaining_articles are what usage_current answers after the
 * end.  DB_FOREIGN: article_id is not one of the user's.
 */
enum db_status repo_pipelines_end(const char *user, const char *id,
    const char *status, const char *total_cost, bool set_article,
    const char *article_id, const char *error_message,
    struct pipeline_end *end, repo_pipeline_fn *one, void *arg);
/*
 * The user whose run id is, into owner (COST_REPORTING=admin: an admin
 * ends any user's run).  DB_EMPTY: no such pipeline.
 */
enum db_status repo_pipelines_owner(const char *id, char owner[37]);

/* repo_usage.c */
extern const struct stmt_table repo_usage_table;

struct usage;
/* This UTC month's usage and limits of user (see usage.h). */
enum db_status repo_usage_current(const char *user, struct usage *u);
/* One month of the history: "YYYY-MM", an integer, numeric text. */
struct usage_month {
	const char	*month, *articles_generated, *total_cost;
};
/*
 * Months with use, newest first, the last months months, each to each()
 * (valid during the call).  No month is DB_OK.
 */
enum db_status repo_usage_history(const char *user, int64_t months,
    void (*each)(void *, const struct usage_month *), void *arg);

/* repo_idempotency.c */
extern const struct stmt_table repo_idempotency_table;

enum idem_claim {
	IDEM_CLAIMED,	/* new (or expired) key: go on, then store the answer */
	IDEM_REPLAY,	/* answered before: its status, body and headers given back */
	IDEM_MISMATCH,	/* the key was used for another request */
};
/*
 * Inside the transaction of the create: claim key for user, or wait for a
 * concurrent holder of it and read its stored answer.  request is what
 * makes two requests the same (method, path, body).  On IDEM_REPLAY the
 * stored answer: *status, its body replacing body's contents, its extra
 * headers added to hdrs.
 */
enum db_status repo_idem_claim(const char *user, const char *key,
    const char *request, enum idem_claim *out, int *status, struct buf *body,
    struct buf *hdrs);
/*
 * Delete up to batch keys older than 24 hours, in a statement of its own
 * (dispatch_housekeeping).
 */
enum db_status repo_idem_purge(int64_t batch);
enum db_status repo_idem_store(const char *user, const char *key, int status,
    const char *body, const char *headers);

#endif
