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

#endif
