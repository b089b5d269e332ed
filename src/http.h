/* http.h - one request: its context, the body, the response, the errors. */
#ifndef BP_HTTP_H
#define BP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "buf.h"
#include "db.h"

struct route;

/* The authenticated caller, filled by the dispatcher (auth.c). */
struct auth_user {
	bool	 ok;
	char	 id[37];
	bool	 admin;
	int	 method;		/* AUTH_BEARER, AUTH_API_KEY, AUTH_COOKIE */
	bool	 pending;		/* checked with the first query: auth_settle */
	const char *cred;		/* the token or key (request memory) */
};

#define REQ_MAX_PARAMS 2

/*
 * Everything one request owns.  Zeroed at the start of each request and
 * released at exactly one point, http_request_end(); the buffers are kept
 * (up to a cap) for the next request so a worker's memory does not grow.
 */
struct req {
	FCGX_Request		*fcgi;
	const char		*method;
	char			*path;		/* raw path, without the query */
	const char		*query;		/* raw query string, "" if none */
	const char		*content_type;
	const char		*request_id;
	struct buf		 body;
	json_object		*json;		/* the parsed body (R_BODY routes) */
	const struct route	*route;
	char			*params[REQ_MAX_PARAMS];	/* {id} segments */
	struct auth_user	 user;

	int			 status;
	struct buf		 out;		/* response body */
	struct buf		 hdrs;		/* extra response headers */
	void			**allocs;	/* freed at the end of the request */
	size_t			 nallocs, allocs_cap;
	long long		 t0_us;
};

/* Worker set-up and tear-down of the reused request buffers. */
void http_worker_init(void);
void http_worker_free(void);

/* Serve one request accepted by libfcgi: route, check, run, respond, log. */
void http_handle(FCGX_Request *fcgi);

/* A request header as FastCGI passes it ("HTTP_X_API_KEY"), or NULL. */
const char *http_param(struct req *r, const char *name);

/*
 * Query parameter name, percent-decoded, or NULL when absent.  A repeated
 * parameter or one that decodes to a NUL or invalid UTF-8 is answered with
 * 400 here: the function returns NULL and sets *bad.
 */
const char *http_query(struct req *r, const char *name, bool *bad);

/* Memory that lives until the end of the request. */
void *req_alloc(struct req *r, size_t n);
char *req_strdup(struct req *r, const char *s);

/* Add a response header line ("Name: value"). */
void http_header(struct req *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the status of a JSON response already written to r->out. */
void http_status(struct req *r, int status);

/* 204 No Content. */
void http_no_content(struct req *r);
/* Forget the answer written so far: status, body and extra headers. */
void http_discard(struct req *r);

/*
 * The error body of API.md: {"error":{"code","message"[,"field"]}}.
 * Replaces anything already written to r->out.
 */
void http_error(struct req *r, int status, const char *code,
    const char *message, const char *field);

/* The answer to a failed repository call: 503 when the database is down, else 500. */
void http_db_failed(struct req *r, enum db_status e);

/*
 * Run tx as the unit of work of one transaction (db_tx: BEGIN, COMMIT or
 * one ROLLBACK, and the retries of a deadlock or serialization failure).
 * tx answers the request and returns DB_OK to commit, or DB_ROLLBACK when
 * its answer keeps nothing (a conflict, a replay); each attempt starts
 * from the answer as it was before the first.  Any other failure is
 * answered here (503, 500).
 */
void http_tx(struct req *r, enum db_status (*tx)(struct req *, const void *),
    const void *arg);

/*
 * The {id} path segment as a lower-case UUID in id.  Returns false, having
 * answered 404, when it is not a UUID (API.md: such an id is not found).
 */
bool http_path_id(struct req *r, char id[37]);

/* Shorthands for the common ones. */
void http_validation(struct req *r, const char *field, const char *message);
void http_not_found(struct req *r);
void http_unavailable(struct req *r);
void http_internal(struct req *r);

/* Parse and check a JSON request body (exposed for unit tests and fuzzing). */
enum body_status {
	BODY_OK,
	BODY_EMPTY,
	BODY_NUL,
	BODY_INVALID,
	BODY_NOT_OBJECT,
};
enum body_status http_parse_json(const char *data, size_t len,
    json_object **out);

/*
 * What json-c accepts and the API refuses in the JSON text data[0..len)
 * that http_parse_json parsed into v: an object that repeats a key, an
 * unpaired \uD800..\uDFFF escape, NaN, Infinity, a leading zero, an
 * integer below INT64_MIN.  NULL when fine, else the reason.
 */
const char *http_json_strict(const char *data, size_t len, json_object *v);

/* True when a Content-Type value names application/json. */
bool http_is_json_type(const char *ct);

/* Percent-decode s[0..len) into a new string; NULL on bad escapes or NUL. */
char *http_pct_decode(const char *s, size_t len);

long long http_now_us(void);

#endif
