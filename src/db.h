/* db.h - the worker's one connection: reconnect, prepared statements. */
#ifndef BP_DB_H
#define BP_DB_H

#include <stdbool.h>

#include <libpq-fe.h>

/* One prepared statement: its name, its SQL and its parameter count. */
struct stmt {
	const char	*name;
	const char	*sql;
	int		 nparams;
};

/* The statements of one repo_* file. */
struct stmt_table {
	const struct stmt	*stmts;
	int			 n;
};

enum db_status {
	DB_OK = 0,
	DB_EMPTY,	/* the statement returned no row */
	DB_UNIQUE,	/* 23505 unique_violation */
	DB_FOREIGN,	/* 23503 foreign_key_violation */
	DB_CHECK,	/* 23514 check_violation, 22xxx data exceptions */
	DB_RETRY,	/* 40001 / 40P01: run the transaction again */
	DB_DOWN,	/* no connection: answer 503 */
	DB_DENIED,	/* the pending guard returned no row (db_guard) */
	DB_ERROR,	/* anything else: a bug, answer 500 */
};

/* Seconds a client should wait before retrying while the database is down. */
#define DB_RETRY_AFTER 2

/* Worker start: connect once (a failure is not fatal: requests retry). */
void db_init(void);
void db_close(void);

/*
 * Make sure the connection is up before a request: detects a server that
 * went away, reconnects with backoff and prepares every statement.
 * Returns false while the database is unreachable.
 */
bool db_ready(void);

/*
 * Run a prepared statement.  *res receives the result on DB_OK and
 * DB_EMPTY (caller PQclear()s it) and NULL otherwise.  Errors are logged
 * once, here.
 */
enum db_status db_exec(const struct stmt *s, const char *const *params,
    PGresult **res);

/* Like db_exec with one or more parameters given as arguments. */
enum db_status db_execv(const struct stmt *s, PGresult **res, ...);

/*
 * A guard: a statement that must return a row for the request to count
 * (the authenticated-user check of a read).  It is not run here: the
 * request's next db_exec sends the guard and its own statement in one
 * round trip (libpq pipeline mode, one Sync, so one implicit transaction)
 * and returns DB_DENIED, without the statement's result, when the guard
 * returned no row, or the guard's own error when it failed.  Only for
 * statements that change nothing: the statement runs either way.  Any
 * other use of the connection runs a pending guard alone first.  The
 * parameters are copied (at most 2, 63 bytes each).
 */
void db_guard(const struct stmt *s, const char *const *params);

/*
 * The guard's outcome, running it alone if it is still pending: DB_OK
 * (also when there was none), DB_EMPTY when it found no row, or the
 * failure (DB_DOWN, DB_ERROR, ...).  Ends the guard: the next request
 * starts without one.
 */
enum db_status db_guard_end(void);

/* e, with *res cleared unless e is DB_OK (the statement returned rows). */
enum db_status db_rows(enum db_status e, PGresult **res);

/* Column c of row i as text; NULL when it is NULL or past the last column. */
const char *db_col(PGresult *res, int i, int c);

/* BEGIN / COMMIT / ROLLBACK on the worker's connection. */
enum db_status db_begin(void);
enum db_status db_commit(void);
void db_rollback(void);

/* A connection for one-shot commands (migrate, create-admin), or NULL. */
PGconn *db_connect_once(const char *conninfo);

/*
 * What to log of a failed result: the server's primary message, never its
 * DETAIL (a check violation's detail quotes the row, hashes included).
 */
const char *db_error_text(PGconn *c, PGresult *r);

/* The worker's connection (for tests and health), or NULL. */
PGconn *db_conn(void);

#endif
