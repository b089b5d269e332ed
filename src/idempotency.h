/*
 * idempotency.h - the Idempotency-Key header of POST /articles and POST
 * /pipelines (API.md, Conventions).
 *
 * A handler that honours it, as the unit of work of http_tx:
 *
 *	if (!idem_prepare(r, &k)) return;		// 400 on a bad header
 *	http_tx(r, create_tx, ...);
 *
 *	create_tx:
 *	switch (idem_claim(r, &k, &e)) {		// in the transaction
 *	case IDEM_GO: break;				// create, then:
 *	case IDEM_DONE: return DB_ROLLBACK;		// replayed, or 409
 *	case IDEM_ERR: return e;			// database error
 *	}
 *	... create, write the answer to r ...
 *	return idem_store(r, &k);			// same transaction
 *
 * Without the header idem_claim returns IDEM_GO and idem_store does nothing.
 */
#ifndef BP_IDEMPOTENCY_H
#define BP_IDEMPOTENCY_H

#include <stdbool.h>

#include "db.h"

struct req;

#define IDEM_KEY_MAX	255

struct idem {
	bool		 active;	/* the request carries a key */
	const char	*key;
	const char	*request;	/* method, path and body: what is compared */
};

/*
 * Read the Idempotency-Key header of r: 1..255 printable ASCII.  Returns
 * false when the request has been answered with 400 validation_failed
 * (field "Idempotency-Key").
 */
bool idem_prepare(struct req *r, struct idem *k);

enum idem_step {
	IDEM_GO,	/* go on and create */
	IDEM_DONE,	/* answered: the stored answer, or 409 conflict */
	IDEM_ERR,	/* database error *e: nothing answered */
};

/* Claim the key inside the caller's transaction (see above). */
enum idem_step idem_claim(struct req *r, const struct idem *k,
    enum db_status *e);

/* Keep r's answer (status, body, extra headers) for replays. */
enum db_status idem_store(struct req *r, const struct idem *k);

#endif
