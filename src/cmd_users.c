/*
 * cmd_users.c - the operator's way in: create-admin and create-user.
 *
 * The password is read from standard input (one line; with echo off when
 * it is a terminal), never from the command line, where ps(1) and the
 * shell history would show it.  A new account gets an API key, printed
 * once.  create-admin on an existing account promotes it (and re-activates
 * it); it keeps its password and API key unless a password is piped, which
 * then replaces the password and revokes the account's tokens.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth.h"
#include "cmd_users.h"
#include "config.h"
#include "credential.h"
#include "db.h"
#include "repo.h"
#include "user.h"

/* Longest line read as a password; anything longer is refused anyway. */
#define PW_LINE_MAX	4096

static void
usage(FILE *f, const char *cmd)
{
	bool admin = strcmp(cmd, "create-admin") == 0;

	fprintf(f, "usage: blogposter %s --email EMAIL < password-file\n\n", cmd);
	if (admin)
		fprintf(f,
		    "Creates an administrator, or makes the existing account with\n"
		    "this email an active administrator.\n\n"
		    "The password is the first line of standard input (typed with\n"
		    "echo off on a terminal), 12 to 128 characters; it is never\n"
		    "taken from the command line.  A new account needs one.  An\n"
		    "existing account keeps its password and API key when nothing\n"
		    "is piped; a piped password replaces it and signs the account\n"
		    "out everywhere.\n\n"
		    "A new account's API key is printed once, on standard output.\n");
	else
		fprintf(f,
		    "Creates a user (role \"user\").  The password is the first\n"
		    "line of standard input (typed with echo off on a terminal),\n"
		    "12 to 128 characters; it is never taken from the command\n"
		    "line.  An email that already has an account is refused.\n\n"
		    "The new account's API key is printed once, on standard output.\n");
}

/*
 * Parse "--email E" / "--email=E".  Returns 0 with *email set, or the exit
 * status (after a message): 2 for usage errors, 0 with *email NULL after
 * --help.
 */
static int
parse_args(int argc, char **argv, const char **email)
{
	int i;

	*email = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout, argv[0]);
			return 0;
		}
		if (strncmp(a, "--password", 10) == 0 || strcmp(a, "-p") == 0) {
			fprintf(stderr, "blogposter %s: passwords are never taken "
			    "on the command line (ps and the shell history would "
			    "show them): give it on standard input\n", argv[0]);
			return 2;
		}
		if (strcmp(a, "--email") == 0 && i + 1 < argc)
			*email = argv[++i];
		else if (strncmp(a, "--email=", 8) == 0)
			*email = a + 8;
		else {
			fprintf(stderr, "blogposter %s: unexpected argument '%s'\n",
			    argv[0], a);
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (*email == NULL) {
		usage(stderr, argv[0]);
		return 2;
	}
	return 0;
}

/*
 * The first line of standard input, without its line end, in pw (size
 * PW_LINE_MAX + 1).  Returns the length (0: nothing given), -1 on a read
 * error or a NUL byte in the line, -2 when the line is too long.
 */
static long
read_password(char *pw, size_t pwsz)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) == 1;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long rc;

	pw[0] = '\0';
	if (tty) {
		fprintf(stderr, "Password: ");
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		} else
			tty = false;
	}
	len = getline(&line, &cap, stdin);
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (len < 0) {
		rc = ferror(stdin) ? -1 : 0;
		goto out;
	}
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (memchr(line, '\0', (size_t)len) != NULL)
		rc = -1;
	else if ((size_t)len >= pwsz)
		rc = -2;
	else {
		memcpy(pw, line, (size_t)len + 1);
		rc = (long)len;
	}
out:
	if (line != NULL) {
		explicit_bzero(line, cap);
		free(line);
	}
	return rc;
}

static void
print_user(const char *what, const struct user *u)
{
	printf("%s %s (id %s, role %s)\n", what, u->email, u->id,
	    u->admin ? "admin" : "user");
}

static int
create(int argc, char **argv, bool admin)
{
	const char *arg_email;
	char email[USER_EMAIL_MAX];
	char pw[PW_LINE_MAX + 1];
	char hash[CRYPT_OUTPUT_SIZE];
	char key[API_KEY_LEN + 1], prefix[API_KEY_PREFIX + 1];
	struct user *u = NULL;
	enum db_status e;
	long n;
	int rc = 1;

	if ((rc = parse_args(argc, argv, &arg_email)) != 0 || arg_email == NULL)
		return rc;
	rc = 1;
	if (!user_email_normalize(arg_email, email)) {
		fprintf(stderr, "blogposter %s: '%s' is not a valid email address "
		    "(at most 254 characters, one @, no spaces)\n", argv[0],
		    arg_email);
		return 1;
	}
	if ((n = read_password(pw, sizeof(pw))) == -1) {
		fprintf(stderr, "blogposter %s: cannot read the password from "
		    "standard input (read error or NUL byte)\n", argv[0]);
		goto out;
	}
	if (n == -2 || (n > 0 && !cred_password_ok(pw))) {
		fprintf(stderr, "blogposter %s: the password must be %d to %d "
		    "characters of UTF-8\n", argv[0], PASSWORD_MIN, PASSWORD_MAX);
		goto out;
	}
	if (n > 0 && !cred_hash_password(pw, hash)) {
		fprintf(stderr, "blogposter %s: cannot hash the password\n",
		    argv[0]);
		goto out;
	}
	if (!db_open(cfg.database_url)) {
		db_print_connect_error(argv[0]);
		goto out;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		perror("calloc");
		goto out;
	}
	e = repo_users_by_email(email, u);
	if (e == DB_EMPTY) {
		if (n == 0) {
			fprintf(stderr, "blogposter %s: no password on standard "
			    "input: a new account needs one\n", argv[0]);
			goto out;
		}
		cred_new_api_key(key, prefix);
		e = repo_users_create(email, hash, admin, key, prefix, u);
		if (e == DB_OK) {
			print_user("created", u);
			printf("api_key: %s\n", key);
			printf("(the API key is shown only this once)\n");
			rc = 0;
			goto out;
		}
		if (e != DB_UNIQUE)
			goto db_error;
		/* created by someone else meanwhile: as an existing account */
	} else if (e != DB_OK)
		goto db_error;
	if (!admin) {
		fprintf(stderr, "blogposter %s: an account with the email %s "
		    "already exists\n", argv[0], email);
		goto out;
	}
	if ((e = repo_users_promote(email, n > 0 ? hash : NULL, u)) != DB_OK)
		goto db_error;
	print_user("promoted", u);
	printf("password %s; API key %s\n", n > 0 ?
	    "replaced (every session signed out)" : "unchanged",
	    u->api_key_prefix[0] ? "unchanged" : "none (create one with "
	    "POST /api/v1/me/api-key)");
	rc = 0;
	goto out;
db_error:
	fprintf(stderr, "blogposter %s: database error (see above); nothing "
	    "changed\n", argv[0]);
out:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(hash, sizeof(hash));
	explicit_bzero(key, sizeof(key));
	free(u);
	db_close();
	fflush(stdout);
	return rc;
}

int
cmd_create_admin(int argc, char **argv)
{
	return create(argc, argv, true);
}

int
cmd_create_user(int argc, char **argv)
{
	return create(argc, argv, false);
}
