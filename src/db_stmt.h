/*
 * db_stmt.h - running statements on the handle (db.h).  For the repo_*
 * files only: they read the results and hand the rest of the program
 * filled structs, never a PGresult.
 */
#ifndef BP_DB_STMT_H
#define BP_DB_STMT_H

#include <libpq-fe.h>

#include "db.h"

/* What a statement answers when it succeeds. */
enum db_expect {
	DB_ROWS = 0,		/* PGRES_TUPLES_OK: a SELECT, or RETURNING */
	DB_CMD = 1,		/* PGRES_COMMAND_OK: no rows */
};

/* One prepared statement: its name, SQL, parameter count and answer. */
struct stmt {
	const char	*name;
	const char	*sql;
	int		 nparams;
	unsigned	 expect;	/* enum db_expect */
};

/* The statements of one repo_* file. */
struct stmt_table {
	const struct stmt	*stmts;
	int			 n;
};

/*
 * Run a prepared statement.  A result other than the one s expects is an
 * error (DB_ERROR); a failure is classified by SQLSTATE (db.h) and logged
 * once, here.  DB_EMPTY: a DB_ROWS statement returned no row, or a DB_CMD
 * one changed none.  *res receives the result on DB_OK and DB_EMPTY (the
 * caller PQclear()s it) and NULL otherwise.
 */
enum db_status db_exec(const struct stmt *s, const char *const *params,
    PGresult **res);

/*
 * Send s ahead: it goes in the round trip of the next db_exec, which
 * reads its result first and answers DB_DENIED when it returned no row
 * (or its failure), before the statement's own answer.  For a statement
 * whose only answer is whether it found its row, such as a row lock, and
 * whose next statement does not depend on its result.  With a COMMIT in
 * that round trip (db_commit_next) the next statement is committed even
 * when s found no row: it must then change nothing (it writes rows that
 * s would have locked).  DB_OK, or a failure to send it.
 */
enum db_status db_ahead(const struct stmt *s, const char *const *params);

/* Like db_exec with one or more parameters given as arguments. */
enum db_status db_execv(const struct stmt *s, PGresult **res, ...);

/* Like db_exec for a statement whose result is not read. */
enum db_status db_run(const struct stmt *s, const char *const *params);

/* e, with *res cleared unless e is DB_OK (the statement returned rows). */
enum db_status db_rows(enum db_status e, PGresult **res);

/* Column c of row i as text; NULL when it is NULL or past the last column. */
const char *db_col(PGresult *res, int i, int c);

/*
 * Run sql, a script of one or more statements without parameters (a
 * migration file), with the simple protocol.  On failure err (size n)
 * receives the server's message.
 */
enum db_status db_script(const char *sql, char *err, size_t n);

/*
 * COPY ... FROM STDIN on the handle (a COPY cannot be prepared): begin
 * with its SQL, put its data (text format, any chunking), then end, which
 * gives the number of rows the server stored, or abort, which ends it
 * with an error so that the connection stays usable (the transaction has
 * then failed).  Failures are classified like any statement's.
 */
enum db_status db_copy_begin(const char *sql);
enum db_status db_copy_put(const char *data, size_t len);
enum db_status db_copy_end(long *rows);
void db_copy_abort(const char *why);

#endif
