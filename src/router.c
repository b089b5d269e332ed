/*
 * router.c - the one route table.  Every endpoint of the API is a row
 * here: method, path pattern, handler and what the dispatcher must check
 * before the handler runs (credentials, role, a JSON body).
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "http.h"
#include "router.h"
#include "util.h"

/*
 * A GET changes nothing: auth_request lets a GET's handler run with the
 * credential check still pending (it goes with the first query), and
 * discards the answer when the check fails, so a GET handler that wrote
 * would write for a revoked credential.
 */
static const struct route routes[] = {
	{ "GET", "/api/v1/health", api_health, RF_NODB, "health" },
	/* articles: api_articles.c */
	{ "GET", "/api/v1/articles", api_articles_list, RF_AUTH,
	  "articles_list" },
	{ "POST", "/api/v1/articles", api_articles_create, RF_AUTH | RF_BODY,
	  "articles_create" },
	{ "GET", "/api/v1/articles/{id}", api_articles_get, RF_AUTH,
	  "articles_get" },
	{ "PATCH", "/api/v1/articles/{id}", api_articles_update,
	  RF_AUTH | RF_BODY, "articles_update" },
	{ "DELETE", "/api/v1/articles/{id}", api_articles_delete, RF_AUTH,
	  "articles_delete" },
	{ "GET", "/api/v1/articles/{id}/related", api_articles_related, RF_AUTH,
	  "articles_related" },
	/* pipelines: api_pipelines.c */
	{ "GET", "/api/v1/pipelines", api_pipelines_list, RF_AUTH,
	  "pipelines_list" },
	{ "POST", "/api/v1/pipelines", api_pipelines_start, RF_AUTH | RF_BODY,
	  "pipelines_start" },
	{ "GET", "/api/v1/pipelines/{id}", api_pipelines_get, RF_AUTH,
	  "pipelines_get" },
	{ "PATCH", "/api/v1/pipelines/{id}", api_pipelines_end,
	  RF_AUTH | RF_BODY, "pipelines_end" },
	/* usage: api_usage.c */
	{ "GET", "/api/v1/usage", api_usage_get, RF_AUTH, "usage_get" },
	{ "GET", "/api/v1/usage/history", api_usage_history, RF_AUTH,
	  "usage_history" },
	/* accounts: api_auth.c, api_me.c */
	{ "POST", "/api/v1/auth/register", api_auth_register, RF_BODY,
	  "auth_register" },
	{ "POST", "/api/v1/auth/login", api_auth_login, RF_BODY, "auth_login" },
	{ "POST", "/api/v1/auth/logout", api_auth_logout, RF_AUTH,
	  "auth_logout" },
	{ "GET", "/api/v1/me", api_me_get, RF_AUTH, "me_get" },
	{ "DELETE", "/api/v1/me", api_me_delete, RF_AUTH | RF_BODY,
	  "me_delete" },
	{ "PUT", "/api/v1/me/password", api_me_password, RF_AUTH | RF_BODY,
	  "me_password" },
	{ "POST", "/api/v1/me/api-key", api_me_key_create, RF_AUTH,
	  "me_api_key_create" },
	{ "DELETE", "/api/v1/me/api-key", api_me_key_delete, RF_AUTH,
	  "me_api_key_delete" },
	/* administration: api_admin.c */
	{ "GET", "/api/v1/admin/users", api_admin_users_list, RF_AUTH | RF_ADMIN,
	  "admin_users_list" },
	{ "PATCH", "/api/v1/admin/users/{id}", api_admin_users_patch,
	  RF_AUTH | RF_ADMIN | RF_BODY, "admin_users_patch" },
	{ "GET", "/api/v1/admin/usage", api_admin_usage, RF_AUTH | RF_ADMIN,
	  "admin_usage" },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

const struct route *
router_table(size_t *n)
{
	*n = NROUTES;
	return routes;
}

/*
 * Match path against pattern segment by segment.  Returns true and fills
 * params (malloc'ed copies) when every segment matches.
 */
static bool
match_path(const char *pattern, const char *path, char **params,
    size_t nparams)
{
	const char *p = pattern, *q = path;
	size_t np = 0;

	while (*p != '\0' && *q != '\0') {
		if (*p != '/' || *q != '/')
			goto fail;
		p++;
		q++;
		if (strncmp(p, "{id}", 4) == 0 && (p[4] == '/' || p[4] == '\0')) {
			size_t len = strcspn(q, "/");

			if (len == 0 || np >= nparams)
				goto fail;
			params[np++] = xstrndup(q, len);
			p += 4;
			q += len;
		} else {
			size_t lp = strcspn(p, "/"), lq = strcspn(q, "/");

			if (lp != lq || memcmp(p, q, lp) != 0)
				goto fail;
			p += lp;
			q += lq;
		}
	}
	if (*p == '\0' && *q == '\0')
		return true;
fail:
	while (np > 0)
		free(params[--np]), params[np] = NULL;
	return false;
}

enum route_match
router_match(const char *method, const char *path, const struct route **route,
    char **params, size_t nparams, char *allow, size_t allowsz)
{
	char *scratch[REQ_MAX_PARAMS + 1] = { NULL };
	size_t i, alen = 0, k;
	bool path_known = false;

	*route = NULL;
	for (i = 0; i < nparams; i++)
		params[i] = NULL;
	if (allowsz > 0)
		allow[0] = '\0';
	for (i = 0; i < NROUTES; i++) {
		if (strcmp(routes[i].method, method) == 0 &&
		    match_path(routes[i].pattern, path, params, nparams)) {
			*route = &routes[i];
			return ROUTE_FOUND;
		}
	}
	/* the path may exist with other methods: 405 with Allow */
	for (i = 0; i < NROUTES; i++) {
		if (!match_path(routes[i].pattern, path, scratch,
		    REQ_MAX_PARAMS + 1))
			continue;
		for (k = 0; k <= REQ_MAX_PARAMS; k++) {
			free(scratch[k]);
			scratch[k] = NULL;
		}
		if (strstr(allow, routes[i].method) != NULL)
			continue;
		path_known = true;
		if (alen + strlen(routes[i].method) + 3 < allowsz) {
			alen += (size_t)snprintf(allow + alen, allowsz - alen,
			    "%s%s", alen ? ", " : "", routes[i].method);
		}
	}
	return path_known ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}
