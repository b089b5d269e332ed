/* api_health.c - GET /api/v1/health: is the service and its database up. */
#include "autoconf.h"

#include "api.h"
#include "buf.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "repo.h"

void
api_health(struct req *r)
{
	struct jw w;
	long version = -1;

	jw_init(&w, &r->out);
	if (!db_ready() || repo_meta_schema_version(&version) != DB_OK) {
		log_warnx("health: database unavailable");
		jw_obj(&w);
		jw_kstr(&w, "status", "unavailable");
		jw_kstr(&w, "database", "down");
		jw_end(&w, '}');
		http_status(r, 503);
		http_header(r, "Retry-After", "%d", DB_RETRY_AFTER);
		return;
	}
	jw_obj(&w);
	jw_kstr(&w, "status", "ok");
	jw_kstr(&w, "database", "ok");
	jw_kstr(&w, "version", PACKAGE_VERSION);
	jw_kint(&w, "schema_version", version);
	jw_end(&w, '}');
	http_status(r, 200);
}
