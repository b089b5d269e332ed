/* router.h - the one route table: method + path pattern -> handler. */
#ifndef BP_ROUTER_H
#define BP_ROUTER_H

#include <stddef.h>

struct fieldset;
struct req;

#define ROUTE_MAX_PARAMS 2	/* {id} segments in a pattern */

/* Every endpoint of the API, in the order of the table in router.c. */
enum route_id {
	ROUTE_HEALTH,
	ROUTE_ARTICLES_LIST,
	ROUTE_ARTICLES_CREATE,
	ROUTE_ARTICLES_GET,
	ROUTE_ARTICLES_UPDATE,
	ROUTE_ARTICLES_DELETE,
	ROUTE_ARTICLES_RELATED,
	ROUTE_PIPELINES_LIST,
	ROUTE_PIPELINES_START,
	ROUTE_PIPELINES_GET,
	ROUTE_PIPELINES_END,
	ROUTE_USAGE_GET,
	ROUTE_USAGE_HISTORY,
	ROUTE_AUTH_REGISTER,
	ROUTE_AUTH_LOGIN,
	ROUTE_AUTH_LOGOUT,
	ROUTE_ME_GET,
	ROUTE_ME_DELETE,
	ROUTE_ME_PASSWORD,
	ROUTE_ME_KEY_CREATE,
	ROUTE_ME_KEY_DELETE,
	ROUTE_ME_EXPORT,
	ROUTE_ADMIN_USERS_LIST,
	ROUTE_ADMIN_USERS_PATCH,
	ROUTE_ADMIN_USAGE,
	ROUTE_AUTH_CONFIG,
	ROUTE__MAX
};

/* What the dispatcher checks before a handler runs (dispatch.c). */
enum route_flag {
	RF_AUTH = 1 << 0,	/* a valid credential is required */
	RF_ADMIN = 1 << 1,	/* ... and the admin role */
	RF_NODB = 1 << 2,	/* the handler answers even with no database */
	RF_ID = 1 << 3,		/* the {id} must be a UUID (else 404): r->id */
	RF_SIGNUP = 1 << 4,	/* registration must be open (else 403) */
	/*
	 * A write whose credential check may go with its handler's first
	 * statement (db_guard): the handler reads nothing of the caller but
	 * the id, and runs its statements in one db_tx or as one statement,
	 * which a failed check stops.
	 */
	RF_DEFER = 1 << 5,
	/* ... except with COST_REPORTING=admin: the handler reads the role */
	RF_COST_ROLE = 1 << 6,
};

struct route {
	const char		*method;
	const char		*pattern;	/* "{id}" matches one segment */
	void			(*handler)(struct req *);
	unsigned		 flags;
	/*
	 * The JSON object body and its fields (validate.h), checked before
	 * the handler runs, which reads them in r->in; NULL: no body.
	 */
	const struct fieldset	*body;
	const char		*name;		/* for logs and the OpenAPI check */
};

enum route_match {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_BAD_METHOD,	/* path known: allow lists its methods */
};

/*
 * Match method and path.  On ROUTE_FOUND *route is set and params[] hold
 * the {id} segments in order, each malloc'ed for the caller to free (the
 * rest NULL); on ROUTE_BAD_METHOD allow holds "GET, POST" style text.
 */
enum route_match router_match(const char *method, const char *path,
    const struct route **route, char **params, size_t nparams,
    char *allow, size_t allowsz);

/* The table itself (ROUTE__MAX rows), for the OpenAPI check and tests. */
const struct route *router_table(size_t *n);

#endif
