/*
 * fuzz_auth.c - the request's credential headers: the Cookie header's
 * bp_session value and the Authorization header's Bearer token, each then
 * through the token check.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "credential.h"
#include "fuzz_common.h"

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

/* a token found in a header goes on to the token check, as in a request */
static void
check(const char *tok, size_t len)
{
	char *t = malloc(len + 1), sub[37];
	int64_t ver;

	memcpy(t, tok, len);
	t[len] = '\0';
	(void)cred_check_token(t, sub, &ver, NULL);
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *v;
	size_t len;

	memcpy(s, data, size);
	s[size] = '\0';
	if ((v = auth_cookie_value(s, &len)) != NULL) {
		if (v < s || v + len > s + size)
			abort();
		check(v, len);
	}
	if ((v = auth_bearer_token(s)) != NULL) {
		if (v < s || v > s + size)
			abort();
		check(v, strlen(v));
	}
	free(s);
	return 0;
}
