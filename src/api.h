/* api.h - the handlers, one api_* file per resource. */
#ifndef BP_API_H
#define BP_API_H

struct fieldset;
struct req;

/*
 * The field tables of the request bodies (validate.h), named by the route
 * table; the dispatcher checks a body against its table before the
 * handler runs, and the handler reads the values in r->in, in the order
 * of the handler's own enum.
 */
extern const struct fieldset api_articles_create_body;
extern const struct fieldset api_articles_update_body;
extern const struct fieldset api_pipelines_start_body;
extern const struct fieldset api_pipelines_end_body;
extern const struct fieldset api_auth_register_body;
extern const struct fieldset api_auth_login_body;
extern const struct fieldset api_me_delete_body;
extern const struct fieldset api_me_password_body;
extern const struct fieldset api_admin_users_patch_body;

/* api_health.c */
void api_health(struct req *r);

/* api_auth.c */
void api_auth_register(struct req *r);
void api_auth_config(struct req *r);
void api_auth_login(struct req *r);
void api_auth_logout(struct req *r);

/* api_me.c */
void api_me_get(struct req *r);
void api_me_delete(struct req *r);
void api_me_password(struct req *r);
void api_me_key_create(struct req *r);
void api_me_key_delete(struct req *r);

/* api_export.c */
void api_me_export(struct req *r);

/* api_admin.c */
void api_admin_users_list(struct req *r);
void api_admin_users_patch(struct req *r);
void api_admin_usage(struct req *r);

/* api_articles.c */
void api_articles_list(struct req *r);
void api_articles_create(struct req *r);
void api_articles_get(struct req *r);
void api_articles_update(struct req *r);
void api_articles_delete(struct req *r);
void api_articles_related(struct req *r);

/* api_pipelines.c */
void api_pipelines_list(struct req *r);
void api_pipelines_start(struct req *r);
void api_pipelines_get(struct req *r);
void api_pipelines_end(struct req *r);

/* api_usage.c */
void api_usage_get(struct req *r);
void api_usage_history(struct req *r);

#endif
