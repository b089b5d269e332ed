/* slug.c - slugs from titles (see slug.h). */
#include "autoconf.h"

#include <string.h>

#include "slug.h"

void
slug_from_title(const char *title, char *out)
{
	size_t n = 0;
	int dash = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)title; *p != '\0' && n < SLUG_MAX; p++) {
		unsigned char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && n > 0) {
				out[n++] = '-';
				if (n == SLUG_MAX)
					break;
			}
			dash = 0;
			out[n++] = (char)c;
		} else
			dash = 1;
	}
	/* a cut at SLUG_MAX may end on the separator */
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	if (n == 0)
		memcpy(out, SLUG_DEFAULT, sizeof(SLUG_DEFAULT));
}
