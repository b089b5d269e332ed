/* test_sha256.c - SHA-256 (libcrypto) against sha256sum, around the padding's edges. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "tap.h"
#include "util.h"

/* n times 'a' */
static void
as(size_t n, const char *want)
{
	char *s = malloc(n + 1), got[2 * SHA256_LEN + 1], name[40];
	unsigned char d[SHA256_LEN];

	memset(s, 'a', n);
	s[n] = '\0';
	digest_sha256(s, n, d);
	hex_encode(d, SHA256_LEN, got);
	snprintf(name, sizeof(name), "%zu times 'a'", n);
	is_str(got, want, name);
	free(s);
}

int
main(void)
{
	char b[SHA256_BYTEA_MAX];

	as(0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	as(3, "9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0");
	as(55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	as(56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
	as(63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
	as(64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
	as(119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
	as(120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
	as(1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

	/* an API key, as PostgreSQL's sha256(convert_to(key, 'UTF8')) has it */
	digest_sha256_bytea("bp_TP7R2o15d1tSjMUK1Brqbt0gIiG7XBGgw9n8H_FuXSY", b);
	is_str(b, "\\xb0b57100e8df2fb56eafbc17252fbcfb32c1bac965d9dd27264b601795dbcbdf",
	    "an API key as a bytea parameter");
	return tap_done();
}
