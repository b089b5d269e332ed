/* api.h - the handlers, one api_* file per resource. */
#ifndef BP_API_H
#define BP_API_H

struct req;

/* api_health.c */
void api_health(struct req *r);

#endif
