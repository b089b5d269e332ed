/*
 * router.c - the one route table.  Every endpoint of the API is a row
 * here, in the order of enum route_id: method, path pattern, handler, and
 * what the dispatcher must check before the handler runs (credentials,
 * role, the {id}, a JSON body and its field table).
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "router.h"
#include "util.h"

/*
 * A GET changes nothing: auth_request lets a GET's handler run with the
 * credential check still pending (it goes with the first query), and
 * discards the answer when the check fails, so a GET handler that wrote
 * would write for a revoked credential.  A write does the same only when
 * flagged RF_DEFER: its statements then go with the check, which stops
 * them (db_guard).
 */
static const struct route routes[ROUTE__MAX] = {
	/* ROUTE_HEALTH */
	{ "GET", "/api/v1/health", api_health,
	  RF_NODB, NULL, "health" },
	/* ROUTE_ARTICLES_LIST */
	{ "GET", "/api/v1/articles", api_articles_list,
	  RF_AUTH, NULL, "articles_list" },
	/* ROUTE_ARTICLES_CREATE */
	{ "POST", "/api/v1/articles", api_articles_create,
	  RF_AUTH | RF_DEFER, &api_articles_create_body, "articles_create" },
	/* ROUTE_ARTICLES_GET */
	{ "GET", "/api/v1/articles/{id}", api_articles_get,
	  RF_AUTH | RF_ID, NULL, "articles_get" },
	/* ROUTE_ARTICLES_UPDATE */
	{ "PATCH", "/api/v1/articles/{id}", api_articles_update,
	  RF_AUTH | RF_ID | RF_DEFER, &api_articles_update_body, "articles_update" },
	/* ROUTE_ARTICLES_DELETE */
	{ "DELETE", "/api/v1/articles/{id}", api_articles_delete,
	  RF_AUTH | RF_ID | RF_DEFER, NULL, "articles_delete" },
	/* ROUTE_ARTICLES_RELATED */
	{ "GET", "/api/v1/articles/{id}/related", api_articles_related,
	  RF_AUTH | RF_ID, NULL, "articles_related" },
	/* ROUTE_PIPELINES_LIST */
	{ "GET", "/api/v1/pipelines", api_pipelines_list,
	  RF_AUTH, NULL, "pipelines_list" },
	/* ROUTE_PIPELINES_START */
	{ "POST", "/api/v1/pipelines", api_pipelines_start,
	  RF_AUTH | RF_DEFER, &api_pipelines_start_body, "pipelines_start" },
	/* ROUTE_PIPELINES_GET */
	{ "GET", "/api/v1/pipelines/{id}", api_pipelines_get,
	  RF_AUTH | RF_ID, NULL, "pipelines_get" },
	/* ROUTE_PIPELINES_END */
	{ "PATCH", "/api/v1/pipelines/{id}", api_pipelines_end,
	  RF_AUTH | RF_ID | RF_DEFER | RF_COST_ROLE, &api_pipelines_end_body, "pipelines_end" },
	/* ROUTE_USAGE_GET */
	{ "GET", "/api/v1/usage", api_usage_get,
	  RF_AUTH, NULL, "usage_get" },
	/* ROUTE_USAGE_HISTORY */
	{ "GET", "/api/v1/usage/history", api_usage_history,
	  RF_AUTH, NULL, "usage_history" },
	/* ROUTE_AUTH_REGISTER */
	{ "POST", "/api/v1/auth/register", api_auth_register,
	  RF_SIGNUP, &api_auth_register_body, "auth_register" },
	/* ROUTE_AUTH_LOGIN */
	{ "POST", "/api/v1/auth/login", api_auth_login,
	  0, &api_auth_login_body, "auth_login" },
	/* ROUTE_AUTH_LOGOUT */
	{ "POST", "/api/v1/auth/logout", api_auth_logout,
	  RF_AUTH, NULL, "auth_logout" },
	/* ROUTE_ME_GET */
	{ "GET", "/api/v1/me", api_me_get,
	  RF_AUTH, NULL, "me_get" },
	/* ROUTE_ME_DELETE */
	{ "DELETE", "/api/v1/me", api_me_delete,
	  RF_AUTH, &api_me_delete_body, "me_delete" },
	/* ROUTE_ME_PASSWORD */
	{ "PUT", "/api/v1/me/password", api_me_password,
	  RF_AUTH, &api_me_password_body, "me_password" },
	/* ROUTE_ME_KEY_CREATE */
	{ "POST", "/api/v1/me/api-key", api_me_key_create,
	  RF_AUTH, NULL, "me_api_key_create" },
	/* ROUTE_ME_KEY_DELETE */
	{ "DELETE", "/api/v1/me/api-key", api_me_key_delete,
	  RF_AUTH, NULL, "me_api_key_delete" },
	/* ROUTE_ME_EXPORT */
	{ "GET", "/api/v1/me/export", api_me_export,
	  RF_AUTH, NULL, "me_export" },
	/* ROUTE_ADMIN_USERS_LIST */
	{ "GET", "/api/v1/admin/users", api_admin_users_list,
	  RF_AUTH | RF_ADMIN, NULL, "admin_users_list" },
	/* ROUTE_ADMIN_USERS_PATCH */
	{ "PATCH", "/api/v1/admin/users/{id}", api_admin_users_patch,
	  RF_AUTH | RF_ADMIN | RF_ID, &api_admin_users_patch_body, "admin_users_patch" },
	/* ROUTE_ADMIN_USAGE */
	{ "GET", "/api/v1/admin/usage", api_admin_usage,
	  RF_AUTH | RF_ADMIN, NULL, "admin_usage" },
	/* ROUTE_AUTH_CONFIG: what the sign-up page asks before the form */
	{ "GET", "/api/v1/auth/config", api_auth_config,
	  RF_NODB, NULL, "auth_config" },
};

#define NROUTES ROUTE__MAX

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
	char *scratch[ROUTE_MAX_PARAMS + 1] = { NULL };
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
		    ROUTE_MAX_PARAMS + 1))
			continue;
		for (k = 0; k <= ROUTE_MAX_PARAMS; k++) {
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
