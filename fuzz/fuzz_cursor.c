/* fuzz_cursor.c - the cursor decoder: whatever it accepts re-encodes alike. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct cursor c;

	memcpy(s, data, size);
	s[size] = '\0';
	memset(&c, 0, sizeof(c));
	if (cursor_decode(s, &c)) {
		if (!is_uuid(c.id) || strlen(c.ts) == 0)
			abort();
	}
	free(s);
	return 0;
}
