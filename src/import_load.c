/*
 * import_load.c - pass 2 of import-json (see import_int.h): the new files
 * read again and sent to COPY as rows, and the owner's usage rebuilt.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "import_int.h"
#include "isotime.h"
#include "legacy.h"
#include "repo_import.h"
#include "slug.h"
#include "util.h"

/* ---------------------------------------------------------------- pass 2 */

/* The state of one COPY's rows: the file being sent, kept until the next. */
struct rows {
	struct import	*im;
	size_t		 i;		/* the next file to look at */
	size_t		 done, nnew;
	bool		 pgvector;
	bool		 have;		/* a or p holds a file's values */
	struct legacy_article a;
	struct legacy_pipeline p;
	struct buf	 emb;
	char		 created[ISOTIME_PG_MAX], updated[ISOTIME_PG_MAX];
};

static void
changed(struct import *im, const char *sub, const char *name)
{
	import_bad_file(im, sub, name, "changed while it was being imported "
	    "(run the import again)");
}

/* The row of the next new article file (repo_import_copy's next). */
static int
next_article(void *arg, const char **v)
{
	struct rows *r = arg;
	struct import *im = r->im;
	struct legacy_article *a = &r->a;
	char why[512], base[SLUG_MAX + 1], id[37];
	struct afile *f;
	int64_t mtime;

	if (r->have)
		legacy_article_free(a);
	r->have = false;
	while (r->i < im->na && im->a[r->i].present)
		r->i++;
	if (r->i == im->na)
		return 0;
	f = &im->a[r->i++];
	if (!import_read_file(im, "articles", f->name, &mtime, why,
	    sizeof(why)) ||
	    !legacy_parse_article(im->fdata, im->flen, a, why, sizeof(why))) {
		changed(im, "articles", f->name);
		return -1;
	}
	r->have = true;
	if (a->slug == NULL)
		slug_from_title(a->title, base);
	import_file_id(im, "articles", f->name, a->id, id);
	if (strcmp(id, f->id) != 0 || strcmp(a->slug != NULL ? a->slug :
	    base, f->want) != 0 || (a->has_created &&
	    a->created_us != f->created_us)) {
		changed(im, "articles", f->name);
		return -1;
	}
	isotime_format_pg(f->created_us, r->created);
	isotime_format_pg(a->has_updated ? a->updated_us : f->created_us,
	    r->updated);
	v[IA_ID] = f->id;
	v[IA_USER_ID] = im->owner;
	v[IA_TITLE] = a->title;
	v[IA_SLUG] = f->slug;
	v[IA_CONTENT_MARKDOWN] = a->content_markdown;
	v[IA_CONTENT_HTML] = a->content_html;
	v[IA_META_DESCRIPTION] = a->meta_description;
	v[IA_PRIMARY_KEYWORD] = a->primary_keyword;
	v[IA_SEO_SCORE] = a->seo_score;
	v[IA_STATUS] = a->status;
	v[IA_WP_POST_ID] = a->wp_post_id;
	v[IA_WP_URL] = a->wp_url;
	v[IA_EMBEDDING] = NULL;
	if (a->embedding != NULL) {
		/* the column's own text: pgvector [..] or real[] {..} */
		buf_reset(&r->emb, 0);
		buf_printf(&r->emb, "%c%s%c", r->pgvector ? '[' : '{',
		    a->embedding, r->pgvector ? ']' : '}');
		v[IA_EMBEDDING] = r->emb.data;
	}
	v[IA_CREATED_AT] = r->created;
	v[IA_UPDATED_AT] = r->updated;
	import_progress("pass 2: articles", r->done++, r->nnew);
	return 1;
}

/* The row of the next new pipeline file (repo_import_copy's next). */
static int
next_pipeline(void *arg, const char **v)
{
	struct rows *r = arg;
	struct import *im = r->im;
	struct legacy_pipeline *p = &r->p;
	struct pfile *f;
	char why[512], id[37];
	int64_t mtime;

	if (r->have)
		legacy_pipeline_free(p);
	r->have = false;
	while (r->i < im->np && im->p[r->i].present)
		r->i++;
	if (r->i == im->np)
		return 0;
	f = &im->p[r->i++];
	if (!import_read_file(im, "pipelines", f->name, &mtime, why,
	    sizeof(why)) ||
	    !legacy_parse_pipeline(im->fdata, im->flen, p, why, sizeof(why))) {
		changed(im, "pipelines", f->name);
		return -1;
	}
	r->have = true;
	import_file_id(im, "pipelines", f->name, p->id, id);
	if (strcmp(id, f->id) != 0 ||
	    strcmp(p->article_id, f->article_id) != 0 ||
	    p->status != f->status ||
	    import_money_units(p->total_cost) != f->cost ||
	    (p->has_completed && isotime_month(p->completed_us) != f->month)) {
		changed(im, "pipelines", f->name);
		return -1;
	}
	isotime_format_pg(p->started_us, r->created);
	if (p->has_completed)
		isotime_format_pg(p->completed_us, r->updated);
	v[IP_ID] = f->id;
	v[IP_USER_ID] = im->owner;
	v[IP_ARTICLE_ID] = f->article_ref[0] != '\0' ? f->article_ref : NULL;
	v[IP_STATUS] = legacy_run_status_name(p->status);
	v[IP_ESTIMATED_COST] = p->estimated_cost;
	v[IP_TOTAL_COST] = p->total_cost;
	v[IP_STARTED_AT] = r->created;
	v[IP_COMPLETED_AT] = p->has_completed ? r->updated : NULL;
	v[IP_ERROR_MESSAGE] = p->error_message;
	import_progress("pass 2: pipelines", r->done++, r->nnew);
	return 1;
}

/* One table's COPY; false: failed (im->conflict when a row collided). */
static bool
copy_table(struct import *im, enum import_table t, bool pgvector,
    size_t nnew, long *copied)
{
	struct rows r;
	enum db_status e;

	memset(&r, 0, sizeof(r));
	r.im = im;
	r.nnew = nnew;
	r.pgvector = pgvector;
	buf_init(&r.emb);
	e = repo_import_copy(t, t == IMPORT_ARTICLES ? next_article :
	    next_pipeline, &r, copied);
	if (r.have && t == IMPORT_ARTICLES)
		legacy_article_free(&r.a);
	else if (r.have)
		legacy_pipeline_free(&r.p);
	buf_free(&r.emb);
	im->conflict = e == DB_UNIQUE;
	return e == DB_OK;
}

bool
import_load(struct import *im, size_t a_new, size_t p_new)
{
	bool pgvector = false;

	return repo_import_pgvector(&pgvector) == DB_OK &&
	    (a_new == 0 || copy_table(im, IMPORT_ARTICLES, pgvector, a_new,
	    &im->a_copied)) &&
	    (p_new == 0 || copy_table(im, IMPORT_PIPELINES, pgvector, p_new,
	    &im->p_copied));
}

/* ---------------------------------------------------------------- usage */

struct month_sum {
	int	 month;		/* yyyymm */
	long	 articles;
	int64_t	 cost;		/* 1/10000 */
};

static int
cmp_month(const void *x, const void *y)
{
	const struct month_sum *a = x, *b = y;

	return (a->month > b->month) - (a->month < b->month);
}

static void
usage_line(void *arg, const char *month, const char *old_art,
    const char *old_cost, const char *new_art, const char *new_cost)
{
	struct import *im = arg;

	buf_printf(&im->usage, "  %s: articles %s, cost %s (was: articles %s, "
	    "cost %s)\n", month, new_art, new_cost, old_art, old_cost);
	im->nmonths++;
}

bool
import_rebuild_usage(struct import *im)
{
	struct month_sum *ms = NULL;
	struct buf months, arts, costs;
	size_t i, j, n = 0;
	enum db_status e;

	for (i = 0; i < im->np; i++) {
		struct pfile *p = &im->p[i];

		if (p->present || p->status == LEGACY_RUNNING)
			continue;
		for (j = 0; j < n && ms[j].month != p->month; j++)
			;
		if (j == n) {
			ms = xrealloc(ms, (n + 1) * sizeof(*ms));
			ms[n].month = p->month;
			ms[n].articles = 0;
			ms[n].cost = 0;
			n++;
		}
		if (p->status == LEGACY_COMPLETED)
			ms[j].articles++;
		ms[j].cost += p->cost;
	}
	if (n == 0)
		return true;
	qsort(ms, n, sizeof(*ms), cmp_month);
	buf_init(&months);
	buf_init(&arts);
	buf_init(&costs);
	for (i = 0; i < n; i++) {
		buf_printf(&months, "%s%04d-%02d-01", i ? "," : "{",
		    ms[i].month / 100, ms[i].month % 100);
		buf_printf(&arts, "%s%ld", i ? "," : "{", ms[i].articles);
		buf_printf(&costs, "%s%lld.%04lld", i ? "," : "{",
		    (long long)(ms[i].cost / 10000),
		    (long long)(ms[i].cost % 10000));
	}
	buf_addc(&months, '}');
	buf_addc(&arts, '}');
	buf_addc(&costs, '}');
	e = repo_import_usage(im->owner, months.data, im->dry, arts.data,
	    costs.data, usage_line, im);
	buf_free(&months);
	buf_free(&arts);
	buf_free(&costs);
	free(ms);
	return e == DB_OK;
}

