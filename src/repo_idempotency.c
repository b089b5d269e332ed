/*
 * repo_idempotency.c - the idempotency_keys table: the first successful
 * answer to a request with an Idempotency-Key, per user, for 24 hours.
 *
 * The key is claimed inside the transaction that creates the resource and
 * the answer is stored in that same transaction, so a committed key always
 * has its answer and a failed request leaves no key behind.  A concurrent
 * request with the same key waits on the unique index until the first
 * one's transaction ends, then reads (ON CONFLICT DO UPDATE sees the
 * latest committed row, whatever the snapshot) the stored answer.
 */
#include "autoconf.h"

#include <stdio.h>

#include "buf.h"
#include "db_stmt.h"
#include "log.h"
#include "repo.h"
#include "util.h"

enum idem_stmt {
	IDEM_CLAIM,
	IDEM_STORE,
	IDEM_PURGE,
	IDEM__MAX
};

/* A stored key older than this is as good as absent: it is claimed anew. */
#define EXPIRED	"k.created_at <= now() - interval '24 hours'"

static const struct stmt stmts[IDEM__MAX] = {
	/*
	 * $1 user, $2 key, $3 the request (method, path, body).  Returns
	 * claimed (no stored answer: this request goes on), whether the
	 * stored request is this one, and the stored answer.
	 */
	{ "idempotency_claim",	/* IDEM_CLAIM */
	  "INSERT INTO idempotency_keys AS k (user_id, key, request_hash)"
	  " VALUES ($1::uuid, $2, sha256(convert_to($3, 'UTF8')))"
	  " ON CONFLICT (user_id, key) DO UPDATE SET"
	  "  request_hash = CASE WHEN " EXPIRED " THEN excluded.request_hash"
	  "                 ELSE k.request_hash END,"
	  "  status = CASE WHEN " EXPIRED " THEN NULL ELSE k.status END,"
	  "  response_body = CASE WHEN " EXPIRED " THEN NULL ELSE k.response_body END,"
	  "  response_headers = CASE WHEN " EXPIRED " THEN NULL"
	  "                     ELSE k.response_headers END,"
	  "  created_at = CASE WHEN " EXPIRED " THEN now() ELSE k.created_at END"
	  " RETURNING k.status IS NULL,"
	  "  k.request_hash = sha256(convert_to($3, 'UTF8')),"
	  "  k.status, k.response_body, k.response_headers", 3, DB_ROWS },
	{ "idempotency_store",	/* IDEM_STORE */
	  "UPDATE idempotency_keys SET status = $3::int, response_body = $4,"
	  "       response_headers = $5"
	  " WHERE user_id = $1::uuid AND key = $2", 5, DB_CMD },
	/* up to $1 expired keys, oldest first (idempotency_keys_created_at_idx) */
	{ "idempotency_purge",	/* IDEM_PURGE */
	  "DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY("
	  " SELECT k.ctid FROM idempotency_keys k WHERE " EXPIRED
	  " ORDER BY k.created_at LIMIT $1::int8 FOR UPDATE SKIP LOCKED))", 1, DB_CMD },
};

const struct stmt_table repo_idempotency_table = { stmts, IDEM__MAX };

enum db_status
repo_idem_claim(const char *user, const char *key, const char *request,
    enum idem_claim *out, int *status, struct buf *body, struct buf *hdrs)
{
	PGresult *r;
	enum db_status e;
	int64_t st;

	if ((e = db_execv(&stmts[IDEM_CLAIM], &r, user, key, request)) != DB_OK) {
		PQclear(r);
		return e;
	}
	if (PQgetvalue(r, 0, 0)[0] == 't')
		*out = IDEM_CLAIMED;
	else if (PQgetvalue(r, 0, 1)[0] != 't')
		*out = IDEM_MISMATCH;
	else if (!parse_int64(PQgetvalue(r, 0, 2), 100, 599, &st)) {
		log_warnx("idempotency_claim: stored status %s",
		    PQgetvalue(r, 0, 2));
		e = DB_ERROR;
	} else {
		/* the first answer, as it was */
		*out = IDEM_REPLAY;
		*status = (int)st;
		buf_truncate(body, 0);
		buf_adds(body, PQgetvalue(r, 0, 3));
		buf_adds(hdrs, PQgetvalue(r, 0, 4));
	}
	PQclear(r);
	return e;
}

enum db_status
repo_idem_store(const char *user, const char *key, int status,
    const char *body, const char *headers)
{
	char st[16];
	const char *p[] = { user, key, st, body, headers };
	enum db_status e;

	snprintf(st, sizeof(st), "%d", status);
	/* no row to update cannot happen: the key was claimed in this transaction */
	e = db_run(&stmts[IDEM_STORE], p);
	return e == DB_EMPTY ? DB_OK : e;
}

enum db_status
repo_idem_purge(int64_t batch)
{
	char b[24];
	const char *p[] = { b };
	enum db_status e;

	snprintf(b, sizeof(b), "%lld", (long long)batch);
	e = db_run(&stmts[IDEM_PURGE], p);
	return e == DB_EMPTY ? DB_OK : e;
}
