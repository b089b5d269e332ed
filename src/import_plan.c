/*
 * import_plan.c - slugs for the imported articles (and the orphans
 * assign-orphans gives), as the API gives them: see import_int.h.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "import_int.h"
#include "repo_import.h"
#include "slug.h"
#include "util.h"

/* The import cmp_created sorts the articles of. */
static const struct import *plan_im;

void
import_slug_candidate(const char *base, long n, char out[SLUG_MAX + 1])
{
	char num[24];
	size_t keep = strlen(base);
	int d;

	if (n <= 1) {
		snprintf(out, SLUG_MAX + 1, "%s", base);
		return;
	}
	/* rtrim(left(base, 499 - length(n::text)), '-') || '-' || n */
	d = snprintf(num, sizeof(num), "%ld", n);
	if (keep > (size_t)(SLUG_MAX - 1 - d))
		keep = (size_t)(SLUG_MAX - 1 - d);
	while (keep > 0 && base[keep - 1] == '-')
		keep--;
	memcpy(out, base, keep);
	out[keep] = '-';
	memcpy(out + keep + 1, num, (size_t)d + 1);
}

void
import_assign_slugs(struct smap *taken, size_t n, char *const *want,
    const bool *explicit, char **got)
{
	struct smap next = { 0 };
	char cand[SLUG_MAX + 1];
	size_t i;

	for (i = 0; i < n; i++) {
		got[i] = NULL;
		if (explicit[i] && smap_get(taken, want[i]) < 0) {
			smap_put(taken, want[i], 0);
			got[i] = xstrdup(want[i]);
		}
	}
	for (i = 0; i < n; i++) {
		long k;

		if (got[i] != NULL)
			continue;
		/* every candidate below next[want] is known to be taken */
		if ((k = smap_get(&next, want[i])) < 1)
			k = 1;
		for (;; k++) {
			import_slug_candidate(want[i], k, cand);
			if (smap_get(taken, cand) < 0)
				break;
		}
		smap_put(taken, cand, 0);
		smap_put(&next, want[i], k + 1);
		got[i] = xstrdup(cand);
	}
	smap_free(&next);
}

/* Oldest first, then by file name. */
static int
cmp_created(const void *x, const void *y)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	const struct afile *a = &plan_im->a[i], *b = &plan_im->a[j];

	if (a->created_us != b->created_us)
		return (a->created_us > b->created_us) -
		    (a->created_us < b->created_us);
	return (i > j) - (i < j);
}

void
import_take_slug(void *arg, const char *slug)
{
	smap_put(arg, slug, 0);
}

bool
import_plan_slugs(struct import *im)
{
	struct smap taken = { 0 };
	size_t *order, i, n = 0;
	char **want, **got;
	bool *explicit;

	if (repo_import_slugs(im->owner, import_take_slug, &taken) != DB_OK) {
		smap_free(&taken);
		return false;
	}
	order = xcalloc(im->na ? im->na : 1, sizeof(*order));
	for (i = 0; i < im->na; i++)
		if (!im->a[i].present)
			order[n++] = i;
	plan_im = im;
	qsort(order, n, sizeof(*order), cmp_created);
	want = xcalloc(n ? n : 1, sizeof(*want));
	got = xcalloc(n ? n : 1, sizeof(*got));
	explicit = xcalloc(n ? n : 1, sizeof(*explicit));
	for (i = 0; i < n; i++) {
		want[i] = im->a[order[i]].want;
		explicit[i] = im->a[order[i]].explicit_slug;
	}
	import_assign_slugs(&taken, n, want, explicit, got);
	for (i = 0; i < n; i++) {
		struct afile *f = &im->a[order[i]];

		f->slug = got[i];
		if (!f->explicit_slug)
			im->made++;
		if (strcmp(f->slug, f->want) != 0)
			im->renamed++;
	}
	free(order);
	free(want);
	free(got);
	free(explicit);
	smap_free(&taken);
	return true;
}

