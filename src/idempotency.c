/* idempotency.c - the Idempotency-Key header (see idempotency.h). */
#include "autoconf.h"

#include <string.h>

#include "buf.h"
#include "http.h"
#include "idempotency.h"
#include "repo.h"
#include "util.h"

bool
idem_prepare(struct req *r, struct idem *k)
{
	const char *v = http_param(r, "HTTP_IDEMPOTENCY_KEY");
	size_t i, n;
	struct buf b;

	memset(k, 0, sizeof(*k));
	if (v == NULL)
		return true;
	n = strlen(v);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			break;
	if (n == 0 || n > IDEM_KEY_MAX || i < n) {
		http_fail(r, ERR_VALIDATION, "Idempotency-Key",
		    "Idempotency-Key must be "
		    "1 to 255 printable ASCII characters");
		return false;
	}
	k->active = true;
	k->key = v;
	/* what makes two requests the same: method, path and exact body */
	buf_init(&b);
	buf_adds(&b, r->method);
	buf_addc(&b, ' ');
	buf_adds(&b, r->path);
	buf_addc(&b, '\n');
	if (r->body.len > 0)
		buf_add(&b, r->body.data, r->body.len);
	k->request = req_strdup(r, b.data);
	buf_free(&b);
	return true;
}

enum idem_step
idem_claim(struct req *r, const struct idem *k, enum db_status *e)
{
	enum idem_claim c;
	int status;

	*e = DB_OK;
	if (!k->active)
		return IDEM_GO;
	if ((*e = repo_idem_claim(r->user.id, k->key, k->request, &c, &status,
	    &r->out, &r->hdrs)) != DB_OK)
		return IDEM_ERR;
	switch (c) {
	case IDEM_CLAIMED:
		return IDEM_GO;
	case IDEM_MISMATCH:
		http_fail(r, ERR_CONFLICT, NULL,
		    "this Idempotency-Key was used "
		    "for another request");
		return IDEM_DONE;
	case IDEM_REPLAY:
		break;
	}
	/* the first answer, as it was */
	r->status = status;
	http_header(r, "Idempotent-Replayed", "true");
	return IDEM_DONE;
}

enum db_status
idem_store(struct req *r, const struct idem *k)
{
	if (!k->active)
		return DB_OK;
	return repo_idem_store(r->user.id, k->key, r->status,
	    r->out.data != NULL ? r->out.data : "",
	    r->hdrs.data != NULL ? r->hdrs.data : "");
}
