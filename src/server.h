/* server.h - the prefork master and the worker accept loop. */
#ifndef BP_SERVER_H
#define BP_SERVER_H

/*
 * Open the listening socket (LISTEN, fd 0 from spawn-fcgi, or the default
 * unix socket), fork WORKERS workers and supervise them until SIGTERM or
 * SIGINT.  Returns the process exit status: 0 after a clean shutdown.
 */
int server_run(void);

#endif
