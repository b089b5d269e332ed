/*
 * migrate.c - apply sql/migrations/NNNN_name.sql in order, each once,
 * each in its own transaction, recorded in schema_migrations with its
 * checksum.  Concurrent runs serialise on an advisory lock; a file changed
 * after it was applied is an error, never silently skipped.
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "repo_migrations.h"
#include "util.h"

struct mfile {
	int	 version;
	char	*name;		/* "0001_users.sql" */
	char	*sql;
	char	 checksum[65];
	bool	 applied;
};

struct mset {
	struct mfile	*files;
	size_t		 n;
};

static void
mset_free(struct mset *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->files[i].name);
		free(m->files[i].sql);
	}
	free(m->files);
	memset(m, 0, sizeof(*m));
}

static int
cmp_mfile(const void *a, const void *b)
{
	return ((const struct mfile *)a)->version -
	    ((const struct mfile *)b)->version;
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *data = NULL;
	size_t cap = 0, len = 0, n;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			data = xrealloc(data, cap + 1);
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(data);
		data = NULL;
	} else
		data[len] = '\0';
	fclose(f);
	return data;
}

/* True for NNNN_name.sql: four digits, '_', [a-z0-9_]+, ".sql". */
static bool
migration_name(const char *s, int *version)
{
	size_t len = strlen(s), i;

	if (len < 10 || strcmp(s + len - 4, ".sql") != 0 || s[4] != '_')
		return false;
	for (i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	for (i = 5; i < len - 4; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	*version = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
	    (s[2] - '0') * 10 + (s[3] - '0');
	return *version > 0;
}

/* Read every migration file of dir, checksums included.  False on error. */
static bool
load_files(const char *dir, struct mset *m)
{
	DIR *d;
	struct dirent *de;
	size_t cap = 0, i;

	if ((d = opendir(dir)) == NULL) {
		log_warn("MIGRATIONS_DIR: cannot open %s", dir);
		return false;
	}
	while ((de = readdir(d)) != NULL) {
		int version;
		char path[4096];
		struct mfile *f;

		if (!migration_name(de->d_name, &version)) {
			if (strstr(de->d_name, ".sql") != NULL)
				log_warnx("ignoring %s: not named NNNN_name.sql",
				    de->d_name);
			continue;
		}
		if (m->n == cap) {
			cap = cap ? cap * 2 : 16;
			m->files = xrealloc(m->files, cap * sizeof(*m->files));
		}
		f = &m->files[m->n];
		memset(f, 0, sizeof(*f));
		f->version = version;
		f->name = xstrdup(de->d_name);
		m->n++;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f->sql = read_file(path)) == NULL) {
			log_warn("%s", path);
			closedir(d);
			return false;
		}
		if (repo_migrations_checksum(f->sql, f->checksum) != DB_OK) {
			closedir(d);
			return false;
		}
	}
	closedir(d);
	qsort(m->files, m->n, sizeof(*m->files), cmp_mfile);
	for (i = 1; i < m->n; i++)
		if (m->files[i].version == m->files[i - 1].version) {
			log_warnx("migrations %s and %s have the same number",
			    m->files[i - 1].name, m->files[i].name);
			return false;
		}
	return true;
}

/*
 * Mark the applied files; false (with a message per problem) when an
 * applied migration changed or has no file any more.
 */
static bool
match_applied(const struct migration_row *applied, size_t n, struct mset *m,
    bool quiet)
{
	size_t i;
	bool ok = true;

	for (i = 0; i < n; i++) {
		int v = applied[i].version;
		const char *name = applied[i].name;
		const char *sum = applied[i].checksum;
		size_t k;

		for (k = 0; k < m->n; k++)
			if (m->files[k].version == v)
				break;
		if (k == m->n) {
			if (!quiet)
				fprintf(stderr, "blogposter: migration %04d (%s) "
				    "is applied but its file is missing\n", v, name);
			ok = false;
			continue;
		}
		m->files[k].applied = true;
		if (strcmp(m->files[k].checksum, sum) != 0) {
			fprintf(stderr, "blogposter: migration %s was changed "
			    "after it was applied (checksum mismatch); write a "
			    "new migration instead\n", m->files[k].name);
			ok = false;
		}
	}
	return ok;
}

static int
status(struct mset *m)
{
	struct migration_row *applied;
	size_t k, i, n;
	bool ok;

	if (repo_migrations_applied(&applied, &n) != DB_OK)
		return 1;
	ok = match_applied(applied, n, m, false);
	for (k = 0; k < m->n; k++) {
		const char *when = "";

		for (i = 0; i < n; i++)
			if (applied[i].version == m->files[k].version)
				when = applied[i].applied_at;
		printf("%-8s %s%s%s\n", m->files[k].applied ? "applied" :
		    "pending", m->files[k].name, *when ? "  " : "", when);
	}
	free(applied);
	return ok ? 0 : 1;
}

static int
apply_pending(struct mset *m)
{
	struct migration_row *applied;
	size_t k, na;
	int n = 0;

	if (repo_migrations_ensure_table() != DB_OK)
		return 1;
	if (repo_migrations_applied(&applied, &na) != DB_OK)
		return 1;
	if (!match_applied(applied, na, m, false)) {
		free(applied);
		return 1;
	}
	free(applied);
	for (k = 0; k < m->n; k++) {
		char err[2048] = "";
		bool already;

		if (m->files[k].applied)
			continue;
		if (repo_migrations_apply(m->files[k].version,
		    m->files[k].name, m->files[k].checksum, m->files[k].sql,
		    &already, err, sizeof(err)) != DB_OK) {
			fprintf(stderr, "blogposter: migration %s failed, "
			    "nothing of it was applied: %s", m->files[k].name, err);
			if (err[0] && err[strlen(err) - 1] != '\n')
				fputc('\n', stderr);
			return 1;
		}
		if (already)
			continue;	/* by a migrate run beside this one */
		printf("applied %s\n", m->files[k].name);
		n++;
	}
	printf("%d migration%s applied, schema is current\n", n, n == 1 ? "" : "s");
	return 0;
}

int
migrate_main(int argc, char **argv)
{
	struct mset m = { NULL, 0 };
	bool only_status = false;
	int i, rc = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--status") == 0)
			only_status = true;
		else {
			fprintf(stderr, "usage: blogposter migrate [--status]\n");
			return 2;
		}
	}
	if (!db_open(cfg.database_url)) {
		db_print_connect_error("migrate");
		return 1;
	}
	if (load_files(cfg.migrations_dir, &m))
		rc = only_status ? status(&m) : apply_pending(&m);
	mset_free(&m);
	db_close();
	return rc;
}

bool
migrate_check_current(bool *reachable)
{
	struct mset m = { NULL, 0 };
	struct migration_row *applied = NULL;
	bool ok = false;
	size_t k, n;

	*reachable = false;
	if (!db_open(cfg.database_url))
		return false;
	*reachable = true;
	if (!load_files(cfg.migrations_dir, &m))
		goto out;
	if (repo_migrations_applied(&applied, &n) != DB_OK)
		goto out;
	ok = match_applied(applied, n, &m, false);
	for (k = 0; k < m.n; k++)
		if (!m.files[k].applied) {
			fprintf(stderr, "blogposter: migration %s is pending\n",
			    m.files[k].name);
			ok = false;
		}
out:
	free(applied);
	mset_free(&m);
	db_close();
	return ok;
}
