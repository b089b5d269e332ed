/* router.h - the one route table: method + path pattern -> handler. */
#ifndef BP_ROUTER_H
#define BP_ROUTER_H

#include <stddef.h>

struct req;

/* What the dispatcher checks before a handler runs. */
enum route_flag {
	RF_AUTH = 1 << 0,	/* a valid credential is required */
	RF_ADMIN = 1 << 1,	/* ... and the admin role */
	RF_BODY = 1 << 2,	/* a JSON object body is required */
	RF_NODB = 1 << 3,	/* the handler answers even with no database */
};

struct route {
	const char	*method;
	const char	*pattern;	/* "{id}" matches one path segment */
	void		(*handler)(struct req *);
	unsigned	 flags;
	const char	*name;		/* for logs and the OpenAPI check */
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

/* The table itself, for the route listing (--routes) and tests. */
const struct route *router_table(size_t *n);

#endif
