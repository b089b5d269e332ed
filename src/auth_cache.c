/*
 * auth_cache.c - a worker's memory of the credentials it has verified
 * (see auth_cache.h).  A fixed table of slots, each holding one
 * credential, chosen by a hash of the credential: no allocation, a bounded
 * size (SLOTS x about 450 bytes).  A credential may sit in either of two
 * slots; a newcomer takes an empty one, else either in turn: with one
 * slot per credential, tokens sharing a slot push each other out and
 * miss far more often.  The table lives as long as the worker, and a worker is
 * replaced when the configuration (the secret key) is reloaded.
 */
#include "autoconf.h"

#include <string.h>
#include <time.h>

#include "auth_cache.h"

#define SLOTS 512

struct slot {
	unsigned char		kind;
	unsigned short		len;
	char			cred[AUTH_CACHE_CRED_MAX];
	struct auth_cached	v;
};

static struct slot slots[SLOTS];

static unsigned next_way;	/* where the next newcomer goes when both are taken */

/* FNV-1a of a credential: its two slots come from its two halves. */
static uint32_t
hash(enum auth_cache_kind kind, const char *cred, size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)cred[i]) * 16777619u;
	return h;
}

static struct slot *
way(uint32_t h, int w)
{
	return &slots[(w == 0 ? h : h >> 16) % SLOTS];
}

/* Equal bytes, in a time that depends only on the length. */
static bool
same(const char *a, const char *b, size_t len)
{
	volatile unsigned char d = 0;
	size_t i;

	for (i = 0; i < len; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static struct slot *
find(enum auth_cache_kind kind, const char *cred, size_t *lenp)
{
	size_t len = strlen(cred);
	uint32_t h;
	int w;

	*lenp = len;
	if (len == 0 || len > AUTH_CACHE_CRED_MAX)
		return NULL;
	h = hash(kind, cred, len);
	for (w = 0; w < 2; w++) {
		struct slot *s = way(h, w);

		if (s->kind == kind && s->len == len && same(s->cred, cred, len))
			return s;
	}
	return NULL;
}

bool
auth_cache_get(enum auth_cache_kind kind, const char *cred,
    struct auth_cached *out)
{
	size_t len;
	struct slot *s = find(kind, cred, &len);

	if (s == NULL)
		return false;
	if (s->v.exp != 0 && s->v.exp <= (int64_t)time(NULL)) {
		s->kind = 0;	/* expired: verified afresh, and refused */
		explicit_bzero(s->cred, sizeof(s->cred));
		return false;
	}
	*out = s->v;
	return true;
}

void
auth_cache_put(enum auth_cache_kind kind, const char *cred,
    const struct auth_cached *v)
{
	size_t len = strlen(cred);
	struct slot *s;
	uint32_t h;

	if (find(kind, cred, &len) != NULL || len == 0 ||
	    len > AUTH_CACHE_CRED_MAX)
		return;
	h = hash(kind, cred, len);
	if (way(h, 0)->kind == 0)
		s = way(h, 0);
	else if (way(h, 1)->kind == 0)
		s = way(h, 1);
	else
		s = way(h, (int)(next_way++ & 1));
	s->kind = (unsigned char)kind;
	s->len = (unsigned short)len;
	memcpy(s->cred, cred, len);
	s->v = *v;
}

void
auth_cache_forget(enum auth_cache_kind kind, const char *cred)
{
	size_t len;
	struct slot *s = find(kind, cred, &len);

	if (s != NULL) {
		s->kind = 0;
		explicit_bzero(s->cred, sizeof(s->cred));
	}
}
