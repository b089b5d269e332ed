/*
 * db.c - the process's one database handle (db.h, db_stmt.h).
 *
 * Statements live in the repo_* files.  A worker prepares every table of
 * them right after each (re)connect, so a request only ever runs
 * PQexecPrepared; a one-shot command prepares each statement the first
 * time it runs it.  With DB_POOL_MODE=transaction (a pooler such as
 * PgBouncer between us and the server) nothing outlives a transaction:
 * statements go unnamed (PQexecParams), TimeZone and DateStyle in the
 * startup packet instead of a SET.  A lost connection is noticed before the request uses
 * it (PQconsumeInput on the idle socket) and, in a worker, re-established
 * with backoff; in between every request gets DB_DOWN, which the HTTP
 * layer turns into 503 with Retry-After.
 *
 * Every result goes through outcome(): the status the statement declares
 * is the only success, and every failure is classified here by SQLSTATE.
 * Transactions have one owner, db_tx().  A request's round trips are
 * few: its credential check (db_guard), a transaction's BEGIN, statements
 * sent ahead (db_ahead) and a COMMIT (db_commit_next) go with the next
 * statement in one libpq pipeline (exec_piped), with one Sync.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db_stmt.h"
#include "log.h"
#include "repo.h"
#include "util.h"

#define BACKOFF_MIN_MS	50
#define BACKOFF_MAX_MS	1000

/* Statements sent ahead of the next one (db_ahead), at most. */
#define AHEAD_MAX	4
/* What one pipeline can hold: BEGIN, the guard, the aheads, the statement, COMMIT. */
#define PIPE_MAX	(AHEAD_MAX + 4)

#define GUARD_PARAMS	3
/* the longest: an API key's SHA-256 as bytea text, 66 characters */
#define GUARD_PARAM_MAX	80

/* The handle: one per process. */
struct db {
	PGconn		*conn;
	bool		 up;		/* connected (and, worker, prepared) */
	bool		 worker;	/* reconnects; prepares all at connect */
	bool		 server_left;	/* the server said it ends the connection */
	long long	 next_try_ms;
	long long	 backoff_ms;
	/* one-shot: the statements prepared so far */
	const struct stmt **prepared;
	size_t		 nprepared, capprepared;
	/* the request's guard (db_guard) */
	struct {
		enum { GUARD_NONE, GUARD_PENDING, GUARD_DONE } state;
		const struct stmt	*s;
		char			 vals[GUARD_PARAMS][GUARD_PARAM_MAX];
		const char		*params[GUARD_PARAMS];
		enum db_status		 status;
	} guard;
	/*
	 * The transaction of db_tx_run (sql: its BEGIN, NULL outside one).
	 * The BEGIN waits for the unit's first statement and goes with it
	 * (begin: sql until it is sent); commit_next: the next statement
	 * carries the COMMIT (db_commit_next).
	 */
	struct {
		const char	*sql;
		const char	*begin;
		bool		 commit_next;
	} tx;
	/*
	 * The pipeline being filled (pipeline mode, no Sync yet): what was
	 * sent, in order, whose results the next statement reads.
	 */
	struct {
		int			 n;
		enum { Q_BEGIN, Q_GUARD, Q_AHEAD, Q_STMT, Q_COMMIT } kind[PIPE_MAX];
		const struct stmt	*s[PIPE_MAX];
		bool			 broken;	/* a send failed */
	} pipe;
};

static struct db self = { .backoff_ms = BACKOFF_MIN_MS };

/* Why the last connection attempt failed, on one line ("" if none did). */
static char connect_error[512];

static const struct stmt_table *const *tables = repo_tables;

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The server's NOTICEs are not per-request information: not logged.  A
 * message arriving on an idle connection (libpq hands it here) is the
 * server ending it: a FATAL ("terminating connection due to
 * administrator command": fast shutdown, pg_terminate_backend, idle
 * timeouts) or a WARNING of class 57P (immediate shutdown, a crash of
 * another backend).
 */
static void
notice_receiver(void *arg, const PGresult *r)
{
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	bool *left = arg;

	if ((sev != NULL && (strcmp(sev, "FATAL") == 0 ||
	    strcmp(sev, "PANIC") == 0)) ||
	    (state != NULL && strncmp(state, "57P", 3) == 0))
		*left = true;
}

/* Run one SET on c; false (logged) when the server refused it. */
static bool
session_set(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		log_warnx("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

/*
 * Keeps libpq's message in connect_error, its lines joined by "; "
 * (without their indentation), cut to the buffer.
 */
static void
keep_connect_error(const char *msg)
{
	size_t i, n = 0;

	for (i = 0; msg[i] != '\0' && n + 3 < sizeof(connect_error); i++) {
		if (msg[i] != '\n')
			connect_error[n++] = msg[i];
		else if (msg[i + 1] != '\0') {
			connect_error[n++] = ';';
			connect_error[n++] = ' ';
			while (msg[i + 1] == '\t' || msg[i + 1] == ' ')
				i++;
		}
	}
	connect_error[n] = '\0';
}

const char *
db_connect_error(void)
{
	return connect_error;
}

bool
db_connect_error_is_config(void)
{
	/*
	 * libpq's messages (LANG=C): the server's certificate not signed by
	 * sslrootcert ("certificate verify failed"), not naming the host
	 * ("server certificate for ... does not match host name"), a root
	 * certificate file missing or unreadable, SSL required of a server
	 * without it, a malformed connection string.  Waiting mends none of
	 * them; a refused connection, a timeout or a server starting up are
	 * not among them.
	 */
	static const char *const config[] = {
		"certificate", "does not support SSL", "invalid connection option",
		"invalid sslmode", "invalid URI", "missing \"=\"", NULL
	};
	int i;

	for (i = 0; config[i] != NULL; i++)
		if (strstr(connect_error, config[i]) != NULL)
			return true;
	return false;
}

void
db_print_connect_error(const char *cmd)
{
	char *url = config_masked_dburl(cfg.database_url);

	fprintf(stderr, "blogposter %s: DATABASE_URL %s: cannot connect to the "
	    "database: %s\n", cmd, url,
	    connect_error[0] != '\0' ? connect_error : "unknown reason");
	free(url);
}

/* A connection with the session settings, or NULL (logged). */
static PGconn *
connect_to(const char *conninfo, bool *left)
{
	const char *keys[] = { "dbname", "connect_timeout",
	    "application_name", "client_encoding", NULL };
	const char *vals[] = { conninfo, "3", "blogposter", "UTF8", NULL };
	static const char *const session[] = {
		"SET timezone = 'UTC'", "SET datestyle = 'ISO'", NULL
	};
	PGconn *c;
	int i;

	/*
	 * Behind a pooler in transaction mode a SET would stay with the
	 * server connection, not with us: TimeZone and DateStyle go in the
	 * startup packet instead (libpq sends PGTZ and PGDATESTYLE there),
	 * and PgBouncer gives every server connection the values of the
	 * client it serves at each transaction.
	 */
	if (cfg.db_transaction_pool) {
		setenv("PGTZ", "UTC", 1);
		setenv("PGDATESTYLE", "ISO", 1);
	}
	/* expand_dbname: conninfo may be a URI or key=value string */
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		keep_connect_error(c ? PQerrorMessage(c) : "out of memory");
		log_warnx("database connection failed: %s", connect_error);
		PQfinish(c);
		return NULL;
	}
	connect_error[0] = '\0';
	PQsetNoticeReceiver(c, notice_receiver, left);
	/*
	 * Timestamps are read in PostgreSQL's own text form (isotime.h):
	 * ISO, in UTC, whatever the server's or the role's defaults.  One
	 * statement each, as the benchmark's ceiling reads them from the log.
	 */
	for (i = 0; !cfg.db_transaction_pool && session[i] != NULL; i++)
		if (!session_set(c, session[i])) {
			PQfinish(c);
			return NULL;
		}
	return c;
}

static bool
prepare(const struct stmt *s)
{
	PGresult *r = PQprepare(self.conn, s->name, s->sql, s->nparams, NULL);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		log_warnx("prepare %s: %s", s->name, PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

static bool
prepare_all(void)
{
	int t, i;

	/* unnamed statements, planned at each execution: nothing to keep */
	if (cfg.db_transaction_pool)
		return true;
	/*
	 * Plan each statement once, as it is prepared once: with the default
	 * plan_cache_mode, a statement whose generic plan looks dearer than
	 * its custom ones (LIMIT $n: the lists) is planned again at every
	 * execution.  The statements are keyed lookups that each match an
	 * index, so the generic plan is the same index scan, and planning
	 * it again at every request is pure cost (bench/README.md).
	 */
	(void)session_set(self.conn, "SET plan_cache_mode = force_generic_plan");
	for (t = 0; tables[t] != NULL; t++)
		for (i = 0; i < tables[t]->n; i++)
			if (!prepare(&tables[t]->stmts[i]))
				return false;
	return true;
}

/* One-shot handle: prepare s unless it already is.  False: logged. */
static bool
prepared(const struct stmt *s)
{
	size_t i;

	if (self.worker || cfg.db_transaction_pool)
		return true;
	for (i = 0; i < self.nprepared; i++)
		if (self.prepared[i] == s)
			return true;
	if (!prepare(s))
		return false;
	if (self.nprepared == self.capprepared) {
		self.capprepared = self.capprepared ? self.capprepared * 2 : 16;
		self.prepared = xrealloc(self.prepared,
		    self.capprepared * sizeof(*self.prepared));
	}
	self.prepared[self.nprepared++] = s;
	return true;
}

/* The connection is gone: a worker reconnects before the next request. */
static void
mark_down(void)
{
	self.up = false;
	self.next_try_ms = 0;
}

static bool
try_connect(void)
{
	PQfinish(self.conn);
	self.up = false;
	self.server_left = false;
	if ((self.conn = connect_to(cfg.database_url, &self.server_left)) ==
	    NULL || !prepare_all()) {
		self.next_try_ms = mono_ms() + self.backoff_ms;
		self.backoff_ms = self.backoff_ms * 2 > BACKOFF_MAX_MS ?
		    BACKOFF_MAX_MS : self.backoff_ms * 2;
		return false;
	}
	self.backoff_ms = BACKOFF_MIN_MS;
	self.server_left = false;
	self.up = true;
	log_info("database connected");
	return true;
}

void
db_init(void)
{
	db_close();
	self.worker = true;
	try_connect();
}

bool
db_open(const char *conninfo)
{
	db_close();
	self.worker = false;
	self.server_left = false;
	if ((self.conn = connect_to(conninfo, &self.server_left)) == NULL)
		return false;
	self.up = true;
	return true;
}

void
db_close(void)
{
	PQfinish(self.conn);
	free(self.prepared);
	memset(&self, 0, sizeof(self));
	self.backoff_ms = BACKOFF_MIN_MS;
}

bool
db_ready(void)
{
	if (self.up) {
		/*
		 * An idle socket with EOF, an error or the server's FATAL
		 * means the server left; PQisBusy parses what was read.
		 */
		if (PQconsumeInput(self.conn) && !PQisBusy(self.conn) &&
		    !self.server_left && PQstatus(self.conn) == CONNECTION_OK &&
		    PQtransactionStatus(self.conn) == PQTRANS_IDLE)
			return true;
		log_warnx("database connection lost");
		mark_down();
	}
	if (!self.worker || mono_ms() < self.next_try_ms)
		return false;
	return try_connect();
}

/*
 * The server's message without its DETAIL: a check violation's detail
 * quotes the failing row, hashes included, and rows never go to a log.
 */
static const char *
error_text(PGconn *c, PGresult *r)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	return m ? m : c ? PQerrorMessage(c) : "no connection";
}

/*
 * The one classifier: the status of failed result r (NULL: none) of c.
 * Logged, except the answers a caller expects (a unique or foreign key
 * violation, a serialization failure).
 */
static enum db_status
sqlstate_status(PGconn *c, PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		log_warnx("%s: connection broken: %s", what,
		    c ? PQerrorMessage(c) : "no connection");
		return DB_DOWN;
	}
	if (state != NULL) {
		if (strcmp(state, "23505") == 0)
			return DB_UNIQUE;
		if (strcmp(state, "23503") == 0)
			return DB_FOREIGN;
		if (strcmp(state, "23514") == 0 || strncmp(state, "22", 2) == 0) {
			log_warnx("%s: %s %s", what, state, error_text(c, r));
			return DB_CHECK;
		}
		if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
			return DB_RETRY;
		/* admin shutdown, crash recovery, cannot connect now */
		if (strncmp(state, "57P", 3) == 0 || strncmp(state, "08", 2) == 0) {
			log_warnx("%s: %s %s", what, state, error_text(c, r));
			return DB_DOWN;
		}
	}
	log_warnx("%s: %s %s", what, state ? state : "-", error_text(c, r));
	return DB_ERROR;
}

/* The one classifier on the handle's connection; marks it down when it broke. */
static enum db_status
classify(const char *what, PGresult *r)
{
	enum db_status e = sqlstate_status(self.conn, r, what);

	if (e == DB_DOWN)
		mark_down();
	return e;
}

/* The guard has its outcome e (returned). */
static enum db_status
guard_done(enum db_status e)
{
	self.guard.state = GUARD_DONE;
	self.guard.status = e;
	return e;
}

/*
 * The status of statement s's result r: the result status s expects, or
 * a classified failure.  *res keeps r on DB_OK / DB_EMPTY; r is freed
 * otherwise.
 */
static enum db_status
outcome(const struct stmt *s, PGresult *r, PGresult **res)
{
	ExecStatusType want = s->expect == DB_CMD ? PGRES_COMMAND_OK :
	    PGRES_TUPLES_OK;
	ExecStatusType st = PQresultStatus(r);
	enum db_status e;

	if (r != NULL && st == want) {
		*res = r;
		if (st == PGRES_TUPLES_OK)
			return PQntuples(r) == 0 ? DB_EMPTY : DB_OK;
		return strcmp(PQcmdTuples(r), "0") == 0 ? DB_EMPTY : DB_OK;
	}
	if (r != NULL && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
		log_warnx("%s: %s instead of %s", s->name, PQresStatus(st),
		    PQresStatus(want));
		e = DB_ERROR;
	} else
		e = classify(s->name, r);
	PQclear(r);
	return e;
}

/*
 * The guard's status from its result (which it frees).  A guard fails
 * with SQLSTATE 28000 (bp_credentials_denied) where it found no row:
 * that is its DB_EMPTY, not an error.
 */
static enum db_status
guard_outcome(PGresult *g)
{
	PGresult *kept = NULL;
	const char *state = g ? PQresultErrorField(g, PG_DIAG_SQLSTATE) : NULL;
	enum db_status e;

	if (state != NULL && strcmp(state, "28000") == 0) {
		PQclear(g);
		return guard_done(DB_EMPTY);
	}
	e = g ? outcome(self.guard.s, g, &kept) :
	    classify(self.guard.s->name, NULL);

	PQclear(kept);
	return guard_done(e);
}

/*
 * The first result of the pipeline's next query; the rest of that query's
 * results and the NULL that ends them are consumed.  NULL when the
 * connection broke.
 */
static PGresult *
pipeline_result(void)
{
	PGresult *first = NULL, *x;

	while ((x = PQgetResult(self.conn)) != NULL) {
		bool sync = PQresultStatus(x) == PGRES_PIPELINE_SYNC;

		if (first == NULL)
			first = x;
		else
			PQclear(x);
		if (sync)
			break;
	}
	return first;
}

/*
 * Run s with params: the prepared statement, or with
 * DB_POOL_MODE=transaction its SQL as an unnamed one.
 */
static PGresult *
exec_stmt(const struct stmt *s, const char *const *params)
{
	if (cfg.db_transaction_pool)
		return PQexecParams(self.conn, s->sql, s->nparams, NULL, params,
		    NULL, NULL, 0);
	return PQexecPrepared(self.conn, s->name, s->nparams, params, NULL,
	    NULL, 0);
}

/* As exec_stmt, sent in pipeline mode. */
static bool
send_stmt(const struct stmt *s, const char *const *params)
{
	if (cfg.db_transaction_pool)
		return PQsendQueryParams(self.conn, s->sql, s->nparams, NULL,
		    params, NULL, NULL, 0);
	return PQsendQueryPrepared(self.conn, s->name, s->nparams, params,
	    NULL, NULL, 0);
}

/* Forget the pipeline (after its Sync, or with a connection that broke). */
static void
pipe_reset(void)
{
	self.pipe.n = 0;
	self.pipe.broken = false;
}

/* Note that the pipeline holds one more query, kind k of statement s. */
static void
pipe_add(int k, const struct stmt *s)
{
	self.pipe.kind[self.pipe.n] = k;
	self.pipe.s[self.pipe.n] = s;
	self.pipe.n++;
}

/* Send, in pipeline mode, a statement of the simple kind (BEGIN, COMMIT). */
static bool
send_simple(const char *sql)
{
	return PQsendQueryParams(self.conn, sql, 0, NULL, NULL, NULL, NULL, 0);
}

/*
 * Open the pipeline unless it is: pipeline mode, then what must go first,
 * the pending BEGIN and the pending guard (in that order: the guard then
 * runs in the transaction, whose rollback undoes what came after it when
 * it found no row).  False when sending failed.
 */
static bool
pipe_open(void)
{
	if (self.pipe.n > 0 || self.pipe.broken)
		return !self.pipe.broken;
	if (!PQenterPipelineMode(self.conn))
		goto broken;
	if (self.tx.begin != NULL) {
		if (!send_simple(self.tx.begin))
			goto broken;
		pipe_add(Q_BEGIN, NULL);
		self.tx.begin = NULL;
	}
	if (self.guard.state == GUARD_PENDING) {
		if (!send_stmt(self.guard.s, self.guard.params))
			goto broken;
		pipe_add(Q_GUARD, self.guard.s);
	}
	return true;
broken:
	self.pipe.broken = true;
	return false;
}

/* A pipeline that failed half-way: drop the connection, its state unknown. */
static enum db_status
pipeline_broken(const char *what, bool guard)
{
	log_warnx("%s: pipeline: %s", what, PQerrorMessage(self.conn));
	pipe_reset();
	self.tx.begin = NULL;
	self.tx.commit_next = false;
	mark_down();
	return guard ? guard_done(DB_DOWN) : DB_DOWN;
}

/*
 * What the statement sent ahead of s (db_ahead) answered, from its result
 * x (freed): DB_DENIED for no row.
 */
static enum db_status
ahead_outcome(const struct stmt *a, PGresult *x)
{
	PGresult *kept = NULL;
	enum db_status e = outcome(a, x, &kept);

	PQclear(kept);
	return e == DB_EMPTY ? DB_DENIED : e;
}

/*
 * s in the pipeline, after what is pending (BEGIN, the guard, the
 * statements sent ahead), and the COMMIT when s carries it, with one
 * Sync: one round trip.  The results are read in order; the first
 * failure is the answer.  A COMMIT that ran ends the transaction: the
 * next statement of the unit begins another (db_commit_next).
 */
static enum db_status
exec_piped(const struct stmt *s, const char *const *params, PGresult **res)
{
	PGconn *conn = self.conn;
	PGresult *r[PIPE_MAX], *x;
	enum db_status e = DB_OK, g;
	bool guard = self.guard.state == GUARD_PENDING, commit, failed = false;
	int i, n;

	/* a guard that finds no row fails, and the COMMIT does not run */
	commit = self.tx.commit_next && self.tx.sql != NULL;
	self.tx.commit_next = false;
	if (!pipe_open() || !send_stmt(s, params))
		return pipeline_broken(s->name, guard);
	pipe_add(Q_STMT, s);
	if (commit) {
		if (!send_simple("COMMIT"))
			return pipeline_broken(s->name, guard);
		pipe_add(Q_COMMIT, NULL);
	}
	if (!PQpipelineSync(conn))
		return pipeline_broken(s->name, guard);
	n = self.pipe.n;
	for (i = 0; i < n; i++)
		if ((r[i] = pipeline_result()) == NULL)
			failed = true;
	/* up to and including the Sync */
	while (!failed && (x = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(x);

		PQclear(x);
		if (st == PGRES_PIPELINE_SYNC)
			break;
	}
	if (failed || PQstatus(conn) != CONNECTION_OK ||
	    !PQexitPipelineMode(conn)) {
		for (i = 0; i < n; i++)
			PQclear(r[i]);
		return pipeline_broken(s->name, guard);
	}
	pipe_reset();
	for (i = 0; i < n; i++) {
		x = r[i];
		switch (self.pipe.kind[i]) {
		case Q_BEGIN:
			if (e == DB_OK && PQresultStatus(x) != PGRES_COMMAND_OK)
				e = classify("BEGIN", x);
			PQclear(x);
			break;
		case Q_GUARD:
			if (e != DB_OK) {
				PQclear(x);
				(void)guard_done(e);
			} else if ((g = guard_outcome(x)) != DB_OK)
				e = g == DB_EMPTY ? DB_DENIED : g;
			break;
		case Q_AHEAD:
			if (e == DB_OK)
				e = ahead_outcome(self.pipe.s[i], x);
			else
				PQclear(x);
			break;
		case Q_STMT:
			if (e == DB_OK)
				e = outcome(s, x, res);
			else
				PQclear(x);
			break;
		case Q_COMMIT:
			/*
			 * Committed: whatever s answered, the transaction is
			 * over.  Not run (PGRES_PIPELINE_ABORTED): something
			 * before it failed, and the transaction waits for its
			 * ROLLBACK.  Failed itself (a serialization failure at
			 * commit): that is the answer.
			 */
			if (PQresultStatus(x) == PGRES_COMMAND_OK)
				self.tx.begin = self.tx.sql;
			else if (PQresultStatus(x) != PGRES_PIPELINE_ABORTED &&
			    (e == DB_OK || e == DB_EMPTY)) {
				PQclear(*res);
				*res = NULL;
				e = classify("COMMIT", x);
			}
			PQclear(x);
			break;
		}
	}
	return e;
}

void
db_guard(const struct stmt *s, const char *const *params)
{
	int i;

	self.guard.state = GUARD_PENDING;
	self.guard.s = s;
	for (i = 0; i < s->nparams; i++) {
		if (i >= GUARD_PARAMS || strlen(params[i]) >= GUARD_PARAM_MAX) {
			/* never check a cut value: the request fails instead */
			log_warnx("%s: guard parameters too long", s->name);
			(void)guard_done(DB_ERROR);
			return;
		}
		memcpy(self.guard.vals[i], params[i], strlen(params[i]) + 1);
		self.guard.params[i] = self.guard.vals[i];
	}
}

enum db_status
db_guard_end(void)
{
	enum db_status e;

	switch (self.guard.state) {
	case GUARD_NONE:
		return DB_OK;
	case GUARD_PENDING:
		(void)(self.up && prepared(self.guard.s) ?
		    guard_outcome(exec_stmt(self.guard.s, self.guard.params)) :
		    guard_done(self.up ? DB_ERROR : DB_DOWN));
		break;
	case GUARD_DONE:
		break;
	}
	e = self.guard.status;
	self.guard.state = GUARD_NONE;
	return e;
}

/* A pending guard that failed stops whatever would come after it. */
static enum db_status
guard_first(void)
{
	enum db_status e;

	if (self.guard.state != GUARD_PENDING)
		return DB_OK;
	e = guard_done(db_guard_end());	/* kept: db_guard_end() asks again */
	return e == DB_EMPTY ? DB_DENIED : e;
}

/* True when the request's guard found no row: nothing more may run. */
static bool
guard_denied(void)
{
	return self.guard.state == GUARD_DONE && self.guard.status != DB_OK;
}

enum db_status
db_exec(const struct stmt *s, const char *const *params, PGresult **res)
{
	*res = NULL;
	if (guard_denied()) {
		self.tx.commit_next = false;
		return DB_DENIED;
	}
	if (!self.up) {
		self.tx.commit_next = false;
		return self.guard.state == GUARD_PENDING ? guard_done(DB_DOWN) :
		    DB_DOWN;
	}
	if (self.pipe.n == 0 && !self.pipe.broken && (!prepared(s) ||
	    (self.guard.state == GUARD_PENDING && !prepared(self.guard.s)))) {
		self.tx.commit_next = false;
		return classify(s->name, NULL);
	}
	if (self.guard.state == GUARD_PENDING || self.tx.begin != NULL ||
	    self.pipe.n > 0 || self.pipe.broken ||
	    (self.tx.commit_next && self.tx.sql != NULL))
		return exec_piped(s, params, res);
	return outcome(s, exec_stmt(s, params), res);
}

enum db_status
db_ahead(const struct stmt *s, const char *const *params)
{
	if (guard_denied())
		return DB_DENIED;
	if (!self.up)
		return DB_DOWN;
	if (self.pipe.n == 0 && !self.pipe.broken && !prepared(s))
		return classify(s->name, NULL);
	if (self.pipe.n + 3 > PIPE_MAX) {
		log_warnx("%s: too many statements ahead", s->name);
		return DB_ERROR;
	}
	if (!pipe_open() || !send_stmt(s, params)) {
		self.pipe.broken = true;
		return DB_OK;	/* the next statement answers DB_DOWN */
	}
	pipe_add(Q_AHEAD, s);
	return DB_OK;
}

void
db_commit_next(void)
{
	self.tx.commit_next = true;
}

enum db_status
db_run(const struct stmt *s, const char *const *params)
{
	PGresult *r;
	enum db_status e = db_exec(s, params, &r);

	PQclear(r);
	return e;
}

enum db_status
db_rows(enum db_status e, PGresult **res)
{
	if (e != DB_OK) {
		PQclear(*res);
		*res = NULL;
	}
	return e;
}

const char *
db_col(PGresult *res, int i, int c)
{
	if (c >= PQnfields(res) || PQgetisnull(res, i, c))
		return NULL;
	return PQgetvalue(res, i, c);
}

enum db_status
db_execv(const struct stmt *s, PGresult **res, ...)
{
	const char *params[16];
	va_list ap;
	int i;

	*res = NULL;
	if (s->nparams > 16)
		return DB_ERROR;
	va_start(ap, res);
	for (i = 0; i < s->nparams; i++)
		params[i] = va_arg(ap, const char *);
	va_end(ap);
	return db_exec(s, params, res);
}

/* sql through the simple protocol, answering want (else classified as what). */
static enum db_status
exec_plain(const char *sql, ExecStatusType want, const char *what)
{
	PGresult *r = PQexec(self.conn, sql);
	enum db_status e = DB_OK;

	if (PQresultStatus(r) != want)
		e = classify(what, r);
	PQclear(r);
	return e;
}

/* A statement of the simple protocol expecting no rows (BEGIN, COMMIT). */
static enum db_status
simple(const char *sql)
{
	enum db_status e;

	if (!self.up)
		return DB_DOWN;
	if ((e = guard_first()) != DB_OK)
		return e;
	return exec_plain(sql, PGRES_COMMAND_OK, sql);
}

/*
 * Send the pending BEGIN alone, for what cannot go in a pipeline (a
 * script, a COPY).
 */
static enum db_status
tx_open(void)
{
	const char *begin = self.tx.begin;

	if (begin == NULL)
		return DB_OK;
	self.tx.begin = NULL;
	return simple(begin);
}

enum db_status
db_script(const char *sql, char *err, size_t n)
{
	PGresult *r;
	ExecStatusType st;
	enum db_status e = DB_OK;

	if (!self.up)
		return DB_DOWN;
	if ((e = tx_open()) != DB_OK)
		return e;
	r = PQexec(self.conn, sql);
	st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		snprintf(err, n, "%s", r ? PQresultErrorMessage(r) :
		    PQerrorMessage(self.conn));
		e = classify("script", r);
	}
	PQclear(r);
	return e;
}

/* The one ROLLBACK of a transaction that is open (or failed). */
static void
rollback(void)
{
	if (self.up && PQtransactionStatus(self.conn) != PQTRANS_IDLE)
		(void)simple("ROLLBACK");
}

/*
 * A unit left statements sent ahead unread (a bug): their pipeline is
 * ended and read, and the unit's answer cannot stand.
 */
static enum db_status
pipe_abandon(enum db_status e)
{
	PGresult *x;
	bool guard = self.guard.state == GUARD_PENDING, ok;
	int i, n = self.pipe.n;

	log_warnx("a unit of work left %d statements unread", n);
	ok = !self.pipe.broken && PQpipelineSync(self.conn);
	for (i = 0; ok && i < n; i++)
		if ((x = pipeline_result()) == NULL)
			ok = false;
		else
			PQclear(x);
	while (ok && (x = PQgetResult(self.conn)) != NULL) {
		ExecStatusType st = PQresultStatus(x);

		PQclear(x);
		if (st == PGRES_PIPELINE_SYNC)
			break;
	}
	if (!ok || PQstatus(self.conn) != CONNECTION_OK ||
	    !PQexitPipelineMode(self.conn))
		return pipeline_broken("unit", guard);
	pipe_reset();
	if (guard)
		(void)guard_done(DB_ERROR);
	return e == DB_OK || e == DB_ROLLBACK ? DB_ERROR : e;
}

/* End the transaction's state (the unit's try is over). */
static void
tx_end(void)
{
	self.tx.sql = NULL;
	self.tx.begin = NULL;
	self.tx.commit_next = false;
}

enum db_status
db_tx_run(enum db_tx_kind kind, int tries, enum db_status (*unit)(void *),
    void *arg)
{
	const char *begin = kind == DB_TX_READ_ONLY ?
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN";
	enum db_status e = DB_RETRY;
	int t;

	for (t = 0; t < tries && e == DB_RETRY; t++) {
		if (!self.up)
			return self.guard.state == GUARD_PENDING ?
			    guard_done(DB_DOWN) : DB_DOWN;
		/* sent with the unit's first statement (exec_piped) */
		self.tx.sql = self.tx.begin = begin;
		self.tx.commit_next = false;
		e = unit(arg);
		if (self.pipe.n > 0 || self.pipe.broken)
			e = pipe_abandon(e);
		/* the guard found no row: nothing of the unit is kept */
		if (e == DB_OK && guard_denied())
			e = DB_DENIED;
		if (e == DB_OK) {
			/* nothing open: committed already, or nothing ran */
			if (self.tx.begin != NULL) {
				tx_end();
				return DB_OK;
			}
			tx_end();
			if ((e = simple("COMMIT")) == DB_OK)
				return DB_OK;
		}
		tx_end();
		rollback();
		if (e == DB_ROLLBACK)
			return DB_OK;
	}
	return e;
}

enum db_status
db_tx(enum db_status (*unit)(void *), void *arg)
{
	return db_tx_run(DB_TX_WRITE, DB_TX_TRIES, unit, arg);
}

enum db_status
db_copy_begin(const char *sql)
{
	enum db_status e;

	if (!self.up)
		return DB_DOWN;
	if ((e = tx_open()) != DB_OK)
		return e;
	return exec_plain(sql, PGRES_COPY_IN, "copy");
}

enum db_status
db_copy_put(const char *data, size_t len)
{
	while (len > 0) {
		int k = len > (1 << 30) ? (1 << 30) : (int)len;

		if (PQputCopyData(self.conn, data, k) != 1)
			return classify("copy data", NULL);
		data += k;
		len -= (size_t)k;
	}
	return DB_OK;
}

/* Read what is left of a COPY's results. */
static void
copy_drain(void)
{
	PGresult *r;

	while ((r = PQgetResult(self.conn)) != NULL)
		PQclear(r);
}

enum db_status
db_copy_end(long *rows)
{
	PGresult *r;
	enum db_status e = DB_OK;

	*rows = 0;
	if (PQputCopyEnd(self.conn, NULL) != 1)
		return classify("copy end", NULL);
	r = PQgetResult(self.conn);
	if (PQresultStatus(r) == PGRES_COMMAND_OK)
		*rows = strtol(PQcmdTuples(r), NULL, 10);
	else
		e = classify("copy", r);
	PQclear(r);
	copy_drain();
	return e;
}

void
db_copy_abort(const char *why)
{
	if (!self.up)
		return;
	(void)PQputCopyEnd(self.conn, why);
	copy_drain();
}
