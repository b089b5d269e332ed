/*
 * replay.c - runs a fuzz target's function over files, without libFuzzer:
 * `make check` replays the seed corpus and every input a fuzzer ever
 * crashed on (fuzz/regress/TARGET/), so a fixed crash stays fixed.
 * Usage: replay_TARGET DIR...  Prints a TAP line per file (no plan: the
 * caller, run-replays.sh, adds it).
 */
#include "autoconf.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int
main(int argc, char **argv)
{
	int i, n = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *de;

		if (d == NULL) {
			printf("not ok - cannot open %s\n", argv[i]);
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			char path[4096];
			FILE *f;
			uint8_t *buf;
			long len;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			if ((f = fopen(path, "rb")) == NULL)
				continue;
			fseek(f, 0, SEEK_END);
			len = ftell(f);
			rewind(f);
			buf = malloc(len > 0 ? (size_t)len : 1);
			if (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)
				len = 0;
			fclose(f);
			LLVMFuzzerTestOneInput(buf, (size_t)(len > 0 ? len : 0));
			free(buf);
			printf("ok - %s\n", path);
			n++;
		}
		closedir(d);
	}
	return n > 0 ? 0 : 1;
}
