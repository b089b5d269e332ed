/*
 * db.h - the process's one database handle: connection, reconnect,
 * prepared statements, the classification of every result, and the one
 * owner of transactions (db_tx).
 *
 * A process holds one handle.  A worker opens it with db_init(), keeps it
 * for its whole life, prepares every statement after each (re)connect and
 * reconnects with backoff.  A one-shot command (migrate, create-admin,
 * create-user) opens it from a connection string with db_open(); its
 * statements are prepared on first use, so a command can run before the
 * tables they name exist.  Either way the repo_* files run the same
 * statements through the same path (db_stmt.h).
 *
 * This header does not expose libpq: handlers see statuses only.
 */
#ifndef BP_DB_H
#define BP_DB_H

#include <stdbool.h>
#include <stddef.h>

enum db_status {
	DB_OK = 0,
	DB_EMPTY,	/* no row returned (or, for a command, none changed) */
	DB_UNIQUE,	/* 23505 unique_violation */
	DB_FOREIGN,	/* 23503 foreign_key_violation */
	DB_CHECK,	/* 23514 check_violation, 22xxx data exceptions */
	DB_RETRY,	/* 40001 / 40P01: run the transaction again */
	DB_DOWN,	/* no connection: answer 503 */
	DB_DENIED,	/* the pending guard returned no row (db_guard) */
	DB_ROLLBACK,	/* a unit of db_tx answered early: undo, not an error */
	DB_ERROR,	/* anything else: a bug, answer 500 */
};

/* Seconds a client should wait before retrying while the database is down. */
#define DB_RETRY_AFTER 2

/* How many times db_tx runs a unit that hit a serialization failure. */
#define DB_TX_TRIES 3

/* Worker start: connect once (a failure is not fatal: requests retry). */
void db_init(void);

/*
 * A one-shot command: connect to conninfo (a URI or key=value string)
 * without reconnecting later.  False (logged) when it cannot connect.
 */
bool db_open(const char *conninfo);

/*
 * Why the last connection attempt of this process failed, on one line
 * (libpq's message; it never holds the password), or "" when it did not.
 */
const char *db_connect_error(void);

/*
 * True when that failure is one of configuration that waiting will not
 * mend: a server certificate that does not verify (wrong CA, host name
 * not in it), a missing root certificate, a malformed connection string.
 */
bool db_connect_error_is_config(void);

/*
 * Prints to stderr "blogposter CMD: DATABASE_URL <masked>: cannot connect
 * to the database: <why>".
 */
void db_print_connect_error(const char *cmd);

/* Close the handle (worker exit, end of a command); safe when not open. */
void db_close(void);

/*
 * Make sure the connection is up before a request: detects a server that
 * went away, reconnects with backoff and prepares every statement.
 * Returns false while the database is unreachable.
 */
bool db_ready(void);

/*
 * Run a unit of work in one transaction: BEGIN, unit(arg), then COMMIT
 * when it returns DB_OK, or exactly one ROLLBACK otherwise.  The BEGIN is
 * not a round trip of its own: it goes with the unit's first statement
 * (libpq pipeline mode, one Sync), and a unit that runs none sends
 * nothing.  The COMMIT may go with the unit's last (db_commit_next).  A
 * unit that
 * answered early (nothing to keep) returns DB_ROLLBACK, which db_tx turns
 * into DB_OK after the rollback.  DB_RETRY, from the unit or the COMMIT,
 * runs the whole unit again, at most DB_TX_TRIES times in all; a unit
 * must therefore start from scratch each time it is called.  Returns
 * DB_OK or the failure (DB_RETRY when every try hit one).
 */
enum db_status db_tx(enum db_status (*unit)(void *), void *arg);

/*
 * Inside a unit of db_tx: the next statement is the last that needs the
 * transaction, and the COMMIT goes with it, in its round trip.  When that
 * statement fails, the COMMIT does not run and db_tx rolls back as
 * always; a COMMIT that fails (a serialization failure at commit) is the
 * statement's answer, so a DB_RETRY still runs the unit again.  When the
 * statement succeeds, whatever it answers (DB_EMPTY included), the
 * transaction is committed: use it only where an answer that makes the
 * unit give up means nothing was written (a check folded into the write,
 * an ON CONFLICT DO NOTHING).  A statement the unit runs after it begins
 * a new transaction, which db_tx commits or rolls back as usual.  A
 * guard in the same round trip that finds no row fails, and the COMMIT
 * does not run.
 */
void db_commit_next(void);

/* How db_tx_run begins its transaction. */
enum db_tx_kind {
	DB_TX_WRITE,		/* BEGIN */
	DB_TX_READ_ONLY,	/* REPEATABLE READ READ ONLY: one snapshot, no writes */
};

/*
 * db_tx with the kind of transaction and the number of tries: a unit that
 * cannot start over (a long command that reports as it goes, such as
 * import-json) runs once, tries = 1, and its DB_RETRY is the caller's.
 */
enum db_status db_tx_run(enum db_tx_kind kind, int tries,
    enum db_status (*unit)(void *), void *arg);

/*
 * A guard: a statement that must return a row for the request to count
 * (the authenticated-user check).  It is not run here: the request's next
 * statement sends the guard and itself in one round trip (libpq pipeline
 * mode, one Sync: one transaction, implicit or db_tx's) and returns
 * DB_DENIED, without the statement's rows, when the guard found no row,
 * or the guard's own error when it failed.  A guard fails where it finds
 * no row (SQLSTATE 28000, bp_credentials_denied), so that the statements
 * sent with it, a COMMIT included, do not run; once it has, no statement
 * of the request runs (DB_DENIED).  In a transaction (db_tx) it runs
 * after the BEGIN.  Any other use of the connection runs a pending guard
 * alone first.  The parameters are copied (at most 3, 79 bytes each).  s
 * is a struct stmt (db_stmt.h).
 */
struct stmt;
void db_guard(const struct stmt *s, const char *const *params);

/*
 * The guard's outcome, running it alone if it is still pending: DB_OK
 * (also when there was none), DB_EMPTY when it found no row, or the
 * failure (DB_DOWN, DB_ERROR, ...).  Ends the guard: the next request
 * starts without one.
 */
enum db_status db_guard_end(void);


#endif
