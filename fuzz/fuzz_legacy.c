/*
 * fuzz_legacy.c - the legacy-file reader: one input parsed both as an
 * article file and as a pipeline file, and as a timestamp, whose two
 * text forms must read back as the same instant (RFC 3339: to the
 * second).
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "isotime.h"
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
	if (isotime_parse(s, &us)) {
		char pg[ISOTIME_PG_MAX], rfc[ISOTIME_RFC3339_MAX];
		int64_t back, sec = us - ((us % US_PER_SEC) + US_PER_SEC) %
		    US_PER_SEC;

		isotime_format_pg(us, pg);
		if (!isotime_parse(pg, &back) || back != us)
			abort();
		isotime_format_rfc3339(us, rfc);
		if (strlen(rfc) != ISOTIME_RFC3339_MAX - 1 ||
		    !isotime_parse(rfc, &back) || back != sec)
			abort();
		(void)isotime_month(us);
	}
	free(s);
	return 0;
}
