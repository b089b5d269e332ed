/* money.c - exact money as text. */
#include "autoconf.h"

#include <string.h>

#include "money.h"

bool
money_parse(const char *s, size_t len, char out[MONEY_MAX])
{
	size_t i = 0, ilen, flen = 0, o = 0;
	const char *ip, *fp = NULL;

	if (s == NULL || len == 0)
		return false;
	ip = s;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	ilen = i;
	if (ilen == 0)
		return false;
	if (i < len) {
		if (s[i] != '.')
			return false;
		fp = s + ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		flen = (size_t)(s + i - fp);
		if (i != len || flen == 0 || flen > 4)
			return false;
	}
	/* skip leading zeros, keep one digit */
	while (ilen > 1 && *ip == '0') {
		ip++;
		ilen--;
	}
	if (ilen > 6)
		return false;
	memcpy(out, ip, ilen);
	o = ilen;
	out[o++] = '.';
	for (i = 0; i < 4; i++)
		out[o++] = i < flen ? fp[i] : '0';
	out[o] = '\0';
	return true;
}
