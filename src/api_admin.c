/*
 * api_admin.c - /api/v1/admin: the user list, changing a user, and the
 * usage of a month.  The dispatcher lets only active admins in (RF_ADMIN).
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "buf.h"
#include "cursor.h"
#include "http.h"
#include "isotime.h"
#include "json.h"
#include "repo.h"
#include "usage.h"
#include "user.h"
#include "util.h"
#include "validate.h"

#define LIST_DEFAULT	20
#define LIST_MAX	100

/* The list being written: rows past limit only tell there is a next page. */
struct list_state {
	struct jw	*w;
	int64_t		 limit;
	int64_t		 n;
	char		 next[CURSOR_LEN + 1];
};

static void
list_row(void *arg, const struct user *u, const struct usage *g)
{
	struct list_state *st = arg;
	int64_t us;

	if (++st->n > st->limit)
		return;
	user_write(st->w, u, true);
	jw_key(st->w, "usage");
	usage_write(st->w, g);
	jw_end(st->w, '}');
	if (st->n == st->limit &&
	    (!isotime_parse(u->created_at, &us) ||
	    !cursor_encode(us, u->id, st->next)))
		st->next[0] = '\0';
}

void
api_admin_users_list(struct req *r)
{
	struct list_state st;
	struct cursor cur;
	const char *q;
	struct jw w;
	bool bad;
	enum db_status e;

	memset(&st, 0, sizeof(st));
	q = http_query(r, "q", &bad);
	if (bad)
		return;
	if (!validate_limit(r, "limit", LIST_DEFAULT, LIST_MAX, &st.limit))
		return;
	if (!cursor_param(r, &cur))
		return;
	jw_init(&w, &r->out);
	st.w = &w;
	jw_obj(&w);
	jw_key(&w, "items");
	jw_arr(&w);
	/* one row more than asked: is there a next page? */
	e = repo_users_list(q, &cur, st.limit + 1, list_row, &st);
	if (e != DB_OK) {
		http_db_failed(r, e);
		return;
	}
	jw_end(&w, ']');
	jw_kstr(&w, "next_cursor", st.n > st.limit && st.next[0] ? st.next :
	    NULL);
	jw_end(&w, '}');
	http_status(r, 200);
}

enum { FA_ACTIVE, FA_ROLE, FA_COST, FA_ARTICLES, FA__MAX };

static const char *const roles[] = { "user", "admin", NULL };

static const struct field patch_fields[FA__MAX] = {
	{ "is_active", FT_BOOL, false, false, 0, 0, NULL },	/* FA_ACTIVE */
	{ "role", FT_ENUM, false, false, 0, 0, roles },		/* FA_ROLE */
	{ "max_monthly_cost", FT_MONEY, false, true, 0, 0,
	  NULL },						/* FA_COST */
	{ "max_articles_per_month", FT_INT, false, true, 0, INT32_MAX,
	  NULL },						/* FA_ARTICLES */
};
const struct fieldset api_admin_users_patch_body = { patch_fields, FA__MAX };

void
api_admin_users_patch(struct req *r)
{
	const struct fval *v = r->in;
	struct user_patch p;
	struct user *u = req_alloc(r, sizeof(*u));
	const char *id = r->id;
	bool actor_ok;
	enum db_status e;
	struct jw w;

	memset(&p, 0, sizeof(p));
	p.is_active = v[FA_ACTIVE].present ? v[FA_ACTIVE].b : -1;
	p.role = v[FA_ROLE].present ? v[FA_ROLE].s : NULL;
	p.set_max_cost = v[FA_COST].present;
	p.max_cost = v[FA_COST].is_null ? NULL : v[FA_COST].s;
	p.set_max_articles = v[FA_ARTICLES].present;
	p.max_articles = v[FA_ARTICLES].is_null ? -1 : v[FA_ARTICLES].i;
	/* what they already are is fine: an active admin */
	if (strcmp(id, r->user.id) == 0) {
		if (p.is_active == 0) {
			http_fail(r, ERR_CONFLICT, NULL,
			    "administrators cannot deactivate themselves");
			return;
		}
		if (p.role != NULL && strcmp(p.role, "admin") != 0) {
			http_fail(r, ERR_CONFLICT, NULL,
			    "administrators cannot "
			    "remove their own admin role");
			return;
		}
	}
	e = repo_users_patch(r->user.id, id, &p, &actor_ok, u);
	if (e == DB_OK && !actor_ok) {
		http_fail(r, ERR_FORBIDDEN, NULL, "administrators only");
		return;
	}
	if (e == DB_EMPTY) {
		http_fail(r, ERR_NOT_FOUND, NULL, NULL);
		return;
	}
	if (e != DB_OK) {
		http_db_failed(r, e);
		return;
	}
	jw_init(&w, &r->out);
	user_write(&w, u, false);
	http_status(r, 200);
}

/* "YYYY-MM" with a month 01..12 and a year 0001..9999. */
static bool
parse_month(const char *s)
{
	size_t i;

	if (strlen(s) != 7 || s[4] != '-')
		return false;
	for (i = 0; i < 7; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return false;
	if (strncmp(s, "0000", 4) == 0)
		return false;
	return (s[5] == '0' && s[6] >= '1') || (s[5] == '1' && s[6] <= '2');
}

struct usage_state {
	struct jw	*w;
};

static void
usage_row(void *arg, const struct month_usage *m)
{
	struct usage_state *st = arg;

	jw_obj(st->w);
	jw_kstr(st->w, "user_id", m->user_id);
	jw_kstr(st->w, "email", m->email);
	jw_kint(st->w, "articles_generated", m->articles_generated);
	jw_kstr(st->w, "total_cost", m->total_cost);
	jw_end(st->w, '}');
}

void
api_admin_usage(struct req *r)
{
	struct month_usage *totals = req_alloc(r, sizeof(*totals));
	struct usage_state st;
	char month[8], date[16];
	const char *q;
	struct jw w;
	bool bad;
	enum db_status e;

	q = http_query(r, "month", &bad);
	if (bad)
		return;
	if (q == NULL) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(month, sizeof(month), "%Y-%m", &tm);
	} else if (parse_month(q))
		memcpy(month, q, sizeof(month));
	else {
		http_fail(r, ERR_VALIDATION, "month", "month must be YYYY-MM");
		return;
	}
	snprintf(date, sizeof(date), "%s-01", month);
	jw_init(&w, &r->out);
	st.w = &w;
	jw_obj(&w);
	jw_kstr(&w, "month", month);
	jw_key(&w, "items");
	jw_arr(&w);
	if ((e = repo_users_usage_month(date, usage_row, &st, totals)) !=
	    DB_OK) {
		http_db_failed(r, e);
		return;
	}
	jw_end(&w, ']');
	jw_key(&w, "totals");
	jw_obj(&w);
	jw_kint(&w, "articles_generated", totals->articles_generated);
	jw_kstr(&w, "total_cost", totals->total_cost);
	jw_end(&w, '}');
	jw_end(&w, '}');
	http_status(r, 200);
}
