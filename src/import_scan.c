/*
 * import_scan.c - pass 1 of import-json (see import_int.h): the folders
 * listed, every file read and checked, the ids of the files (and of
 * those without one), duplicates, and the checks that need the
 * database.
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
#include "import_int.h"
#include "isotime.h"
#include "legacy.h"
#include "repo_import.h"
#include "slug.h"
#include "util.h"

/* A legacy file larger than this is refused (no article is that long). */
#define FILE_MAX	(64L * 1024 * 1024)
/* A progress line on stderr every this many files. */
#define PROGRESS_EVERY	1000

static const char *
full_path(struct import *im, const char *sub, const char *name)
{
	buf_reset(&im->path, 4096);
	buf_printf(&im->path, "%s/%s/%s", im->dir, sub, name);
	return im->path.data;
}

void
import_bad_file(struct import *im, const char *sub, const char *name,
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
 * The *.json entries of DATA_DIR/sub, sorted by name (one that is not a
 * regular file is a bad file, found when it is read: import_read_file);
 * the other entries are listed in im->skipped.  A missing folder is no file when
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
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!has_json_suffix(e->d_name)) {
			buf_reset(&im->path, 4096);
			buf_printf(&im->path, "%s/%s (not a .json file)", sub,
			    e->d_name);
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

bool
import_read_file(struct import *im, const char *sub, const char *name,
    int64_t *mtime_us, char *why, size_t whysz)
{
	struct stat st;
	size_t got = 0;
	int fd;

	/*
	 * Not through a symbolic link (it may point anywhere the importing
	 * user can read), and without waiting on a FIFO: what was opened is
	 * then checked to be a regular file, small enough to be read.
	 */
	fd = open(full_path(im, sub, name),
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			snprintf(why, whysz, "a symbolic link, not followed");
		else if (errno == ENXIO)
			snprintf(why, whysz, "not a regular file (a socket)");
		else
			snprintf(why, whysz, "cannot open: %s", strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(why, whysz, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "not a regular file (%s)",
		    S_ISDIR(st.st_mode) ? "a directory" :
		    S_ISFIFO(st.st_mode) ? "a FIFO" :
		    S_ISCHR(st.st_mode) ? "a character device" :
		    S_ISBLK(st.st_mode) ? "a block device" :
		    S_ISSOCK(st.st_mode) ? "a socket" : "of another kind");
		goto fail;
	}
	if (st.st_size > FILE_MAX) {
		snprintf(why, whysz, "larger than %ld MiB", FILE_MAX >> 20);
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

void
import_progress(const char *what, size_t i, size_t n)
{
	if (n > 0 && ((i + 1) % PROGRESS_EVERY == 0 || i + 1 == n))
		fprintf(stderr, "import-json: %s %zu/%zu\n", what, i + 1, n);
}

int64_t
import_money_units(const char *m)
{
	const char *dot = strchr(m, '.');
	int64_t v = 0;

	for (; *m && m != dot; m++)
		v = v * 10 + (*m - '0');
	for (m = dot + 1; *m; m++)
		v = v * 10 + (*m - '0');
	return v;
}

void
import_file_id(const struct import *im, const char *sub, const char *name,
    const char *file_id, char out[37])
{
	char rel[4096 + 16];

	if (file_id[0] != '\0') {
		memcpy(out, file_id, 37);
		return;
	}
	snprintf(rel, sizeof(rel), "%s/%s", sub, name);
	legacy_path_id(im->owner, rel, out);
}

/* The id the first releases gave a file without one (the path alone). */
static void
old_file_id(const char *sub, const char *name, char out[37])
{
	char rel[4096 + 16];

	snprintf(rel, sizeof(rel), "%s/%s", sub, name);
	legacy_path_id_v1(rel, out);
}

/* Pass 1 for one article file. */
static void
check_article_file(struct import *im, struct afile *f)
{
	struct legacy_article a;
	char why[512], base[SLUG_MAX + 1];
	int64_t mtime;

	if (!import_read_file(im, "articles", f->name, &mtime, why, sizeof(why))) {
		f->bad = true;
		import_bad_file(im, "articles", f->name, "%s", why);
		return;
	}
	if (!legacy_parse_article(im->fdata, im->flen, &a, why,
	    sizeof(why))) {
		f->bad = true;
		memcpy(f->id, a.id, sizeof(f->id));
		import_bad_file(im, "articles", f->name, "%s", why);
		return;
	}
	import_file_id(im, "articles", f->name, a.id, f->id);
	if (a.id[0] == '\0')
		old_file_id("articles", f->name, f->old_id);
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
	char why[512];
	int64_t mtime;

	if (!import_read_file(im, "pipelines", f->name, &mtime, why, sizeof(why))) {
		f->bad = true;
		import_bad_file(im, "pipelines", f->name, "%s", why);
		return;
	}
	if (!legacy_parse_pipeline(im->fdata, im->flen, &p, why,
	    sizeof(why))) {
		f->bad = true;
		memcpy(f->id, p.id, sizeof(f->id));
		import_bad_file(im, "pipelines", f->name, "%s", why);
		return;
	}
	import_file_id(im, "pipelines", f->name, p.id, f->id);
	if (p.id[0] == '\0')
		old_file_id("pipelines", f->name, f->old_id);
	memcpy(f->article_id, p.article_id, sizeof(f->article_id));
	f->article_ok = p.article_id[0] == '\0';
	f->status = p.status;
	if (p.status != LEGACY_RUNNING)
		f->month = isotime_month(p.completed_us);
	f->cost = import_money_units(p.total_cost);
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
		import_bad_file(im, "articles", f->name, "duplicate id %s (also in %s)",
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
		import_bad_file(im, "pipelines", f->name, "duplicate id %s (also in %s)",
		    f->id, other);
	}
	free(ai);
	free(pi);
}

bool
import_scan(struct import *im)
{
	char **names = NULL;
	size_t i, nnames = 0;

	if (!list_dir(im, "articles", false, &names, &nnames))
		return false;
	im->a = xcalloc(nnames ? nnames : 1, sizeof(*im->a));
	im->na = nnames;
	for (i = 0; i < nnames; i++)
		im->a[i].name = names[i];
	free(names);
	if (!list_dir(im, "pipelines", true, &names, &nnames))
		return false;
	im->p = xcalloc(nnames ? nnames : 1, sizeof(*im->p));
	im->np = nnames;
	for (i = 0; i < nnames; i++)
		im->p[i].name = names[i];
	free(names);
	for (i = 0; i < im->na; i++) {
		check_article_file(im, &im->a[i]);
		import_progress("pass 1: articles", i, im->na);
	}
	for (i = 0; i < im->np; i++) {
		check_pipeline_file(im, &im->p[i]);
		import_progress("pass 1: pipelines", i, im->np);
	}
	check_duplicates(im);
	return true;
}

/* ----------------------------------------------------- database checks */

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

bool
import_db_checks(struct import *im)
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
	if (repo_import_existing(IMPORT_ARTICLES, arr.data, found_row,
	    &fa) != DB_OK)
		goto out;
	for (i = 0; i < im->np; i++) {
		ids[2 * i] = im->p[i].id;
		ids[2 * i + 1] = im->p[i].old_id;
	}
	id_array(&arr, ids, 2 * im->np);
	if (repo_import_existing(IMPORT_PIPELINES, arr.data, found_row,
	    &fp) != DB_OK)
		goto out;
	/*
	 * a run's article_id may be any file's id, or the v1 id of a file
	 * without one
	 */
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
	if (repo_import_existing(IMPORT_ARTICLES, arr.data, found_row,
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
			import_bad_file(im, "articles", f->name, "id %s is already the "
			    "id of another user's article", which);
			break;
		case 'n':
			f->bad = true;
			import_bad_file(im, "articles", f->name, "id %s is already the "
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
			import_bad_file(im, "pipelines", p->name, "id %s is already the "
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
			import_bad_file(im, "pipelines", p->name, "article_id %s matches "
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

