/*
 * api_pipelines.c - /api/v1/pipelines: runs of the article generator and
 * the monthly limits they are held to.
 *
 * A start checks the limits and inserts the run in one statement, after
 * locking the user's row in the same transaction (repo_pipelines.c says
 * why that is atomic).  An end records the cost in the month it ends in,
 * in the same transaction as the status change, and only a running
 * pipeline can end: a retried end is a 409 and counts nothing twice.
 * Both answers carry what is left of this month's limits.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "api.h"
#include "api_list.h"
#include "buf.h"
#include "config.h"
#include "cursor.h"
#include "http.h"
#include "idempotency.h"
#include "json.h"
#include "repo.h"
#include "util.h"
#include "validate.h"

#define ERROR_MESSAGE_MAX	10000

static const char *const statuses[] = {
	"running", "completed", "failed", NULL
};
static const char *const end_statuses[] = { "completed", "failed", NULL };

enum start_field { SF_ARTICLE_ID, SF_ESTIMATED_COST, SF__MAX };
static const struct field start_fields[SF__MAX] = {
	{ "article_id", FT_UUID, false, true, 0, 0, NULL },
	{ "estimated_cost", FT_MONEY, false, false, 0, 0, NULL },
};
const struct fieldset api_pipelines_start_body = { start_fields, SF__MAX };

enum end_field { EF_STATUS, EF_TOTAL_COST, EF_ARTICLE_ID, EF_ERROR_MESSAGE,
	EF__MAX };
static const struct field end_fields[EF__MAX] = {
	{ "status", FT_ENUM, true, false, 0, 0, end_statuses },
	{ "total_cost", FT_MONEY, false, false, 0, 0, NULL },
	{ "article_id", FT_UUID, false, true, 0, 0, NULL },
	{ "error_message", FT_STRING, false, false, 1, ERROR_MESSAGE_MAX, NULL },
};
const struct fieldset api_pipelines_end_body = { end_fields, EF__MAX };

static void
pipeline_write(struct jw *w, const struct pipeline_row *p)
{
	jw_obj(w);
	jw_kstr(w, "id", p->id);
	jw_kstr(w, "article_id", p->article_id);
	jw_kstr(w, "status", p->status);
	jw_kstr(w, "estimated_cost", p->estimated_cost);
	jw_kstr(w, "total_cost", p->total_cost);
	jw_ktime(w, "started_at", p->started_at);
	jw_ktime(w, "completed_at", p->completed_at);
	jw_kstr(w, "error_message", p->error_message);
	jw_end(w, '}');
}

/* How to answer with one pipeline (repo_pipeline_fn answer_pipeline). */
struct answer {
	struct req	*r;
	int		 status;	/* 200, 201 */
	bool		 location;	/* with its Location header */
};

static void
answer_pipeline(void *arg, const struct pipeline_row *p)
{
	const struct answer *an = arg;
	struct req *r = an->r;
	struct jw w;

	buf_truncate(&r->out, 0);
	jw_init(&w, &r->out);
	pipeline_write(&w, p);
	http_status(r, an->status);
	if (an->location)
		http_header(r, "Location", "/api/v1/pipelines/%s", p->id);
}

static void
remaining_headers(struct req *r, const char *cost, int64_t articles)
{
	http_header(r, "X-Usage-Remaining-Cost", "%s", cost);
	http_header(r, "X-Usage-Remaining-Articles", "%lld", (long long)articles);
}

/* 402 usage_limit_exceeded with its details. */
static void
limit_exceeded(struct req *r, const struct pipeline_start *st)
{
	struct jw w;
	bool cost = !st->cost_ok;

	buf_truncate(&r->out, 0);
	jw_init(&w, &r->out);
	jw_obj(&w);
	jw_key(&w, "error");
	jw_obj(&w);
	jw_kstr(&w, "code", "usage_limit_exceeded");
	jw_kstr(&w, "message", cost ?
	    "this run would exceed the monthly cost limit" :
	    "the monthly article limit is reached");
	jw_key(&w, "details");
	jw_obj(&w);
	jw_kstr(&w, "limit", cost ? "monthly_cost" : "monthly_articles");
	if (cost) {
		jw_kstr(&w, "used", st->used_cost);
		jw_kstr(&w, "max", st->max_cost);
	} else {
		jw_kint(&w, "used", st->used_articles);
		jw_kint(&w, "max", st->max_articles);
	}
	jw_end(&w, '}');
	jw_end(&w, '}');
	jw_end(&w, '}');
	http_status(r, 402);
	remaining_headers(r, st->remaining_cost, st->remaining_articles);
}

/* The account was deleted since the credentials were checked: 401. */
static enum db_status
account_gone(struct req *r)
{
	http_fail(r, ERR_UNAUTHORIZED, NULL, "the credentials are no longer "
	    "valid");
	return DB_ROLLBACK;
}

struct start_args {
	const struct idem	*k;
	const char		*article_id, *estimate;
};

/* One attempt at the start transaction (http_tx; see create_tx). */
static enum db_status
start_tx(struct req *r, const void *arg)
{
	const struct start_args *a = arg;
	const struct idem *k = a->k;
	const char *article_id = a->article_id, *estimate = a->estimate;
	struct pipeline_start st;
	struct answer an = { r, 201, true };
	enum db_status e;

	switch (idem_claim(r, k, &e)) {
	case IDEM_GO:
		break;
	case IDEM_DONE:
		return DB_ROLLBACK;
	case IDEM_ERR:
		return e;
	}
	/*
	 * The lock goes in one round trip with the start, and without an
	 * Idempotency-Key the COMMIT too: a start the limits refuse inserts
	 * nothing, and one without the user's row finds no limits.
	 */
	if ((e = repo_pipelines_lock_user(r->user.id)) != DB_OK)
		return e;
	if (!k->active)
		db_commit_next();
	e = repo_pipelines_start(r->user.id, article_id, estimate, &st,
	    answer_pipeline, &an);
	if (e == DB_DENIED)
		return account_gone(r);
	if (e == DB_FOREIGN) {
		/* the article went away between the check and the insert */
		http_fail(r, ERR_VALIDATION, "article_id", "article_id is not one of your "
		    "articles");
		return DB_ROLLBACK;
	}
	if (e != DB_OK)
		return e;
	if (!st.started) {
		if (!st.article_ok)
			http_fail(r, ERR_VALIDATION, "article_id",
			    "article_id is not one "
			    "of your articles");
		else
			limit_exceeded(r, &st);
		return DB_ROLLBACK;
	}
	remaining_headers(r, st.remaining_cost, st.remaining_articles);
	if (k->active)
		db_commit_next();
	return idem_store(r, k);
}

void
api_pipelines_start(struct req *r)
{
	const struct fval *v = r->in;
	struct idem k;
	struct start_args a = { &k, NULL, NULL };

	if (!idem_prepare(r, &k))
		return;
	a.article_id = v[SF_ARTICLE_ID].present && !v[SF_ARTICLE_ID].is_null ?
	    v[SF_ARTICLE_ID].s : NULL;
	a.estimate = v[SF_ESTIMATED_COST].present ? v[SF_ESTIMATED_COST].s :
	    "0.0000";
	http_tx(r, start_tx, &a);
}

/* The cross-field rules of an end; false when answered 400. */
static bool
end_body_ok(struct req *r, const struct fval *v)
{
	bool completed = strcmp(v[EF_STATUS].s, "completed") == 0;

	if (completed) {
		if (!v[EF_TOTAL_COST].present) {
			http_fail(r, ERR_VALIDATION, "total_cost",
			    "total_cost is required "
			    "when status is completed");
			return false;
		}
		if (v[EF_ERROR_MESSAGE].present) {
			http_fail(r, ERR_VALIDATION, "error_message",
			    "error_message is only "
			    "for status failed");
			return false;
		}
	} else {
		if (!v[EF_ERROR_MESSAGE].present) {
			http_fail(r, ERR_VALIDATION, "error_message",
			    "error_message is "
			    "required when status is failed");
			return false;
		}
		if (v[EF_ARTICLE_ID].present) {
			http_fail(r, ERR_VALIDATION, "article_id",
			    "article_id is only for "
			    "status completed");
			return false;
		}
	}
	return true;
}

struct end_args {
	const char		*id;
	const struct fval	*v;
};

/* One attempt at the end transaction (http_tx; see create_tx). */
static enum db_status
end_tx(struct req *r, const void *arg)
{
	const struct end_args *a = arg;
	const char *id = a->id;
	const struct fval *v = a->v;
	struct answer an = { r, 200, false };
	struct pipeline_end end;
	enum db_status e;
	const struct fval *art = &v[EF_ARTICLE_ID];
	char owner[37];

	/*
	 * COST_REPORTING=admin: an admin ends any user's run, and the end
	 * counts in the usage of the run's owner.
	 */
	memcpy(owner, r->user.id, sizeof(owner));
	if (cfg.cost_reporting_admin &&
	    (e = repo_pipelines_owner(id, owner)) != DB_OK) {
		if (e != DB_EMPTY)
			return e;
		http_fail(r, ERR_NOT_FOUND, NULL, NULL);
		return DB_ROLLBACK;
	}
	/*
	 * The lock, the end and the COMMIT in one round trip: the end answers
	 * with the usage it left, and a 404 or 409 wrote nothing.
	 */
	if ((e = repo_pipelines_lock_user(owner)) != DB_OK)
		return e;
	db_commit_next();
	e = repo_pipelines_end(owner, id, v[EF_STATUS].s,
	    v[EF_TOTAL_COST].present ? v[EF_TOTAL_COST].s : NULL,
	    art->present, art->present && !art->is_null ? art->s : NULL,
	    v[EF_ERROR_MESSAGE].present ? v[EF_ERROR_MESSAGE].s : NULL,
	    &end, answer_pipeline, &an);
	if (e == DB_DENIED) {
		if (!cfg.cost_reporting_admin)
			return account_gone(r);
		http_fail(r, ERR_NOT_FOUND, NULL, NULL);
		return DB_ROLLBACK;
	}
	if (e == DB_EMPTY) {
		http_fail(r, ERR_NOT_FOUND, NULL, NULL);
		return DB_ROLLBACK;
	}
	if (e == DB_FOREIGN) {
		http_fail(r, ERR_VALIDATION, "article_id", "article_id is not one of your "
		    "articles");
		return DB_ROLLBACK;
	}
	if (e != DB_OK)
		return e;
	if (!end.ended) {
		char msg[96];

		snprintf(msg, sizeof(msg), "the pipeline is %s already: only a "
		    "running pipeline can end", end.was);
		http_fail(r, ERR_INVALID_TRANSITION, NULL, "%s", msg);
		return DB_ROLLBACK;
	}
	remaining_headers(r, end.remaining_cost, end.remaining_articles);
	return DB_OK;
}

void
api_pipelines_end(struct req *r)
{
	const char *id = r->id;
	const struct fval *v = r->in;
	struct end_args a = { id, v };

	if (cfg.cost_reporting_admin && !r->user.admin) {
		http_fail(r, ERR_FORBIDDEN, NULL, "this server takes the cost of a "
		    "run from its operator (COST_REPORTING=admin): only an "
		    "administrator's credential can end a pipeline run");
		return;
	}
	if (!end_body_ok(r, v))
		return;
	http_tx(r, end_tx, &a);
}

/* A list row: a pipeline. */
static void
pipeline_item(void *arg, const struct pipeline_row *p)
{
	struct jw *w = api_list_item(arg, p->started_at, p->id);

	if (w != NULL)
		pipeline_write(w, p);
}

void
api_pipelines_list(struct req *r)
{
	int64_t limit;
	const char *status;
	struct cursor c;
	struct list_page page;
	enum db_status e;

	if (!api_list_query(r, statuses, &limit, &status, &c))
		return;
	api_list_begin(&page, r, limit);
	e = repo_pipelines_list(r->user.id, status, &c, limit + 1,
	    pipeline_item, &page);
	if (e != DB_OK) {
		http_db_failed(r, e);
		return;
	}
	api_list_end(&page);
}

void
api_pipelines_get(struct req *r)
{
	const char *id = r->id;
	struct answer an = { r, 200, false };
	enum db_status e;

	if ((e = repo_pipelines_get(r->user.id, id, answer_pipeline, &an)) ==
	    DB_EMPTY) {
		http_fail(r, ERR_NOT_FOUND, NULL, NULL);
		return;
	}
	if (e != DB_OK) {
		http_db_failed(r, e);
		return;
	}
}
