/* fuzz_token.c - the front checks of credentials: JWT and API key. */
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char sub[37];
	int64_t ver;

	memcpy(s, data, size);
	s[size] = '\0';
	if (cred_check_token(s, sub, &ver, NULL) && strlen(sub) != 36)
		abort();
	(void)cred_api_key_format(s);
	free(s);
	return 0;
}
