/*
 * import_int.h - what the stages of import-json share (import_cmd.c,
 * import_scan.c, import_plan.c, import_load.c, import_map.c); not for
 * the rest of the program, which knows import.h only.
 *
 * import-json DATA_DIR --owner EMAIL [--dry-run] works in two passes so
 * that its memory does not grow with the size of the files:
 *
 *   pass 1  (import_scan.c) reads every file of DATA_DIR/articles and
 *           DATA_DIR/pipelines, checks it (legacy.c) and keeps a few
 *           facts per file (name, id, slug, creation time; for a run its
 *           month and cost), never the contents.  Then, in one
 *           transaction, the checks that need the database: ids already
 *           there (for the owner: "already present"; for someone else: a
 *           bad file) and the articles the runs point at.  Any bad file:
 *           each is reported as "path: reason", nothing is written, exit
 *           status 1.
 *   slugs   (import_plan.c) the owner's articles keep their slugs; then
 *           the imported articles that bring a slug claim it, oldest
 *           first; then the others (a slug taken, or none: made from the
 *           title) get the first free of base, base-2, base-3, ... as the
 *           API gives them.
 *   pass 2  (import_load.c) reads the new files again and streams them to
 *           COPY (repo_import_copy), in the same transaction; rebuilds
 *           the owner's api_usage of every month an imported ended run
 *           counts in, from all the owner's ended runs of that month;
 *           commits (import_cmd.c).
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
#ifndef BP_IMPORT_INT_H
#define BP_IMPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "legacy.h"

/* -------------------------------------------------------- import_map.c */

/* A set of strings (owned copies), with a long per string. */
struct smap {
	char	**k;
	long	 *v;
	size_t	  cap, n;
};

/* The value of s, or -1 when s is not in the set. */
long smap_get(const struct smap *m, const char *s);
void smap_put(struct smap *m, const char *s, long v);
void smap_free(struct smap *m);

/* ----------------------------------------------------------- the files */

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

/* How the import's transaction ended (import_cmd.c). */
enum import_outcome {
	IMPORT_DB_ERROR,	/* a database failure (said above) */
	IMPORT_DONE,		/* committed, or a dry run rolled back */
	IMPORT_BAD_FILES,	/* the database checks found bad files */
	IMPORT_COUNT_MISMATCH,	/* COPY stored other counts than planned */
};

struct import {
	const char	*dir;		/* DATA_DIR */
	const char	*email;
	char		 owner[37];
	bool		 dry;
	struct afile	*a;
	size_t		 na;
	struct pfile	*p;
	size_t		 np;
	char		**skipped;	/* "articles/x.txt (reason)" */
	size_t		 nskipped;
	size_t		 nbad;
	bool		 conflict;	/* COPY met a row committed meanwhile */
	enum import_outcome outcome;
	char		*fdata;		/* the file being read */
	size_t		 flen, fcap;
	struct buf	 path;
	/* summary */
	size_t		 a_present, p_present, made, renamed;
	long		 a_copied, p_copied;
	struct buf	 usage;		/* the usage lines */
	size_t		 nmonths;
};

/* ------------------------------------------------------- import_scan.c */

/*
 * Pass 1: list DATA_DIR/articles (and pipelines/, which may be missing),
 * read and check every file, find the duplicate ids.  Bad files are
 * reported and counted in im->nbad; false: a folder could not be read
 * (said why).
 */
bool import_scan(struct import *im);

/*
 * The checks that need the database (in the import's transaction): ids
 * already present, another user's or an owner-less article's; the
 * articles the runs point at.  False: a database error.
 */
bool import_db_checks(struct import *im);

/* Report a bad file (stderr), as "path: reason"; counted in im->nbad. */
void import_bad_file(struct import *im, const char *sub, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Read DATA_DIR/sub/name into im->fdata[0..im->flen) (NUL-terminated);
 * *mtime_us its modification time.  False with the reason in why: among
 * them a symbolic link (never followed), anything but a regular file (a
 * FIFO is not waited on) and a file over 64 MiB (refused before any
 * allocation).
 */
bool import_read_file(struct import *im, const char *sub, const char *name,
    int64_t *mtime_us, char *why, size_t whysz);

/*
 * The id of DATA_DIR/sub/name: file_id, the id the file gives, or made
 * from the owner and the path when it gives none ("").
 */
void import_file_id(const struct import *im, const char *sub,
    const char *name, const char *file_id, char out[37]);

/* A progress line on stderr now and then: item i (from 0) of n. */
void import_progress(const char *what, size_t i, size_t n);

/* money "123.4567" (normalised) in 1/10000 */
int64_t import_money_units(const char *m);

/* ------------------------------------------------------- import_plan.c */

/*
 * Slugs for new articles, the API's way: taken holds the slugs in use
 * (the owner's); every article wants want[i] (explicit[i]: the file gave
 * it).  First the explicit ones claim theirs in the given order, then
 * each other one gets the first free candidate.  got[i] receives the
 * slug (owned by the caller, to free).
 */
void import_assign_slugs(struct smap *taken, size_t n, char *const *want,
    const bool *explicit, char **got);

/* For repo_import_slugs: put slug in the struct smap arg. */
void import_take_slug(void *arg, const char *slug);

/* The slugs of the new articles (f->slug); counts made and renamed ones. */
bool import_plan_slugs(struct import *im);

/* ------------------------------------------------------- import_load.c */

/*
 * Pass 2: the a_new articles and p_new runs not present, read again and
 * sent with COPY.  False: a file changed (reported as a bad file), or a
 * database error (im->conflict: a row collided with one committed
 * meanwhile).
 */
bool import_load(struct import *im, size_t a_new, size_t p_new);

/*
 * The owner's usage of the months the new ended runs count in: rebuilt
 * (or, dry, what it would become); the lines of the summary in im->usage.
 */
bool import_rebuild_usage(struct import *im);

#endif
