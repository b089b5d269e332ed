/* main.c - blogposter: subcommand dispatch. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_users.h"
#include "config.h"
#include "db.h"
#include "import.h"
#include "log.h"
#include "migrate.h"
#include "router.h"
#include "server.h"

static int cmd_serve(int, char **);
static int cmd_migrate(int, char **);
static int cmd_check_config(int, char **);
static int cmd_routes(int, char **);

/* The subcommands: name, what it needs, what it does. */
static const struct command {
	const char	*name;
	int		(*fn)(int, char **);
	bool		 needs_secret;
	const char	*usage;
} commands[] = {
	{ "serve", cmd_serve, true,
	  "serve                       run the FastCGI server" },
	{ "migrate", cmd_migrate, false,
	  "migrate [--status]          apply pending schema migrations, or list them" },
	{ "check-config", cmd_check_config, false,
	  "check-config                validate the configuration and print it" },
	{ "create-admin", cmd_create_admin, false,
	  "create-admin --email E      create or promote an admin (password on stdin)" },
	{ "create-user", cmd_create_user, false,
	  "create-user --email E       create a user (password on stdin)" },
	{ "import-json", cmd_import_json, false,
	  "import-json DIR --owner E [--dry-run]\n"
	  "                              import the JSON files of the file-based version" },
	{ "assign-orphans", cmd_assign_orphans, false,
	  "assign-orphans --to E       give the articles without an owner to E" },
	/* hidden (no usage line): the route table, for t/openapi.t */
	{ "routes", cmd_routes, false, NULL },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: blogposter [--env-file PATH] COMMAND [ARGS]\n"
	    "       blogposter --version | --help\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		if (commands[i].usage != NULL)
			fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "\nConfiguration comes from the environment and from the env "
	    "file\n(--env-file PATH, or ./.env when present); the environment "
	    "wins.\n");
}

static int
cmd_serve(int argc, char **argv)
{
	bool reachable;

	if (argc > 1) {
		fprintf(stderr, "usage: blogposter serve\n");
		return 2;
	}
	if (!migrate_check_current(&reachable)) {
		if (reachable) {
			fprintf(stderr, "blogposter: refusing to serve: run "
			    "'blogposter migrate' first\n");
			return 1;
		}
		if (db_connect_error_is_config()) {
			/* a wrong CA or host name: no use serving 503s */
			db_print_connect_error("serve");
			fprintf(stderr, "blogposter: refusing to serve: fix "
			    "DATABASE_URL (or the server's certificate)\n");
			return 1;
		}
		log_warnx("database unreachable at start; serving 503 until it "
		    "is back (migrations not checked)");
	}
	return server_run();
}

static int
cmd_migrate(int argc, char **argv)
{
	return migrate_main(argc, argv);
}

static int
cmd_check_config(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	config_dump();
	return 0;
}

/* Print "METHOD PATTERN" for every route of the route table. */
static int
cmd_routes(int argc, char **argv)
{
	const struct route *t;
	size_t i, n;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: blogposter routes\n");
		return 2;
	}
	t = router_table(&n);
	for (i = 0; i < n; i++)
		printf("%s %s\n", t[i].method, t[i].pattern);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *env_file = NULL;
	char err[512];
	size_t i;
	int argi = 1, rc;

	log_init("blogposter");
	while (argi < argc && argv[argi][0] == '-') {
		if (strcmp(argv[argi], "--version") == 0) {
			printf("blogposter %s\n", PACKAGE_VERSION);
			return 0;
		} else if (strcmp(argv[argi], "--help") == 0 ||
		    strcmp(argv[argi], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[argi], "--env-file") == 0 &&
		    argi + 1 < argc) {
			env_file = argv[argi + 1];
			argi += 2;
		} else if (strncmp(argv[argi], "--env-file=", 11) == 0) {
			env_file = argv[argi] + 11;
			argi++;
		} else {
			fprintf(stderr, "blogposter: unknown option %s\n",
			    argv[argi]);
			usage(stderr);
			return 2;
		}
	}
	if (argi >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, argv[argi]) == 0)
			break;
	if (i == NCOMMANDS) {
		fprintf(stderr, "blogposter: unknown command '%s'\n", argv[argi]);
		usage(stderr);
		return 2;
	}
	if (!config_load(env_file, err, sizeof(err)) ||
	    (commands[i].needs_secret && !config_require_secret(err,
	    sizeof(err)))) {
		fprintf(stderr, "blogposter: configuration error: %s\n", err);
		config_free();
		return 1;
	}
	rc = commands[i].fn(argc - argi, argv + argi);
	config_free();
	return rc;
}
