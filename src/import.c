/*
 * import.c - import-json: the legacy JSON files into PostgreSQL, once,
 * with their history; and assign-orphans.
 *
 * import-json DATA_DIR --owner EMAIL [--dry-run] works in two passes so
 * that its memory does not grow with the size of the files:
 *
 *   pass 1  reads every file of DATA_DIR/articles and DATA_DIR/pipelines,
 *           checks it (legacy.c) and keeps a few facts per file (name, id,
 *           slug, creation time; for a run its month and cost), never the
 *           contents.  Then, in one transaction, the checks that need the
 *           database: ids already there (for the owner: "already
 *           present"; for someone else: a bad file) and the articles the
 *           runs point at.  Any bad file: each is reported as "path:
 *           reason", nothing is written, exit status 1.
 *   slugs   the owner's articles keep their slugs; then the imported
 *           articles that bring a slug claim it, oldest first; then the
 *           others (a slug taken, or none: made from the title) get the
 *           first free of base, base-2, base-3, ... as the API gives them.
 *   pass 2  reads the new files again and streams them to COPY, in the
 *           same transaction; rebuilds the owner's api_usage of every
 *           month an imported ended run counts in, from all the owner's
 *           ended runs of that month; commits.
 *
 * Killed at any point, the transaction is rolled back by the server:
 * nothing or everything.  Run again, files whose id is in the database
 * are "already present" and left alone; files without an id get one made
 * from the owner and their path (legacy_path_id), so they too are
 * recognised, and the same file names in another owner's folder get other
 * ids.  A file without an id whose id by the first releases' rule
 * (legacy_path_id_v1: the path alone) is the owner's is "already present"
 * too: installations that imported with that rule import nothing twice.
 * --dry-run does pass 1, the database checks and the slugs in a READ ONLY
 * transaction and prints the same summary; it does not read the files a
 * second time.
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "import.h"
#include "isotime.h"
#include "legacy.h"
#include "migrate.h"
#include "repo_import.h"
#include "slug.h"
#include "user.h"
#include "util.h"

/* A legacy file larger than this is refused (no article is that long). */
#define FILE_MAX	(64L * 1024 * 1024)
/* COPY data is sent in chunks of about this size. */
#define COPY_CHUNK	(1L << 20)
/* A progress line on stderr every this many files. */
#define PROGRESS_EVERY	1000

/* ---------------------------------------------------------------- strings */

/* A set of strings (owned copies), with a long per string. */
struct smap {
	char	**k;
	long	 *v;
	size_t	  cap, n;
};

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

/* The value of s, or -1 when s is not in the set. */
static long
smap_get(const struct smap *m, const char *s)
{
	size_t i;

	if (m->cap == 0)
		return -1;
	i = smap_slot(m, s);
	return m->k[i] != NULL ? m->v[i] : -1;
}

static void
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

static void
smap_free(struct smap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->k[i]);
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

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

/*
 * Slugs for new articles, the API's way: taken holds the slugs in use
 * (the owner's); every article wants want[i] (explicit[i]: the file gave
 * it).  First the explicit ones claim theirs in the given order, then
 * each other one gets the first free candidate.  got[i] receives the
 * slug (owned by the caller, to free).
 */
static void
assign_slugs(struct smap *taken, size_t n, char *const *want,
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

/* ---------------------------------------------------------------- files */

/* What pass 1 keeps of an article file. */
struct afile {
	char		*name;		/* in DATA_DIR/articles */
	char		*want;		/* the file's slug, or made from the title */
	char		*slug;		/* the slug it gets (new articles) */
	int64_t		 created_us;
	char		 id[37];	/* "" when unreadable */
	char		 old_id[37];	/* no id in the file: its v1 id; else "" */
	bool		 explicit_slug, bad, present;
};

/* What pass 1 keeps of a pipeline file. */
struct pfile {
	char			*name;	/* in DATA_DIR/pipelines */
	char			 id[37];
	char			 old_id[37];	/* as in struct afile */
	char			 article_id[37];	/* as in the file */
	char			 article_ref[37];	/* the row it points at */
	enum legacy_run_status	 status;
	int			 month;	/* of completed_at, yyyymm */
	int64_t			 cost;	/* total_cost in 1/10000 */
	bool			 bad, present, article_ok;
};

struct import {
	const char	*dir;		/* DATA_DIR */
	const char	*email;
	char		 owner[37];
	bool		 dry;
	PGconn		*c;
	struct afile	*a;
	size_t		 na;
	struct pfile	*p;
	size_t		 np;
	char		**skipped;	/* "articles/x.txt (reason)" */
	size_t		 nskipped;
	size_t		 nbad;
	bool		 conflict;	/* COPY met a row committed meanwhile */
	char		*fdata;		/* the file being read */
	size_t		 flen, fcap;
	struct buf	 path;
	/* summary */
	size_t		 a_present, p_present, made, renamed;
	long		 a_copied, p_copied;
	struct buf	 usage;		/* the usage lines */
	size_t		 nmonths;
};

static const char *
full_path(struct import *im, const char *sub, const char *name)
{
	buf_reset(&im->path, 4096);
	buf_printf(&im->path, "%s/%s/%s", im->dir, sub, name);
	return im->path.data;
}

/* Report a bad file (stderr), as "path: reason". */
static void
bad_file(struct import *im, const char *sub, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
bad_file(struct import *im, const char *sub, const char *name,
    const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", full_path(im, sub, name));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	im->nbad++;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
has_json_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

/*
 * The *.json regular files of DATA_DIR/sub, sorted by name; the other
 * entries are listed in im->skipped.  A missing folder is no file when
 * optional, an error otherwise.
 */
static bool
list_dir(struct import *im, const char *sub, bool optional, char ***out,
    size_t *n)
{
	DIR *d;
	struct dirent *e;
	size_t cap = 0;
	char *dirpath;

	*out = NULL;
	*n = 0;
	buf_reset(&im->path, 4096);
	buf_printf(&im->path, "%s/%s", im->dir, sub);
	dirpath = xstrdup(im->path.data);
	if ((d = opendir(dirpath)) == NULL) {
		bool ok = optional && errno == ENOENT;

		if (!ok)
			fprintf(stderr, "blogposter import-json: %s: %s\n", dirpath,
			    strerror(errno));
		free(dirpath);
		return ok;
	}
	while ((errno = 0, e = readdir(d)) != NULL) {
		struct stat st;
		const char *why = NULL;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!has_json_suffix(e->d_name))
			why = "not a .json file";
		else if (stat(full_path(im, sub, e->d_name), &st) != 0)
			why = strerror(errno);
		else if (!S_ISREG(st.st_mode))
			why = "not a regular file";
		if (why != NULL) {
			buf_reset(&im->path, 4096);
			buf_printf(&im->path, "%s/%s (%s)", sub, e->d_name, why);
			im->skipped = xrealloc(im->skipped, (im->nskipped + 1) *
			    sizeof(*im->skipped));
			im->skipped[im->nskipped++] = xstrdup(im->path.data);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = xstrdup(e->d_name);
	}
	if (errno != 0) {
		fprintf(stderr, "blogposter import-json: %s: %s\n", dirpath,
		    strerror(errno));
		closedir(d);
		free(dirpath);
		return false;
	}
	closedir(d);
	free(dirpath);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_names);
	if (im->nskipped > 1)
		qsort(im->skipped, im->nskipped, sizeof(*im->skipped),
		    cmp_names);
	return true;
}

/*
 * Read DATA_DIR/sub/name into im->fdata[0..im->flen) (NUL-terminated);
 * *mtime_us its modification time.  False with the reason in why.
 */
static bool
read_file(struct import *im, const char *sub, const char *name,
    int64_t *mtime_us, char *why, size_t whysz)
{
	struct stat st;
	size_t got = 0;
	int fd;

	if ((fd = open(full_path(im, sub, name), O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, whysz, "cannot open: %s", strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(why, whysz, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	*mtime_us = (int64_t)st.st_mtim.tv_sec * 1000000 +
	    st.st_mtim.tv_nsec / 1000;
	/* read to the end: the size may have changed since fstat */
	for (;;) {
		ssize_t r;

		if (got > (size_t)FILE_MAX) {
			snprintf(why, whysz, "larger than %ld MiB",
			    FILE_MAX >> 20);
			goto fail;
		}
		if (im->fcap - got < 2) {
			size_t want = (size_t)st.st_size + 2;

			if (want <= got + 2)
				want = got + 65536;
			if (want < im->fcap * 2)
				want = im->fcap * 2;
			im->fdata = xrealloc(im->fdata, want);
			im->fcap = want;
		}
		r = read(fd, im->fdata + got, im->fcap - got - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, whysz, "cannot read: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	im->flen = got;
	im->fdata[got] = '\0';
	return true;
fail:
	close(fd);
	return false;
}

static void
progress(const char *what, size_t i, size_t n)
{
	if (n > 0 && ((i + 1) % PROGRESS_EVERY == 0 || i + 1 == n))
		fprintf(stderr, "import-json: %s %zu/%zu\n", what, i + 1, n);
}

/* money "123.4567" (normalised) in 1/10000 */
static int64_t
money_units(const char *m)
{
	const char *dot = strchr(m, '.');
	int64_t v = 0;

	for (; *m && m != dot; m++)
		v = v * 10 + (*m - '0');
	for (m = dot + 1; *m; m++)
		v = v * 10 + (*m - '0');
	return v;
}

/* Pass 1 for one article file. */
static void
check_article_file(struct import *im, struct afile *f)
{
	struct legacy_article a;
	char why[512], rel[4096 + 16], base[SLUG_MAX + 1];
	int64_t mtime;

	if (!read_file(im, "articles", f->name, &mtime, why, sizeof(why))) {
		f->bad = true;
		bad_file(im, "articles", f->name, "%s", why);
		return;
	}
	if (!legacy_parse_article(im->fdata, im->flen, &a, why,
	    sizeof(why))) {
		f->bad = true;
		memcpy(f->id, a.id, sizeof(f->id));
		bad_file(im, "articles", f->name, "%s", why);
		return;
	}
	if (a.id[0] != '\0')
		memcpy(f->id, a.id, sizeof(f->id));
	else {
		snprintf(rel, sizeof(rel), "articles/%s", f->name);
		legacy_path_id(im->owner, rel, f->id);
		legacy_path_id_v1(rel, f->old_id);
	}
	f->explicit_slug = a.slug != NULL;
	if (a.slug == NULL) {
		slug_from_title(a.title, base);
		f->want = xstrdup(base);
	} else
		f->want = xstrdup(a.slug);
	/* no created_at: the file's modification time is the best guess */
	f->created_us = a.has_created ? a.created_us : mtime;
	legacy_article_free(&a);
}

/* Pass 1 for one pipeline file. */
static void
check_pipeline_file(struct import *im, struct pfile *f)
{
	struct legacy_pipeline p;
	char why[512], rel[4096 + 16];
	int64_t mtime;

	if (!read_file(im, "pipelines", f->name, &mtime, why, sizeof(why))) {
		f->bad = true;
		bad_file(im, "pipelines", f->name, "%s", why);
		return;
	}
	if (!legacy_parse_pipeline(im->fdata, im->flen, &p, why,
	    sizeof(why))) {
		f->bad = true;
		memcpy(f->id, p.id, sizeof(f->id));
		bad_file(im, "pipelines", f->name, "%s", why);
		return;
	}
	if (p.id[0] != '\0')
		memcpy(f->id, p.id, sizeof(f->id));
	else {
		snprintf(rel, sizeof(rel), "pipelines/%s", f->name);
		legacy_path_id(im->owner, rel, f->id);
		legacy_path_id_v1(rel, f->old_id);
	}
	memcpy(f->article_id, p.article_id, sizeof(f->article_id));
	f->article_ok = p.article_id[0] == '\0';
	f->status = p.status;
	if (p.status != LEGACY_RUNNING)
		f->month = isotime_month(p.completed_us);
	f->cost = money_units(p.total_cost);
	legacy_pipeline_free(&p);
}

/* Sort helpers: indexes ordered by id (then by index: file name order). */
static const struct import *sort_im;

static int
cmp_article_ids(const void *x, const void *y)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	int c = strcmp(sort_im->a[i].id, sort_im->a[j].id);

	return c != 0 ? c : (i > j) - (i < j);
}

static int
cmp_pipeline_ids(const void *x, const void *y)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	int c = strcmp(sort_im->p[i].id, sort_im->p[j].id);

	return c != 0 ? c : (i > j) - (i < j);
}

/* Oldest first, then by file name. */
static int
cmp_created(const void *x, const void *y)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	const struct afile *a = &sort_im->a[i], *b = &sort_im->a[j];

	if (a->created_us != b->created_us)
		return (a->created_us > b->created_us) -
		    (a->created_us < b->created_us);
	return (i > j) - (i < j);
}

/*
 * Duplicate ids within the import: the later file (by name) is the bad
 * one, and the message names the earlier.
 */
static void
check_duplicates(struct import *im)
{
	size_t *ai = xcalloc(im->na, sizeof(*ai));
	size_t *pi = xcalloc(im->np, sizeof(*pi));
	size_t i;

	for (i = 0; i < im->na; i++)
		ai[i] = i;
	for (i = 0; i < im->np; i++)
		pi[i] = i;
	sort_im = im;
	qsort(ai, im->na, sizeof(*ai), cmp_article_ids);
	qsort(pi, im->np, sizeof(*pi), cmp_pipeline_ids);
	for (i = 1; i < im->na; i++) {
		struct afile *first = &im->a[ai[i - 1]], *f = &im->a[ai[i]];
		char other[4096];

		if (f->id[0] == '\0' || strcmp(first->id, f->id) != 0)
			continue;
		/* name the first file of the run of equal ids */
		{
			size_t k = i - 1;

			while (k > 0 && strcmp(im->a[ai[k - 1]].id, f->id) == 0)
				k--;
			first = &im->a[ai[k]];
		}
		snprintf(other, sizeof(other), "%s", full_path(im, "articles",
		    first->name));
		f->bad = true;
		bad_file(im, "articles", f->name, "duplicate id %s (also in %s)",
		    f->id, other);
	}
	for (i = 1; i < im->np; i++) {
		struct pfile *first, *f = &im->p[pi[i]];
		char other[4096];
		size_t k = i - 1;

		if (f->id[0] == '\0' || strcmp(im->p[pi[k]].id, f->id) != 0)
			continue;
		while (k > 0 && strcmp(im->p[pi[k - 1]].id, f->id) == 0)
			k--;
		first = &im->p[pi[k]];
		snprintf(other, sizeof(other), "%s", full_path(im, "pipelines",
		    first->name));
		f->bad = true;
		bad_file(im, "pipelines", f->name, "duplicate id %s (also in %s)",
		    f->id, other);
	}
	free(ai);
	free(pi);
}

/* ---------------------------------------------------------------- database checks */

/* The existing rows found for the ids of one table. */
struct found {
	struct import	*im;
	struct smap	 rows;	/* id -> index of the file (-1: not ours) */
	struct smap	 other;	/* ids that belong to someone else */
	struct smap	 orphan;	/* article ids without an owner */
};

static void
found_row(void *arg, const char *id, const char *user)
{
	struct found *f = arg;

	if (user == NULL)
		smap_put(&f->orphan, id, 0);
	else if (strcmp(user, f->im->owner) == 0)
		smap_put(&f->rows, id, 0);
	else
		smap_put(&f->other, id, 0);
}

/* "{id,id,...}" of the ids that are not "" */
static void
id_array(struct buf *b, const char *const *ids, size_t n)
{
	size_t i;
	bool first = true;

	buf_reset(b, 0);
	buf_addc(b, '{');
	for (i = 0; i < n; i++)
		if (ids[i][0] != '\0') {
			if (!first)
				buf_addc(b, ',');
			buf_adds(b, ids[i]);
			first = false;
		}
	buf_addc(b, '}');
}

/*
 * Where one file stands against the rows found for its id (and its v1
 * id): 'p' the owner's row (present; *id becomes the row's id), 'o'
 * another user's, 'n' an article without an owner, 0 none.
 */
static int
id_standing(struct found *f, char id[37], const char *old_id,
    const char **which)
{
	*which = id;
	if (smap_get(&f->rows, id) >= 0)
		return 'p';
	if (old_id[0] != '\0' && smap_get(&f->rows, old_id) >= 0) {
		memcpy(id, old_id, 37);
		return 'p';
	}
	if (smap_get(&f->other, id) >= 0)
		return 'o';
	if (smap_get(&f->orphan, id) >= 0)
		return 'n';
	/*
	 * another user's row with the v1 id is that user's file of the same
	 * name: no concern of this import; an article without an owner is
	 * refused as before, it may be this very file
	 */
	if (old_id[0] != '\0' && smap_get(&f->orphan, old_id) >= 0) {
		*which = old_id;
		return 'n';
	}
	return 0;
}

static bool
db_checks(struct import *im)
{
	struct found fa = { im, { 0 }, { 0 }, { 0 } };
	struct found fp = { im, { 0 }, { 0 }, { 0 } };
	struct found fr = { im, { 0 }, { 0 }, { 0 } };
	struct smap files = { 0 };	/* article id or v1 id -> file index */
	const char **ids, *which;
	struct buf arr;
	size_t i, n = im->na > im->np ? im->na : im->np;
	bool ok = false;

	buf_init(&arr);
	ids = xcalloc(n ? 2 * n : 1, sizeof(*ids));
	for (i = 0; i < im->na; i++) {
		ids[2 * i] = im->a[i].id;
		ids[2 * i + 1] = im->a[i].old_id;
	}
	id_array(&arr, ids, 2 * im->na);
	if (repo_import_existing(im->c, IMPORT_ARTICLES, arr.data, found_row,
	    &fa) != DB_OK)
		goto out;
	for (i = 0; i < im->np; i++) {
		ids[2 * i] = im->p[i].id;
		ids[2 * i + 1] = im->p[i].old_id;
	}
	id_array(&arr, ids, 2 * im->np);
	if (repo_import_existing(im->c, IMPORT_PIPELINES, arr.data, found_row,
	    &fp) != DB_OK)
		goto out;
	/* a run's article_id may be any file's id, or the v1 id of a file without one */
	for (i = 0; i < im->na; i++)
		if (im->a[i].id[0] != '\0' && smap_get(&files, im->a[i].id) < 0)
			smap_put(&files, im->a[i].id, (long)i);
	for (i = 0; i < im->na; i++)
		if (im->a[i].old_id[0] != '\0' &&
		    smap_get(&files, im->a[i].old_id) < 0)
			smap_put(&files, im->a[i].old_id, (long)i);
	/* the runs' articles that are not files of this import */
	for (i = 0; i < im->np; i++) {
		struct pfile *p = &im->p[i];

		ids[i] = "";
		if (!p->bad && p->article_id[0] != '\0' &&
		    smap_get(&files, p->article_id) < 0)
			ids[i] = p->article_id;
		else if (!p->bad)
			p->article_ok = true;
	}
	id_array(&arr, ids, im->np);
	if (repo_import_existing(im->c, IMPORT_ARTICLES, arr.data, found_row,
	    &fr) != DB_OK)
		goto out;

	for (i = 0; i < im->na; i++) {
		struct afile *f = &im->a[i];

		if (f->bad || f->id[0] == '\0')
			continue;
		switch (id_standing(&fa, f->id, f->old_id, &which)) {
		case 'p':
			f->present = true;
			im->a_present++;
			break;
		case 'o':
			f->bad = true;
			bad_file(im, "articles", f->name, "id %s is already the "
			    "id of another user's article", which);
			break;
		case 'n':
			f->bad = true;
			bad_file(im, "articles", f->name, "id %s is already the "
			    "id of an article without an owner (give it one "
			    "with assign-orphans first)", which);
			break;
		}
	}
	for (i = 0; i < im->np; i++) {
		struct pfile *p = &im->p[i];
		long k;

		if (p->bad)
			continue;
		switch (id_standing(&fp, p->id, p->old_id, &which)) {
		case 'p':
			p->present = true;
			im->p_present++;
			continue;
		case 'o':
			p->bad = true;
			bad_file(im, "pipelines", p->name, "id %s is already the "
			    "id of another user's pipeline", which);
			continue;
		}
		if (p->article_id[0] == '\0')
			continue;
		if ((k = smap_get(&files, p->article_id)) >= 0) {
			/* the file's id as the article has it (a v1 id kept) */
			memcpy(p->article_ref, im->a[k].id, sizeof(p->article_ref));
			continue;
		}
		memcpy(p->article_ref, p->article_id, sizeof(p->article_ref));
		if (!p->article_ok && smap_get(&fr.rows, p->article_id) < 0) {
			p->bad = true;
			bad_file(im, "pipelines", p->name, "article_id %s matches "
			    "no article (no file of %s/articles has this id, and "
			    "%s has no article with it)", p->article_id, im->dir,
			    im->email);
		}
	}
	ok = true;
out:
	free(ids);
	buf_free(&arr);
	smap_free(&files);
	smap_free(&fa.rows);
	smap_free(&fa.other);
	smap_free(&fa.orphan);
	smap_free(&fp.rows);
	smap_free(&fp.other);
	smap_free(&fp.orphan);
	smap_free(&fr.rows);
	smap_free(&fr.other);
	smap_free(&fr.orphan);
	return ok;
}

static void
take_slug(void *arg, const char *slug)
{
	smap_put(arg, slug, 0);
}

/* Slugs of the new articles; reports the renamed ones on stdout later. */
static bool
plan_slugs(struct import *im)
{
	struct smap taken = { 0 };
	size_t *order, i, n = 0;
	char **want, **got;
	bool *explicit;

	if (repo_import_slugs(im->c, im->owner, take_slug, &taken) != DB_OK) {
		smap_free(&taken);
		return false;
	}
	order = xcalloc(im->na ? im->na : 1, sizeof(*order));
	for (i = 0; i < im->na; i++)
		if (!im->a[i].present)
			order[n++] = i;
	sort_im = im;
	qsort(order, n, sizeof(*order), cmp_created);
	want = xcalloc(n ? n : 1, sizeof(*want));
	got = xcalloc(n ? n : 1, sizeof(*got));
	explicit = xcalloc(n ? n : 1, sizeof(*explicit));
	for (i = 0; i < n; i++) {
		want[i] = im->a[order[i]].want;
		explicit[i] = im->a[order[i]].explicit_slug;
	}
	assign_slugs(&taken, n, want, explicit, got);
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

/* ---------------------------------------------------------------- pass 2 */

/* Send b when it is big enough (or when flush). */
static bool
copy_flush(struct import *im, struct buf *b, bool flush)
{
	if (b->len == 0 || (!flush && b->len < (size_t)COPY_CHUNK))
		return true;
	if (repo_import_copy_put(im->c, b->data, b->len) != DB_OK)
		return false;
	buf_reset(b, (size_t)COPY_CHUNK * 2);
	return true;
}

static void
changed(struct import *im, const char *sub, const char *name)
{
	bad_file(im, sub, name, "changed while it was being imported (run "
	    "the import again)");
}

static bool
copy_articles(struct import *im, bool pgvector, size_t nnew)
{
	struct buf b, emb;
	const char *v[IA__MAX];
	char created[ISOTIME_PG_MAX], updated[ISOTIME_PG_MAX], why[512];
	char base[SLUG_MAX + 1], rel[4096 + 16];
	size_t i, done = 0;
	enum db_status e;
	bool ok = false;
	long rows;

	if (repo_import_copy_begin(im->c, IMPORT_ARTICLES) != DB_OK)
		return false;
	buf_init(&b);
	buf_init(&emb);
	for (i = 0; i < im->na; i++) {
		struct afile *f = &im->a[i];
		struct legacy_article a;
		int64_t mtime;
		char id[37];

		if (f->present)
			continue;
		if (!read_file(im, "articles", f->name, &mtime, why,
		    sizeof(why)) ||
		    !legacy_parse_article(im->fdata, im->flen, &a, why,
		    sizeof(why))) {
			changed(im, "articles", f->name);
			goto out;
		}
		if (a.slug == NULL)
			slug_from_title(a.title, base);
		if (a.id[0] != '\0')
			memcpy(id, a.id, sizeof(id));
		else {
			snprintf(rel, sizeof(rel), "articles/%s", f->name);
			legacy_path_id(im->owner, rel, id);
		}
		if (strcmp(id, f->id) != 0 || strcmp(a.slug != NULL ? a.slug :
		    base, f->want) != 0 || (a.has_created &&
		    a.created_us != f->created_us)) {
			legacy_article_free(&a);
			changed(im, "articles", f->name);
			goto out;
		}
		isotime_format_pg(f->created_us, created);
		isotime_format_pg(a.has_updated ? a.updated_us : f->created_us,
		    updated);
		v[IA_ID] = f->id;
		v[IA_USER_ID] = im->owner;
		v[IA_TITLE] = a.title;
		v[IA_SLUG] = f->slug;
		v[IA_CONTENT_MARKDOWN] = a.content_markdown;
		v[IA_CONTENT_HTML] = a.content_html;
		v[IA_META_DESCRIPTION] = a.meta_description;
		v[IA_PRIMARY_KEYWORD] = a.primary_keyword;
		v[IA_SEO_SCORE] = a.seo_score;
		v[IA_STATUS] = a.status;
		v[IA_WP_POST_ID] = a.wp_post_id;
		v[IA_WP_URL] = a.wp_url;
		v[IA_EMBEDDING] = NULL;
		if (a.embedding != NULL) {
			/* the column's own text: pgvector [..] or real[] {..} */
			buf_reset(&emb, 0);
			buf_printf(&emb, "%c%s%c", pgvector ? '[' : '{',
			    a.embedding, pgvector ? ']' : '}');
			v[IA_EMBEDDING] = emb.data;
		}
		v[IA_CREATED_AT] = created;
		v[IA_UPDATED_AT] = updated;
		repo_import_copy_row(&b, v, IA__MAX);
		legacy_article_free(&a);
		if (!copy_flush(im, &b, false))
			goto out;
		progress("pass 2: articles", done++, nnew);
	}
	if (!copy_flush(im, &b, true))
		goto out;
	ok = true;
out:
	buf_free(&b);
	buf_free(&emb);
	/* a failed COPY is ended with an error so the connection stays usable */
	if (!ok) {
		(void)PQputCopyEnd(im->c, "import aborted");
		{
			PGresult *r;

			while ((r = PQgetResult(im->c)) != NULL)
				PQclear(r);
		}
		return false;
	}
	if ((e = repo_import_copy_end(im->c, &rows)) != DB_OK) {
		im->conflict = e == DB_UNIQUE;
		return false;
	}
	im->a_copied = rows;
	return true;
}

static bool
copy_pipelines(struct import *im, size_t nnew)
{
	struct buf b;
	const char *v[IP__MAX];
	char started[ISOTIME_PG_MAX], completed[ISOTIME_PG_MAX], why[512];
	char rel[4096 + 16];
	size_t i, done = 0;
	enum db_status e;
	bool ok = false;
	long rows;

	if (repo_import_copy_begin(im->c, IMPORT_PIPELINES) != DB_OK)
		return false;
	buf_init(&b);
	for (i = 0; i < im->np; i++) {
		struct pfile *f = &im->p[i];
		struct legacy_pipeline p;
		int64_t mtime;
		char id[37];

		if (f->present)
			continue;
		if (!read_file(im, "pipelines", f->name, &mtime, why,
		    sizeof(why)) ||
		    !legacy_parse_pipeline(im->fdata, im->flen, &p, why,
		    sizeof(why))) {
			changed(im, "pipelines", f->name);
			goto out;
		}
		if (p.id[0] != '\0')
			memcpy(id, p.id, sizeof(id));
		else {
			snprintf(rel, sizeof(rel), "pipelines/%s", f->name);
			legacy_path_id(im->owner, rel, id);
		}
		if (strcmp(id, f->id) != 0 ||
		    strcmp(p.article_id, f->article_id) != 0 ||
		    p.status != f->status ||
		    money_units(p.total_cost) != f->cost ||
		    (p.has_completed && isotime_month(p.completed_us) != f->month)) {
			legacy_pipeline_free(&p);
			changed(im, "pipelines", f->name);
			goto out;
		}
		isotime_format_pg(p.started_us, started);
		if (p.has_completed)
			isotime_format_pg(p.completed_us, completed);
		v[IP_ID] = f->id;
		v[IP_USER_ID] = im->owner;
		v[IP_ARTICLE_ID] = f->article_ref[0] != '\0' ? f->article_ref :
		    NULL;
		v[IP_STATUS] = legacy_run_status_name(p.status);
		v[IP_ESTIMATED_COST] = p.estimated_cost;
		v[IP_TOTAL_COST] = p.total_cost;
		v[IP_STARTED_AT] = started;
		v[IP_COMPLETED_AT] = p.has_completed ? completed : NULL;
		v[IP_ERROR_MESSAGE] = p.error_message;
		repo_import_copy_row(&b, v, IP__MAX);
		legacy_pipeline_free(&p);
		if (!copy_flush(im, &b, false))
			goto out;
		progress("pass 2: pipelines", done++, nnew);
	}
	if (!copy_flush(im, &b, true))
		goto out;
	ok = true;
out:
	buf_free(&b);
	if (!ok) {
		PGresult *r;

		(void)PQputCopyEnd(im->c, "import aborted");
		while ((r = PQgetResult(im->c)) != NULL)
			PQclear(r);
		return false;
	}
	if ((e = repo_import_copy_end(im->c, &rows)) != DB_OK) {
		im->conflict = e == DB_UNIQUE;
		return false;
	}
	im->p_copied = rows;
	return true;
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

/*
 * The months the new ended runs count in: rebuilt (or, dry, what they
 * would become).
 */
static bool
rebuild_usage(struct import *im)
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
	e = repo_import_usage(im->c, im->owner, months.data, im->dry, arts.data,
	    costs.data, usage_line, im);
	buf_free(&months);
	buf_free(&arts);
	buf_free(&costs);
	free(ms);
	return e == DB_OK;
}

/* ---------------------------------------------------------------- command */

static void
import_usage(FILE *f)
{
	fprintf(f,
	    "usage: blogposter import-json DATA_DIR --owner EMAIL [--dry-run]\n\n"
	    "Imports the JSON files of the file-based version: DATA_DIR/articles/"
	    "*.json\nand DATA_DIR/pipelines/*.json, for the existing user EMAIL.  "
	    "Every file is\nchecked first; with any bad one nothing is written "
	    "(exit status 1).\nEverything is imported in one transaction; "
	    "running it again imports\nnothing twice.  --dry-run checks and "
	    "prints the summary, writing nothing.\n");
}

static void
print_summary(struct import *im, size_t a_new, size_t p_new)
{
	size_t i;

	for (i = 0; i < im->nskipped; i++)
		printf("skipped: %s\n", im->skipped[i]);
	printf("articles: %zu read, %zu %s, %zu already present\n", im->na,
	    a_new, im->dry ? "to import" : "imported", im->a_present);
	printf("pipelines: %zu read, %zu %s, %zu already present\n", im->np,
	    p_new, im->dry ? "to import" : "imported", im->p_present);
	printf("slugs made from titles: %zu\n", im->made);
	printf("renamed slugs: %zu\n", im->renamed);
	for (i = 0; i < im->na; i++) {
		struct afile *f = &im->a[i];

		if (f->slug != NULL && strcmp(f->slug, f->want) != 0)
			printf("  articles/%s: %s \"%s\" is taken: \"%s\"\n",
			    f->name, f->explicit_slug ? "slug" :
			    "slug made from the title", f->want, f->slug);
	}
	printf("usage rebuilt: %zu month%s\n%s", im->nmonths,
	    im->nmonths == 1 ? "" : "s", im->usage.data ? im->usage.data : "");
}

static void
import_free(struct import *im)
{
	size_t i;

	for (i = 0; i < im->na; i++) {
		free(im->a[i].name);
		free(im->a[i].want);
		free(im->a[i].slug);
	}
	for (i = 0; i < im->np; i++)
		free(im->p[i].name);
	for (i = 0; i < im->nskipped; i++)
		free(im->skipped[i]);
	free(im->a);
	free(im->p);
	free(im->skipped);
	free(im->fdata);
	buf_free(&im->path);
	buf_free(&im->usage);
	PQfinish(im->c);
}

/*
 * Check that the schema is current, connect, and find the user with this
 * email; false: said why.
 */
static bool
connect_owner(const char *cmd, const char *arg_email, char *email,
    PGconn **c, char owner[37])
{
	enum db_status e;
	bool reachable;

	if (!user_email_normalize(arg_email, email)) {
		fprintf(stderr, "blogposter %s: '%s' is not a valid email "
		    "address\n", cmd, arg_email);
		return false;
	}
	if (!migrate_check_current(&reachable)) {
		fprintf(stderr, "blogposter %s: %s\n", cmd, reachable ?
		    "the schema is not current: run 'blogposter migrate' first" :
		    "cannot connect to the database");
		return false;
	}
	if ((*c = db_connect_once(cfg.database_url)) == NULL) {
		fprintf(stderr, "blogposter %s: cannot connect to the database\n",
		    cmd);
		return false;
	}
	if (PQsetClientEncoding(*c, "UTF8") != 0) {
		fprintf(stderr, "blogposter %s: cannot set the client encoding: "
		    "%s", cmd, PQerrorMessage(*c));
		return false;
	}
	if ((e = repo_import_user(*c, email, owner)) == DB_EMPTY) {
		fprintf(stderr, "blogposter %s: there is no user with the email "
		    "%s (create it first: blogposter create-user or create-admin)\n",
		    cmd, email);
		return false;
	}
	if (e != DB_OK) {
		fprintf(stderr, "blogposter %s: database error (see above)\n", cmd);
		return false;
	}
	return true;
}

int
cmd_import_json(int argc, char **argv)
{
	struct import im;
	const char *arg_email = NULL;
	char email[USER_EMAIL_MAX];
	char **names = NULL, *dir;
	size_t i, nnames = 0, a_new = 0, p_new = 0;
	bool pgvector = false, in_tx = false;
	int rc = 1;

	memset(&im, 0, sizeof(im));
	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			import_usage(stdout);
			return 0;
		} else if (strcmp(a, "--dry-run") == 0)
			im.dry = true;
		else if (strcmp(a, "--owner") == 0 && i + 1 < (size_t)argc)
			arg_email = argv[++i];
		else if (strncmp(a, "--owner=", 8) == 0)
			arg_email = a + 8;
		else if (a[0] != '-' && im.dir == NULL)
			im.dir = a;
		else {
			fprintf(stderr, "blogposter import-json: unexpected "
			    "argument '%s'\n", a);
			import_usage(stderr);
			return 2;
		}
	}
	if (im.dir == NULL || arg_email == NULL) {
		import_usage(stderr);
		return 2;
	}
	/* "dir/" and "dir" name the same files: messages say "dir/articles/x" */
	dir = xstrdup(im.dir);
	for (i = strlen(dir); i > 1 && dir[i - 1] == '/'; i--)
		dir[i - 1] = '\0';
	im.dir = dir;
	buf_init(&im.path);
	buf_init(&im.usage);
	im.email = email;
	if (!connect_owner("import-json", arg_email, email, &im.c, im.owner))
		goto out;
	fprintf(stderr, "import-json: %s for %s%s\n", im.dir, email,
	    im.dry ? " (dry run: nothing will be written)" : "");

	/* pass 1 */
	if (!list_dir(&im, "articles", false, &names, &nnames))
		goto out;
	im.a = xcalloc(nnames ? nnames : 1, sizeof(*im.a));
	im.na = nnames;
	for (i = 0; i < nnames; i++)
		im.a[i].name = names[i];
	free(names);
	if (!list_dir(&im, "pipelines", true, &names, &nnames))
		goto out;
	im.p = xcalloc(nnames ? nnames : 1, sizeof(*im.p));
	im.np = nnames;
	for (i = 0; i < nnames; i++)
		im.p[i].name = names[i];
	free(names);
	for (i = 0; i < im.na; i++) {
		check_article_file(&im, &im.a[i]);
		progress("pass 1: articles", i, im.na);
	}
	for (i = 0; i < im.np; i++) {
		check_pipeline_file(&im, &im.p[i]);
		progress("pass 1: pipelines", i, im.np);
	}
	check_duplicates(&im);

	/* the checks that need the database, in the import's transaction */
	if (repo_import_begin(im.c, im.owner, im.dry) != DB_OK)
		goto db_error;
	in_tx = true;
	if (!db_checks(&im))
		goto db_error;
	if (im.nbad > 0) {
		fprintf(stderr, "blogposter import-json: %zu bad file%s: nothing "
		    "imported\n", im.nbad, im.nbad == 1 ? "" : "s");
		goto out;
	}
	if (!plan_slugs(&im))
		goto db_error;
	a_new = im.na - im.a_present;
	p_new = im.np - im.p_present;

	/* pass 2 */
	if (!im.dry) {
		fprintf(stderr, "import-json: pass 2: writing %zu articles and "
		    "%zu pipelines\n", a_new, p_new);
		if (repo_import_pgvector(im.c, &pgvector) != DB_OK ||
		    (a_new > 0 && !copy_articles(&im, pgvector, a_new)) ||
		    (p_new > 0 && !copy_pipelines(&im, p_new)))
			goto db_error;
		if ((size_t)im.a_copied != a_new || (size_t)im.p_copied != p_new) {
			fprintf(stderr, "blogposter import-json: the database "
			    "stored %ld articles and %ld pipelines, not %zu and "
			    "%zu: nothing imported\n", im.a_copied, im.p_copied,
			    a_new, p_new);
			goto out;
		}
	}
	if (!rebuild_usage(&im))
		goto db_error;
	if (im.dry)
		repo_import_rollback(im.c);
	else if (repo_import_commit(im.c) != DB_OK)
		goto db_error;
	in_tx = false;
	print_summary(&im, a_new, p_new);
	printf("%s\n", im.dry ? "dry run: nothing written" : "committed");
	rc = 0;
	goto out;
db_error:
	if (im.nbad > 0)
		fprintf(stderr, "blogposter import-json: %zu bad file%s: nothing "
		    "imported\n", im.nbad, im.nbad == 1 ? "" : "s");
	else if (im.conflict)
		fprintf(stderr, "blogposter import-json: a slug or an id was "
		    "taken meanwhile by another writer (see above): nothing "
		    "imported; run the import again\n");
	else
		fprintf(stderr, "blogposter import-json: database error (see "
		    "above): nothing imported\n");
out:
	if (in_tx)
		repo_import_rollback(im.c);
	free(dir);
	import_free(&im);
	fflush(stdout);
	return rc;
}

/* ---------------------------------------------------------------- assign-orphans */

struct orphans {
	char	**ids;
	char	**slugs;
	size_t	  n;
};

static void
orphan_row(void *arg, const char *id, const char *slug)
{
	struct orphans *o = arg;

	o->ids = xrealloc(o->ids, (o->n + 1) * sizeof(*o->ids));
	o->slugs = xrealloc(o->slugs, (o->n + 1) * sizeof(*o->slugs));
	o->ids[o->n] = xstrdup(id);
	o->slugs[o->n] = xstrdup(slug);
	o->n++;
}

int
cmd_assign_orphans(int argc, char **argv)
{
	struct orphans o = { NULL, NULL, 0 };
	struct smap taken = { 0 };
	const char *arg_email = NULL;
	char email[USER_EMAIL_MAX], owner[37];
	char **got = NULL;
	bool *explicit = NULL;
	struct buf ids, slugs;
	PGconn *c = NULL;
	size_t i, renamed = 0;
	long n = 0;
	int rc = 1;

	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("usage: blogposter assign-orphans --to EMAIL\n\n"
			    "Gives every article that has no owner to the user "
			    "EMAIL.  A slug\nthe user already has goes to the "
			    "user's article; the other gets\n-2, -3, ... as the "
			    "API gives them.\n");
			return 0;
		} else if (strcmp(a, "--to") == 0 && i + 1 < (size_t)argc)
			arg_email = argv[++i];
		else if (strncmp(a, "--to=", 5) == 0)
			arg_email = a + 5;
		else {
			fprintf(stderr, "blogposter assign-orphans: unexpected "
			    "argument '%s'\n", a);
			arg_email = NULL;
			break;
		}
	}
	if (arg_email == NULL) {
		fprintf(stderr, "usage: blogposter assign-orphans --to EMAIL\n");
		return 2;
	}
	buf_init(&ids);
	buf_init(&slugs);
	if (!connect_owner("assign-orphans", arg_email, email, &c, owner))
		goto out;
	if (repo_import_begin(c, owner, false) != DB_OK ||
	    repo_orphans_list(c, orphan_row, &o) != DB_OK ||
	    repo_import_slugs(c, owner, take_slug, &taken) != DB_OK)
		goto db_error;
	got = xcalloc(o.n ? o.n : 1, sizeof(*got));
	explicit = xcalloc(o.n ? o.n : 1, sizeof(*explicit));
	for (i = 0; i < o.n; i++)
		explicit[i] = true;
	assign_slugs(&taken, o.n, o.slugs, explicit, got);
	buf_addc(&ids, '{');
	buf_addc(&slugs, '{');
	for (i = 0; i < o.n; i++) {
		buf_printf(&ids, "%s%s", i ? "," : "", o.ids[i]);
		/* quoted: an unquoted NULL in an array literal is SQL NULL */
		buf_printf(&slugs, "%s\"%s\"", i ? "," : "", got[i]);
	}
	buf_addc(&ids, '}');
	buf_addc(&slugs, '}');
	if (repo_orphans_assign(c, owner, ids.data, slugs.data, &n) != DB_OK ||
	    repo_import_commit(c) != DB_OK)
		goto db_error;
	printf("assigned %ld article%s without an owner to %s\n", n,
	    n == 1 ? "" : "s", email);
	for (i = 0; i < o.n; i++)
		if (strcmp(got[i], o.slugs[i]) != 0)
			renamed++;
	printf("renamed slugs: %zu\n", renamed);
	for (i = 0; i < o.n; i++)
		if (strcmp(got[i], o.slugs[i]) != 0)
			printf("  article %s: slug \"%s\" is taken: \"%s\"\n",
			    o.ids[i], o.slugs[i], got[i]);
	rc = 0;
	goto out;
db_error:
	repo_import_rollback(c);
	fprintf(stderr, "blogposter assign-orphans: database error (see "
	    "above): nothing changed\n");
out:
	for (i = 0; i < o.n; i++) {
		free(o.ids[i]);
		free(o.slugs[i]);
		if (got != NULL)
			free(got[i]);
	}
	free(o.ids);
	free(o.slugs);
	free(got);
	free(explicit);
	smap_free(&taken);
	buf_free(&ids);
	buf_free(&slugs);
	PQfinish(c);
	fflush(stdout);
	return rc;
}
