/* dispatch.h - one request from accept to access-log line. */
#ifndef BP_DISPATCH_H
#define BP_DISPATCH_H

#include <fcgiapp.h>

/*
 * Serve one request accepted by libfcgi: route, the route's checks, the
 * handler, the answer, the access-log line, and the request's memory
 * released.
 */
void dispatch_request(FCGX_Request *fcgi);

/*
 * Between requests (the answer has been sent): every
 * HOUSEKEEPING_REQUESTS requests of the worker or HOUSEKEEPING_SECONDS,
 * whichever comes first, delete up to HOUSEKEEPING_BATCH expired rows of
 * each table that keeps rows for a while (idempotency keys after 24
 * hours, revoked tokens once expired), each in a short statement of its
 * own.  No cron job needed.
 */
#define HOUSEKEEPING_REQUESTS	100
#define HOUSEKEEPING_SECONDS	60
#define HOUSEKEEPING_BATCH	100
void dispatch_housekeeping(void);

#endif
