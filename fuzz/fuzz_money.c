/* fuzz_money.c - the money parser: whatever it accepts is normalised. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[MONEY_MAX], again[MONEY_MAX];

	if (money_parse((const char *)data, size, out)) {
		size_t n = strlen(out);

		/* the normal form parses to itself, with 4 decimals */
		if (!money_parse(out, n, again) || strcmp(out, again) != 0 ||
		    n < 6 || out[n - 5] != '.')
			abort();
	}
	return 0;
}
