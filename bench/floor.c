/*
 * floor.c - the fastest a FastCGI responder behind nginx can be: WORKERS
 * prefork processes on a unix socket, each answering every request with
 * the same 2 KB JSON body and the headers blogposter sends, without
 * reading anything but the request itself.  Connections are taken as
 * blogposter's workers take them (src/server.c, worker_wait): a worker
 * accepts itself, keeps a connection nginx keeps open, and drops it when
 * a new connection waits.
 *
 *   floor SOCKET WORKERS [BYTES]   runs until SIGTERM or SIGINT; BYTES:
 *                                  the body size (2048; for experiments)
 *
 * Built by bench/run: cc -O2 -o floor floor.c -lfcgi
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char body[65536];
static size_t body_len = 2048;
static char head[256];

static int
next_fd(int lfd, int kept)
{
	struct pollfd p[2] = { { lfd, POLLIN, 0 }, { kept, POLLIN, 0 } };

	for (;;) {
		if (poll(p, kept >= 0 ? 2 : 1, -1) == -1 && errno != EINTR)
			return -1;
		if (kept >= 0 && p[1].revents) {
			char c;
			ssize_t n = recv(kept, &c, 1, MSG_PEEK | MSG_DONTWAIT);

			if (n > 0)
				return kept;
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			close(kept);	/* nginx closed it */
			kept = -1;
			continue;
		}
		if (p[0].revents) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd == -1)
				continue;	/* another worker took it */
			if (kept >= 0)
				close(kept);	/* a new one waits: drop the idle one */
			return fd;
		}
	}
}

static void
worker(int lfd)
{
	FCGX_Request r;
	int fd, keep;

	signal(SIGTERM, SIG_DFL);	/* libfcgi catches it: just stop */
	FCGX_InitRequest(&r, -1, 0);
	while ((fd = next_fd(lfd, r.ipcFd)) >= 0) {
		r.ipcFd = fd;
		r.keepConnection = 1;
		if (FCGX_Accept_r(&r) < 0) {
			r.ipcFd = -1;
			continue;
		}
		keep = r.keepConnection;	/* closed as blogposter does */
		r.keepConnection = 1;
		FCGX_PutS(head, r.out);
		FCGX_PutStr(body, (int)body_len, r.out);
		FCGX_Finish_r(&r);
		if (!keep && r.ipcFd >= 0) {
			close(r.ipcFd);
			r.ipcFd = -1;
		}
	}
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	pid_t pids[64];
	int lfd, n, i;
	size_t o;

	if (argc < 3 || argc > 4 || (n = atoi(argv[2])) < 1 || n > 64 ||
	    strlen(argv[1]) >= sizeof(sun.sun_path) || (argc == 4 &&
	    ((body_len = (size_t)atol(argv[3])) < 2048 || body_len > sizeof(body)))) {
		fprintf(stderr, "usage: floor SOCKET WORKERS [BYTES]\n");
		return 2;
	}
	/* {"items":[{"id":"…","title":"…"},…],"pad":"…"} of exactly body_len bytes */
	o = (size_t)snprintf(body, sizeof(body), "{\"items\":[");
	for (i = 0; o < 1800; i++)
		o += (size_t)snprintf(body + o, sizeof(body) - o, "%s{\"id\":"
		    "\"00000000-0000-4000-8000-%012d\",\"title\":\"Floor article %d\"}",
		    i ? "," : "", i, i);
	o += (size_t)snprintf(body + o, sizeof(body) - o, "],\"pad\":\"");
	memset(body + o, 'x', body_len - o - 2);
	memcpy(body + body_len - 2, "\"}", 2);
	snprintf(head, sizeof(head), "Status: 200 OK\r\nCache-Control: no-store\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	    body_len);

	FCGX_Init();
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(argv[1], 0660) == -1 || listen(lfd, 1024) == -1 ||
	    fcntl(lfd, F_SETFL, O_NONBLOCK) == -1) {
		perror(argv[1]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++)
		if ((pids[i] = fork()) == 0)
			worker(lfd);
	/* SIGTERM or SIGINT to the master stops the workers too */
	{
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigprocmask(SIG_BLOCK, &set, NULL);
		sigwait(&set, &sig);
		for (i = 0; i < n; i++)
			kill(pids[i], SIGTERM);
	}
	while (wait(NULL) > 0)
		;
	unlink(argv[1]);
	return 0;
}
