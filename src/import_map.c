/*
 * import_map.c - the string map of import-json and assign-orphans (ids of
 * files and rows, slugs): open addressing, FNV-1a.
 */
#include "autoconf.h"

#include <stdint.h>
#include <string.h>

#include "import_int.h"
#include "util.h"

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t
smap_slot(const struct smap *m, const char *s)
{
	size_t i = (size_t)hash_str(s) & (m->cap - 1);

	while (m->k[i] != NULL && strcmp(m->k[i], s) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void
smap_grow(struct smap *m)
{
	struct smap g;
	size_t i;

	g.cap = m->cap ? m->cap * 2 : 1024;
	g.n = m->n;
	g.k = xcalloc(g.cap, sizeof(*g.k));
	g.v = xcalloc(g.cap, sizeof(*g.v));
	for (i = 0; i < m->cap; i++)
		if (m->k[i] != NULL) {
			size_t j = smap_slot(&g, m->k[i]);

			g.k[j] = m->k[i];
			g.v[j] = m->v[i];
		}
	free(m->k);
	free(m->v);
	*m = g;
}

long
smap_get(const struct smap *m, const char *s)
{
	size_t i;

	if (m->cap == 0)
		return -1;
	i = smap_slot(m, s);
	return m->k[i] != NULL ? m->v[i] : -1;
}

void
smap_put(struct smap *m, const char *s, long v)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		smap_grow(m);
	i = smap_slot(m, s);
	if (m->k[i] == NULL) {
		m->k[i] = xstrdup(s);
		m->n++;
	}
	m->v[i] = v;
}

void
smap_free(struct smap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->k[i]);
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}
