/*
 * test_token.c - token signatures: checked here in constant time before
 * libjwt reads the token.  jwt_decode is wrapped to count its calls: a
 * token whose signature is wrong must never reach it.
 */
#include "autoconf.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "config.h"
#include "credential.h"
#include "log.h"
#include "tap.h"

static int decodes;

/* The program's jwt_decode comes first: count, then call libjwt's. */
int
jwt_decode(jwt_t **jwt, const char *token, const unsigned char *key,
    int key_len)
{
	int (*real)(jwt_t **, const char *, const unsigned char *, int);

	decodes++;
	*(void **)&real = dlsym(RTLD_NEXT, "jwt_decode");
	if (real == NULL) {
		fprintf(stderr, "no jwt_decode in libjwt\n");
		exit(2);
	}
	return real(jwt, token, key, key_len);
}

static char key_a[] = "unit-test-secret-key-aaaaaaaaaaaaaaaa";
static char key_b[] = "unit-test-secret-key-bbbbbbbbbbbbbbbb";

static void
use_key(char *k)
{
	cfg.secret_key = k;
	cfg.secret_key_len = strlen(k);
}

static const char uid[] = "0b7e2c1a-5d4f-4e3a-9c8b-7a6f5e4d3c2b";

/* The token must be refused, and libjwt must not have decoded it. */
static void
refused(const char *tok, const char *name)
{
	char sub[37];
	int64_t ver;
	int before = decodes;

	ok(!cred_check_token(tok, sub, &ver, NULL), "%s: refused", name);
	ok(decodes == before, "%s: refused before libjwt reads it", name);
}

static char
other(char c)
{
	return c == 'A' ? 'B' : 'A';
}

int
main(void)
{
	char *good, *t, *dot, sub[37];
	int64_t ver = -1, exp, exp2 = 0;
	size_t len, siglen;

	log_init("test_token");
	cfg.jwt_ttl = 3600;
	use_key(key_a);

	good = cred_issue_token(uid, 7, &exp);
	len = strlen(good);
	dot = strrchr(good, '.');
	siglen = strlen(dot + 1);
	ok(siglen == TOKEN_SIG_LEN, "an HS256 signature has %d characters",
	    TOKEN_SIG_LEN);
	ok(cred_check_token(good, sub, &ver, &exp2), "a valid token is accepted");
	ok(decodes == 1, "libjwt read its claims (the wrapper counts)");
	is_str(sub, uid, "its sub");
	ok(ver == 7 && exp2 == exp, "its ver and exp");
	ok(cred_token_signature_ok(good, (size_t)(dot - good), dot + 1,
	    siglen), "its signature is good");

	t = malloc(len + 2);

	strcpy(t, good);
	t[dot - good + 1] = other(t[dot - good + 1]);
	refused(t, "signature's first byte changed");

	strcpy(t, good);
	t[len - 1] = other(t[len - 1]);
	refused(t, "signature's last byte changed");

	strcpy(t, good);
	t[len - 1] = '\0';
	refused(t, "signature truncated by one");

	strcpy(t, good);
	t[dot - good + 1 + 10] = '\0';
	refused(t, "signature truncated to 10");

	strcpy(t, good);
	t[len] = 'A';
	t[len + 1] = '\0';
	refused(t, "signature one longer");

	strcpy(t, good);
	t[dot - good + 1] = '\0';
	refused(t, "signature empty");

	strcpy(t, good);
	t[1] = other(t[1]);
	refused(t, "header changed");

	strcpy(t, good);
	t[dot - good - 1] = other(t[dot - good - 1]);
	refused(t, "payload changed");

	use_key(key_b);
	refused(good, "signed with another key");
	{
		char *tb = cred_issue_token(uid, 7, &exp);

		ok(cred_check_token(tb, sub, &ver, NULL),
		    "the other key's own token is accepted under it");
		use_key(key_a);
		refused(tb, "token of another key");
		free(tb);
	}

	cfg.secret_key_len = 0;
	ok(!cred_check_token(good, sub, &ver, NULL), "no key: nothing accepted");
	use_key(key_a);
	ok(cred_check_token(good, sub, &ver, NULL), "valid again under its key");

	free(t);
	free(good);
	return tap_done();
}
