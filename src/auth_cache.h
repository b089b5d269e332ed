/*
 * auth_cache.h - a worker's memory of the credentials it has verified.
 *
 * Verifying a token costs an HMAC and three JSON parses, and finding the
 * user of an API key a round trip; a pipeline or a browser sends the same
 * credential again and again.  What is kept is only what cannot change for
 * a given credential: the claims of a token whose signature was good, the
 * user an API key was issued to.  Whether the user is still active and the
 * token or key still current is asked of the database on every request.
 */
#ifndef BP_AUTH_CACHE_H
#define BP_AUTH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum auth_cache_kind {
	CACHE_TOKEN = 1,
	CACHE_KEY,
};

struct auth_cached {
	char	 id[37];	/* the user */
	int64_t	 ver;		/* a token's ver claim */
	int64_t	 exp;		/* a token's exp claim; 0 for a key */
	char	 jti[33];	/* a token's jti claim ("" when none) */
};

/* Credentials longer than this are not kept (ours are about 200 bytes). */
#define AUTH_CACHE_CRED_MAX 384

/*
 * What was kept for credential cred of kind kind; false when nothing is
 * (or a token's exp has passed).  The credential is compared in constant
 * time.
 */
bool auth_cache_get(enum auth_cache_kind kind, const char *cred,
    struct auth_cached *out);
/* Keep v for cred, replacing whatever shared its slot. */
void auth_cache_put(enum auth_cache_kind kind, const char *cred,
    const struct auth_cached *v);
/* Forget cred (it was refused by the database). */
void auth_cache_forget(enum auth_cache_kind kind, const char *cred);

#endif
