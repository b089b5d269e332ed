/* import.h - the legacy JSON import (import-json) and assign-orphans. */
#ifndef BP_IMPORT_H
#define BP_IMPORT_H

#include "slug.h"

/*
 * blogposter import-json DATA_DIR --owner EMAIL [--dry-run]
 * Exit status: 0 imported (or dry run passed), 1 bad files or a failure
 * (nothing written), 2 usage.
 */
int cmd_import_json(int argc, char **argv);

/*
 * blogposter assign-orphans --to EMAIL
 * Exit status: 0 done, 1 failed (nothing changed), 2 usage.
 */
int cmd_assign_orphans(int argc, char **argv);

/*
 * The n-th slug an article with base slug base may get, as the API's
 * articles_create_auto makes them: base itself for n = 1, otherwise base
 * cut so that "base-n" fits in SLUG_MAX characters, trailing '-' removed,
 * then "-n".
 */
void import_slug_candidate(const char *base, long n, char out[SLUG_MAX + 1]);

#endif
