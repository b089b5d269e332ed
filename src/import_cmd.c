/*
 * import_cmd.c - the commands import-json and assign-orphans: their
 * arguments, the connection and the owner, the order of the stages (see
 * import_int.h) and the summary they print.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "import.h"
#include "import_int.h"
#include "migrate.h"
#include "repo_import.h"
#include "user.h"
#include "util.h"

/* ------------------------------------------------------------- command */

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
}

/*
 * Check that the schema is current, open the handle (db_open), and find
 * the user with this email; false: said why (the caller closes the
 * handle).
 */
static bool
connect_owner(const char *cmd, const char *arg_email, char *email,
    char owner[37])
{
	enum db_status e;
	bool reachable;

	if (!user_email_normalize(arg_email, email)) {
		fprintf(stderr, "blogposter %s: '%s' is not a valid email "
		    "address\n", cmd, arg_email);
		return false;
	}
	if (!migrate_check_current(&reachable)) {
		if (reachable)
			fprintf(stderr, "blogposter %s: the schema is not "
			    "current: run 'blogposter migrate' first\n", cmd);
		else
			db_print_connect_error(cmd);
		return false;
	}
	if (!db_open(cfg.database_url)) {
		db_print_connect_error(cmd);
		return false;
	}
	if ((e = repo_import_user(email, owner)) == DB_EMPTY) {
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

/*
 * The import's transaction: the locks, the checks that need the
 * database, the slugs, pass 2 and the usage.  DB_OK commits; an import
 * that ends without writing (a dry run, bad files, a count that does not
 * match) returns DB_ROLLBACK with im->outcome saying why; a database
 * failure returns its status.
 */
static enum db_status
import_unit(void *arg)
{
	struct import *im = arg;
	enum db_status e;
	size_t a_new, p_new;

	im->outcome = IMPORT_DB_ERROR;
	if ((e = repo_import_lock(im->owner, im->dry)) != DB_OK)
		return e;
	if (!import_db_checks(im))
		return DB_ERROR;
	if (im->nbad > 0) {
		im->outcome = IMPORT_BAD_FILES;
		return DB_ROLLBACK;
	}
	if (!import_plan_slugs(im))
		return DB_ERROR;
	a_new = im->na - im->a_present;
	p_new = im->np - im->p_present;
	if (!im->dry) {
		fprintf(stderr, "import-json: pass 2: writing %zu articles and "
		    "%zu pipelines\n", a_new, p_new);
		if (!import_load(im, a_new, p_new))
			return DB_ERROR;
		if ((size_t)im->a_copied != a_new ||
		    (size_t)im->p_copied != p_new) {
			im->outcome = IMPORT_COUNT_MISMATCH;
			return DB_ROLLBACK;
		}
	}
	if (!import_rebuild_usage(im))
		return DB_ERROR;
	im->outcome = IMPORT_DONE;
	return im->dry ? DB_ROLLBACK : DB_OK;
}

int
cmd_import_json(int argc, char **argv)
{
	struct import im;
	const char *arg_email = NULL;
	char email[USER_EMAIL_MAX];
	char *dir;
	size_t i;
	enum db_status e;
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
	if (!connect_owner("import-json", arg_email, email, im.owner))
		goto out;
	fprintf(stderr, "import-json: %s for %s%s\n", im.dir, email,
	    im.dry ? " (dry run: nothing will be written)" : "");

	/* pass 1 */
	if (!import_scan(&im))
		goto out;

	/*
	 * The checks that need the database and pass 2, in one transaction
	 * (READ ONLY for a dry run), run once: the import reports as it
	 * goes and is not started over.
	 */
	e = db_tx_run(im.dry ? DB_TX_READ_ONLY : DB_TX_WRITE, 1, import_unit,
	    &im);
	switch (e == DB_OK ? im.outcome : IMPORT_DB_ERROR) {
	case IMPORT_DONE:
		print_summary(&im, im.na - im.a_present, im.np - im.p_present);
		printf("%s\n", im.dry ? "dry run: nothing written" :
		    "committed");
		rc = 0;
		break;
	case IMPORT_BAD_FILES:
		fprintf(stderr, "blogposter import-json: %zu bad file%s: nothing "
		    "imported\n", im.nbad, im.nbad == 1 ? "" : "s");
		break;
	case IMPORT_COUNT_MISMATCH:
		fprintf(stderr, "blogposter import-json: the database "
		    "stored %ld articles and %ld pipelines, not %zu and "
		    "%zu: nothing imported\n", im.a_copied, im.p_copied,
		    im.na - im.a_present, im.np - im.p_present);
		break;
	case IMPORT_DB_ERROR:
		if (im.nbad > 0)
			fprintf(stderr, "blogposter import-json: %zu bad file%s: "
			    "nothing imported\n", im.nbad, im.nbad == 1 ? "" :
			    "s");
		else if (im.conflict)
			fprintf(stderr, "blogposter import-json: a slug or an "
			    "id was taken meanwhile by another writer (see "
			    "above): nothing imported; run the import again\n");
		else
			fprintf(stderr, "blogposter import-json: database error "
			    "(see above): nothing imported\n");
		break;
	}
out:
	free(dir);
	import_free(&im);
	db_close();
	fflush(stdout);
	return rc;
}

/* ------------------------------------------------------ assign-orphans */

struct orphans {
	char	**ids;
	char	**slugs;
	size_t	  n;
};

/* What assign-orphans works on and reports. */
struct assign {
	const char	*owner;
	struct orphans	 o;
	struct smap	 taken;
	char		**got;		/* the slug each orphan gets */
	bool		*explicit;
	struct buf	 ids, slugs;	/* array literals */
	long		 n;		/* how many were given */
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

/*
 * assign-orphans' transaction: the import lock and the owner's row, the
 * orphans and the owner's slugs, then every orphan given to the owner
 * with the slug it can have.  Runs once (db_tx_run with one try).
 */
static enum db_status
assign_unit(void *arg)
{
	struct assign *as = arg;
	struct orphans *o = &as->o;
	enum db_status e;
	size_t i;

	if ((e = repo_import_lock(as->owner, false)) != DB_OK ||
	    (e = repo_orphans_list(orphan_row, o)) != DB_OK ||
	    (e = repo_import_slugs(as->owner, import_take_slug, &as->taken)) !=
	    DB_OK)
		return e;
	as->got = xcalloc(o->n ? o->n : 1, sizeof(*as->got));
	as->explicit = xcalloc(o->n ? o->n : 1, sizeof(*as->explicit));
	for (i = 0; i < o->n; i++)
		as->explicit[i] = true;
	import_assign_slugs(&as->taken, o->n, o->slugs, as->explicit, as->got);
	buf_addc(&as->ids, '{');
	buf_addc(&as->slugs, '{');
	for (i = 0; i < o->n; i++) {
		buf_printf(&as->ids, "%s%s", i ? "," : "", o->ids[i]);
		/* quoted: an unquoted NULL in an array literal is SQL NULL */
		buf_printf(&as->slugs, "%s\"%s\"", i ? "," : "", as->got[i]);
	}
	buf_addc(&as->ids, '}');
	buf_addc(&as->slugs, '}');
	return repo_orphans_assign(as->owner, as->ids.data, as->slugs.data,
	    &as->n);
}

int
cmd_assign_orphans(int argc, char **argv)
{
	struct assign as;
	struct orphans *o = &as.o;
	const char *arg_email = NULL;
	char email[USER_EMAIL_MAX], owner[37];
	size_t i, renamed = 0;
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
	memset(&as, 0, sizeof(as));
	as.owner = owner;
	buf_init(&as.ids);
	buf_init(&as.slugs);
	if (!connect_owner("assign-orphans", arg_email, email, owner))
		goto out;
	if (db_tx_run(DB_TX_WRITE, 1, assign_unit, &as) != DB_OK) {
		fprintf(stderr, "blogposter assign-orphans: database error (see "
		    "above): nothing changed\n");
		goto out;
	}
	printf("assigned %ld article%s without an owner to %s\n", as.n,
	    as.n == 1 ? "" : "s", email);
	for (i = 0; i < o->n; i++)
		if (strcmp(as.got[i], o->slugs[i]) != 0)
			renamed++;
	printf("renamed slugs: %zu\n", renamed);
	for (i = 0; i < o->n; i++)
		if (strcmp(as.got[i], o->slugs[i]) != 0)
			printf("  article %s: slug \"%s\" is taken: \"%s\"\n",
			    o->ids[i], o->slugs[i], as.got[i]);
	rc = 0;
out:
	for (i = 0; i < o->n; i++) {
		free(o->ids[i]);
		free(o->slugs[i]);
		if (as.got != NULL)
			free(as.got[i]);
	}
	free(o->ids);
	free(o->slugs);
	free(as.got);
	free(as.explicit);
	smap_free(&as.taken);
	buf_free(&as.ids);
	buf_free(&as.slugs);
	db_close();
	fflush(stdout);
	return rc;
}
