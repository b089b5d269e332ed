/*
 * fuzz_request.c - the request layer without a database: method and path
 * through the route table, the query string through the parameter
 * parser, the content type, the body through the JSON checks and then
 * the strict JSON checks and the field-table validator with every field
 * type.
 *
 * Input: METHOD \n TARGET \n CONTENT-TYPE \n BODY
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "http.h"
#include "json.h"
#include "router.h"
#include "validate.h"

static const char *const statuses[] = { "draft", "published", NULL };

static const struct field fields[] = {
	{ "title", FT_STRING, false, false, 1, 500, NULL },
	{ "slug", FT_SLUG, false, false, 1, 500, NULL },
	{ "status", FT_ENUM, false, false, 0, 0, statuses },
	{ "seo_score", FT_NUMBER, false, true, 0, 100, NULL },
	{ "wp_post_id", FT_INT, false, true, 0, INT64_MAX, NULL },
	{ "wp_url", FT_URL, false, true, 1, 2000, NULL },
	{ "cost", FT_MONEY, false, false, 0, 0, NULL },
	{ "article_id", FT_UUID, false, true, 0, 0, NULL },
	{ "flag", FT_BOOL, false, false, 0, 0, NULL },
	{ "embedding", FT_EMBEDDING, false, true, 0, 0, NULL },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *const qnames[] = { "limit", "cursor", "status", "q",
	"month", "months", "all", NULL };

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

/* Next line of in[*off..n) as a new string. */
static char *
line(const uint8_t *in, size_t n, size_t *off)
{
	size_t s = *off, e = s;
	char *out;

	while (e < n && in[e] != '\n')
		e++;
	out = malloc(e - s + 1);
	memcpy(out, in + s, e - s);
	out[e - s] = '\0';
	*off = e < n ? e + 1 : e;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, i;
	char *method = line(data, size, &off);
	char *target = line(data, size, &off);
	char *ctype = line(data, size, &off);
	const char *body = (const char *)data + off;
	size_t blen = size - off;
	const struct route *rt;
	char *params[ROUTE_MAX_PARAMS];
	char allow[64];
	struct req r;
	struct fval vals[NFIELDS];
	char *q = strchr(target, '?');
	bool bad;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.query = q ? q + 1 : "";
	if (q != NULL)
		*q = '\0';
	r.path = target;
	if (router_match(method, target, &rt, params, ROUTE_MAX_PARAMS, allow,
	    sizeof(allow)) == ROUTE_FOUND)
		for (i = 0; i < ROUTE_MAX_PARAMS; i++)
			free(params[i]);
	for (i = 0; qnames[i] != NULL; i++)
		(void)http_query(&r, qnames[i], &bad);
	(void)http_is_json_type(ctype);
	if (json_parse_body(body, blen, &r.json) == BODY_OK &&
	    json_strict(body, blen, r.json) == NULL)
		(void)validate_body(&r, fields, NFIELDS, vals);

	json_object_put(r.json);
	for (i = 0; i < r.nallocs; i++)
		free(r.allocs[i]);
	free(r.allocs);
	buf_free(&r.out);
	buf_free(&r.hdrs);
	free(method);
	free(target);
	free(ctype);
	return 0;
}
