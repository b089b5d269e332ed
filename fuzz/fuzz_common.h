/* fuzz_common.h - the configuration every fuzz target runs with. */
#ifndef BP_FUZZ_COMMON_H
#define BP_FUZZ_COMMON_H

#include <string.h>

#include "config.h"
#include "log.h"

static void
fuzz_config(void)
{
	static char key[] = "fuzzing-secret-key-0123456789abcdef";

	log_init("fuzz");
	cfg.secret_key = key;
	cfg.secret_key_len = strlen(key);
	cfg.embedding_dim = 4;
	cfg.max_body_bytes = 1 << 20;
	cfg.jwt_ttl = 3600;
	strcpy(cfg.max_monthly_cost, "50.0000");
	cfg.max_articles = 100;
}

#endif
