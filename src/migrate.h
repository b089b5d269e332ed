/* migrate.h - schema migrations from sql/migrations/NNNN_name.sql. */
#ifndef BP_MIGRATE_H
#define BP_MIGRATE_H

#include <stdbool.h>

/* blogposter migrate [--status]: returns the exit status. */
int migrate_main(int argc, char **argv);

/*
 * For serve: true when every migration file is applied (and none was
 * changed).  Otherwise prints which are pending or wrong and returns false.
 * *reachable is false when the database could not be asked.
 */
bool migrate_check_current(bool *reachable);

#endif
