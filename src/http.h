/*
 * http.h - one request and its answer: the request's memory, its headers
 * and query, and the response (status, headers, JSON body, the API's
 * errors).  dispatch.c runs a request through these; handlers answer with
 * them.
 */
#ifndef BP_HTTP_H
#define BP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "buf.h"
#include "db.h"
#include "json.h"
#include "router.h"

struct fval;

/* The authenticated caller, filled by the dispatcher (auth.c). */
struct auth_user {
	bool	 ok;
	char	 id[37];
	bool	 admin;
	int	 method;		/* AUTH_BEARER, AUTH_API_KEY, AUTH_COOKIE */
	bool	 pending;		/* checked with the first query: auth_settle */
	const char *cred;		/* the token or key (request memory) */
	char	 jti[33];		/* a token's jti claim ("" when none) */
	int64_t	 exp;			/* a token's exp claim */
};

/*
 * Everything one request owns.  Begun by http_request_begin, released at
 * exactly one point, http_request_end(); the buffers are kept (up to a
 * cap) for the next request so a worker's memory does not grow.
 */
struct req {
	FCGX_Request		*fcgi;
	const char		*method;
	char			*path;		/* raw path, without the query */
	const char		*query;		/* raw query string, "" if none */
	const char		*content_type;
	const char		*request_id;
	struct buf		 body;
	json_object		*json;		/* the parsed body (routes with fields) */
	const struct route	*route;
	char			*params[ROUTE_MAX_PARAMS];	/* {id} segments */
	char			 id[37];	/* RF_ID: the {id}, a lower-case UUID */
	const struct fval	*in;		/* the body's fields, validated */
	struct auth_user	 user;

	int			 status;
	struct buf		 out;		/* response body */
	struct buf		 hdrs;		/* extra response headers */
	struct jw		 errw;		/* an error body left open */
	bool			 streamed;	/* http_stream_begin: sent as it goes */
	void			**allocs;	/* freed at the end of the request */
	size_t			 nallocs, allocs_cap;
	long long		 t0_us;
};

/*
 * The error codes of API.md, each with its status and default message in
 * one table (http.c).
 */
enum api_err {
	ERR_INVALID_JSON,		/* 400 invalid_json */
	ERR_VALIDATION,			/* 400 validation_failed */
	ERR_UNAUTHORIZED,		/* 401 unauthorized */
	ERR_INVALID_CREDENTIALS,	/* 401 invalid_credentials */
	ERR_USAGE_LIMIT,		/* 402 usage_limit_exceeded */
	ERR_FORBIDDEN,			/* 403 forbidden */
	ERR_REGISTRATION_DISABLED,	/* 403 registration_disabled */
	ERR_ACCOUNT_DISABLED,		/* 403 account_disabled */
	ERR_NOT_FOUND,			/* 404 not_found */
	ERR_METHOD_NOT_ALLOWED,		/* 405 method_not_allowed */
	ERR_CONFLICT,			/* 409 conflict */
	ERR_EMAIL_TAKEN,		/* 409 email_taken */
	ERR_SLUG_TAKEN,			/* 409 slug_taken */
	ERR_INVALID_TRANSITION,		/* 409 invalid_transition */
	ERR_ARTICLE_LIMIT,		/* 409 article_limit_reached */
	ERR_PAYLOAD_TOO_LARGE,		/* 413 payload_too_large */
	ERR_UNSUPPORTED_MEDIA_TYPE,	/* 415 unsupported_media_type */
	ERR_TOO_MANY_REQUESTS,		/* 429 too_many_requests */
	ERR_INTERNAL,			/* 500 internal */
	ERR_UNAVAILABLE,		/* 503 service_unavailable */
	ERR__MAX
};

/* Worker set-up and tear-down of the reused request buffers. */
void http_worker_init(void);
void http_worker_free(void);

/*
 * The worker's one request, zeroed, for the FastCGI request fcgi: method,
 * path, query, content type and request id read from its parameters.
 */
struct req *http_request_begin(FCGX_Request *fcgi);
/* Send the answer: status line, headers, body. */
void http_respond(struct req *r);
/* The one place a request's memory is released. */
void http_request_end(struct req *r);

/*
 * Read the whole body; keep at most MAX_BODY_BYTES of it.  Returns false
 * when there was more (the rest is read and dropped so the connection
 * stays usable).
 */
bool http_read_body(struct req *r);

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

/*
 * A streamed answer (an export): http_stream_begin sends the 200 status
 * line, the extra headers and Content-Type ct now, without a length; the
 * body follows with http_stream_write (false once the client is gone);
 * http_respond then sends nothing more.
 */
void http_stream_begin(struct req *r, const char *ct);
bool http_stream_write(struct req *r, const void *p, size_t n);

/* Set the status of a JSON response already written to r->out. */
void http_status(struct req *r, int status);

/* 204 No Content. */
void http_no_content(struct req *r);
/* Forget the answer written so far: status, body and extra headers. */
void http_discard(struct req *r);

/*
 * Answer with error e of API.md: its status and the body
 * {"error":{"code","message"[,"field"]}}, replacing anything already
 * written to r->out.  fmt NULL gives e's default message.  A 503 also
 * carries Retry-After, a 401 WWW-Authenticate.
 */
void http_fail(struct req *r, enum api_err e, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * The same error with its object left open, for a "details" member the
 * caller writes with the returned writer; http_fail_close ends it.
 */
struct jw *http_fail_open(struct req *r, enum api_err e, const char *field,
    const char *message);
void http_fail_close(struct req *r);

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

/* True when a Content-Type value names application/json. */
bool http_is_json_type(const char *ct);

/* Percent-decode s[0..len) into a new string; NULL on bad escapes or NUL. */
char *http_pct_decode(const char *s, size_t len);

long long http_now_us(void);

#endif
