/* test_router.c - route matching, 404 and 405 with Allow. */
#include "autoconf.h"

#include <stdlib.h>

#include "router.h"
#include "tap.h"

int
main(void)
{
	const struct route *r;
	char *params[2];
	char allow[64];

	ok(router_match("GET", "/api/v1/health", &r, params, 2, allow,
	    sizeof(allow)) == ROUTE_FOUND && r != NULL, "health found");
	ok(router_match("POST", "/api/v1/health", &r, params, 2, allow,
	    sizeof(allow)) == ROUTE_BAD_METHOD, "wrong method");
	is_str(allow, "GET", "Allow lists GET");
	ok(router_match("GET", "/api/v1/nope", &r, params, 2, allow,
	    sizeof(allow)) == ROUTE_NOT_FOUND, "unknown path");
	ok(router_match("GET", "/api/v1/health/", &r, params, 2, allow,
	    sizeof(allow)) == ROUTE_NOT_FOUND, "trailing slash is another path");
	ok(router_match("GET", "", &r, params, 2, allow,
	    sizeof(allow)) == ROUTE_NOT_FOUND, "empty path");
	return tap_done();
}
