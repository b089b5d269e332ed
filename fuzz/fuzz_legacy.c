/*
 * fuzz_legacy.c - the legacy-file reader: one input parsed both as an
 * article file and as a pipeline file, and as a timestamp.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "legacy.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_config();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct legacy_article a;
	struct legacy_pipeline p;
	char reason[256], *s;
	int64_t us;

	memset(&a, 0, sizeof(a));
	if (legacy_parse_article((const char *)data, size, &a, reason,
	    sizeof(reason)))
		legacy_article_free(&a);
	memset(&p, 0, sizeof(p));
	if (legacy_parse_pipeline((const char *)data, size, &p, reason,
	    sizeof(reason)))
		legacy_pipeline_free(&p);
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (legacy_parse_time(s, &us)) {
		char out[LEGACY_TS_MAX];

		legacy_format_time(us, out);
		(void)legacy_month(us);
	}
	free(s);
	return 0;
}
