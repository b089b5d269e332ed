/*
 * crypt_rate.c - what login can reach at best: crypt_rn calls per second
 * with libxcrypt's preferred method (as cred_hash_password makes new
 * hashes), in PROCS processes at once for SECONDS.
 *
 *   crypt_rate PROCS SECONDS    prints "crypt_rn_per_s <rate>"
 *   crypt_rate --hash           reads a password on stdin, prints its hash
 *
 * Built by bench/run: cc -O2 -o crypt_rate crypt_rate.c -lcrypt
 */
#include <sys/wait.h>

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *
hash(const char *pw, struct crypt_data *cd)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	/* NULL prefix: the preferred method; NULL rbytes: getrandom */
	if (crypt_gensalt_rn(NULL, 0, NULL, 0, setting, sizeof(setting)) == NULL ||
	    crypt_rn(pw, setting, cd, sizeof(*cd)) == NULL || cd->output[0] == '*') {
		perror("crypt");
		exit(1);
	}
	return cd->output;
}

int
main(int argc, char **argv)
{
	static struct crypt_data cd;
	int procs, p, fds[2];
	double secs, total = 0;

	if (argc == 2 && strcmp(argv[1], "--hash") == 0) {
		char pw[256];

		if (fgets(pw, sizeof(pw), stdin) == NULL)
			return 1;
		pw[strcspn(pw, "\n")] = '\0';
		printf("%s\n", hash(pw, &cd));
		return 0;
	}
	if (argc != 3 || (procs = atoi(argv[1])) < 1 || (secs = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: crypt_rate PROCS SECONDS | crypt_rate --hash\n");
		return 2;
	}
	/* Verifying a login hashes with the stored setting: do the same. */
	char stored[CRYPT_OUTPUT_SIZE];
	snprintf(stored, sizeof(stored), "%s", hash("bench-password-123", &cd));
	if (pipe(fds) == -1)
		return 1;
	for (p = 0; p < procs; p++)
		if (fork() == 0) {
			double t0 = now(), n = 0;

			while (now() - t0 < secs) {
				crypt_rn("bench-password-123", stored, &cd, sizeof(cd));
				n++;
			}
			n /= now() - t0;
			if (write(fds[1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
	close(fds[1]);
	for (p = 0; p < procs; p++) {
		double n;

		if (read(fds[0], &n, sizeof(n)) == sizeof(n))
			total += n;
	}
	while (wait(NULL) > 0)
		;
	printf("crypt_rn_per_s %.1f\n", total);
	return 0;
}
