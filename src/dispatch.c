/*
 * dispatch.c - one request from accept to access-log line.
 *
 * The route's row (router.c) says what the request must bring; every
 * check that does not depend on the resource runs here, in this order,
 * before the handler: route (404/405), body size (413), database (503),
 * credentials (401/403), content type (415), JSON (400 invalid_json),
 * registration open (403), the {id} (404), the body's fields (400
 * validation_failed).  A handler sees an authenticated user, r->id and
 * the validated fields r->in, and answers with one repository call.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "dispatch.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "repo.h"
#include "router.h"
#include "util.h"
#include "validate.h"

/* The route's match, with its {id} segments copied to request memory. */
static bool
route(struct req *r)
{
	char allow[64];
	size_t i;

	switch (router_match(r->method, r->path, &r->route, r->params,
	    ROUTE_MAX_PARAMS, allow, sizeof(allow))) {
	case ROUTE_NOT_FOUND:
		(void)http_read_body(r);
		http_fail(r, ERR_NOT_FOUND, NULL, "no such endpoint");
		return false;
	case ROUTE_BAD_METHOD:
		(void)http_read_body(r);
		http_fail(r, ERR_METHOD_NOT_ALLOWED, NULL, NULL);
		http_header(r, "Allow", "%s", allow);
		return false;
	case ROUTE_FOUND:
		break;
	}
	for (i = 0; i < ROUTE_MAX_PARAMS; i++)
		if (r->params[i] != NULL) {
			char *p = req_strdup(r, r->params[i]);

			free(r->params[i]);
			r->params[i] = p;
		}
	return true;
}

/*
 * The body as a JSON object in r->json.  No body and no content type: the
 * request has no fields, so it is missing the required ones (400
 * validation_failed naming the first), not of a wrong media type.
 */
static bool
parse_body(struct req *r)
{
	const char *why;

	if (r->body.len == 0 &&
	    (r->content_type == NULL || r->content_type[0] == '\0')) {
		if ((r->json = json_object_new_object()) == NULL) {
			http_fail(r, ERR_INTERNAL, NULL, NULL);
			return false;
		}
		return true;
	}
	if (!http_is_json_type(r->content_type)) {
		http_fail(r, ERR_UNSUPPORTED_MEDIA_TYPE, NULL, NULL);
		return false;
	}
	switch (json_parse_body(r->body.data ? r->body.data : "", r->body.len,
	    &r->json)) {
	case BODY_OK:
		break;
	case BODY_EMPTY:
	case BODY_NOT_OBJECT:
		http_fail(r, ERR_INVALID_JSON, NULL,
		    "request body must be a JSON object");
		return false;
	case BODY_NUL:
		http_fail(r, ERR_INVALID_JSON, NULL,
		    "request body must not contain NUL characters");
		return false;
	case BODY_INVALID:
		http_fail(r, ERR_INVALID_JSON, NULL, NULL);
		return false;
	}
	if ((why = json_strict(r->body.data, r->body.len, r->json)) != NULL) {
		http_fail(r, ERR_INVALID_JSON, NULL, "%s", why);
		return false;
	}
	return true;
}

/*
 * The {id} path segment as a lower-case UUID in r->id; 404 when it is not
 * a UUID (API.md: such an id is not found).
 */
static bool
path_id(struct req *r)
{
	const char *p = r->params[0];
	int i;

	if (p == NULL || !is_uuid(p)) {
		http_fail(r, ERR_NOT_FOUND, NULL, NULL);
		return false;
	}
	for (i = 0; i < 37; i++)
		r->id[i] = (p[i] >= 'A' && p[i] <= 'F') ?
		    (char)(p[i] - 'A' + 'a') : p[i];
	return true;
}

/* The body's fields checked against the route's table into r->in. */
static bool
fields(struct req *r)
{
	const struct fieldset *fs = r->route->body;
	struct fval *v = req_alloc(r, fs->n * sizeof(*v));

	if (!validate_body(r, fs->fields, fs->n, v))
		return false;
	r->in = v;
	return true;
}

/* The checks of the route's row, then its handler. */
static void
run(struct req *r)
{
	const struct route *rt;
	unsigned f;

	if (!route(r))
		return;
	rt = r->route;
	f = rt->flags;
	if (!http_read_body(r)) {
		http_fail(r, ERR_PAYLOAD_TOO_LARGE, NULL,
		    "request body is larger than %lld bytes",
		    (long long)cfg.max_body_bytes);
		return;
	}
	if (!(f & RF_NODB) && !db_ready()) {
		http_fail(r, ERR_UNAVAILABLE, NULL, NULL);
		return;
	}
	if ((f & RF_AUTH) && !auth_request(r))
		return;
	if (rt->body != NULL && !parse_body(r))
		return;
	if ((f & RF_SIGNUP) && !cfg.enable_registration) {
		http_fail(r, ERR_REGISTRATION_DISABLED, NULL,
		    "registration is closed on this server");
		return;
	}
	if ((f & RF_ID) && !path_id(r))
		return;
	if (rt->body != NULL && !fields(r))
		return;
	rt->handler(r);
	auth_settle(r);
	if (r->status == 0)
		http_fail(r, ERR_INTERNAL, NULL, NULL);
	if (r->status >= 500 && r->status != 503)
		log_warnx("%s %s answered %d", r->method, rt->name, r->status);
}

/* The access-log line: time (log.c), request id, method, path, status, µs, user. */
static void
access_log(struct req *r)
{
	char path[256], rid[80], method[16];

	log_escape(path, sizeof(path), r->path, r->path ? strlen(r->path) : 0);
	log_escape(rid, sizeof(rid), r->request_id ? r->request_id : "-",
	    r->request_id ? strlen(r->request_id) : 1);
	log_escape(method, sizeof(method), r->method, strlen(r->method));
	log_info("access rid=%s %s %s %d %lldus user=%s", rid, method, path,
	    r->status, http_now_us() - r->t0_us,
	    r->user.ok ? r->user.id : "-");
}

void
dispatch_request(FCGX_Request *fcgi)
{
	struct req *r = http_request_begin(fcgi);

	run(r);
	auth_settle(r);		/* a check still pending after an early answer */
	http_respond(r);
	access_log(r);
	http_request_end(r);
}

void
dispatch_housekeeping(void)
{
	static long long next_us;
	static unsigned served;
	long long now = http_now_us();
	enum db_status e;

	if (++served < HOUSEKEEPING_REQUESTS && now < next_us)
		return;
	served = 0;
	next_us = now + HOUSEKEEPING_SECONDS * 1000000LL;
	if (!db_ready())
		return;
	/* a failure waits for the next turn: the rows are only kept longer */
	if ((e = repo_idem_purge(HOUSEKEEPING_BATCH)) != DB_OK)
		log_warnx("housekeeping: idempotency keys: status %d", (int)e);
	if ((e = repo_users_purge_revoked(HOUSEKEEPING_BATCH)) != DB_OK)
		log_warnx("housekeeping: revoked tokens: status %d", (int)e);
}
