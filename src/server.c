/*
 * server.c - prefork master and worker loop.
 *
 * The master opens the listening socket, forks the workers and supervises
 * them; it never touches the database.  Signals are blocked in both and
 * taken synchronously: the master with sigtimedwait(2), a worker only
 * inside ppoll(2) while it waits for a connection, so a worker never
 * stops in the middle of a request and never misses a stop request.
 *
 * Master signals: SIGTERM/SIGINT stop (each worker finishes its request),
 * SIGHUP replaces the workers one at a time, SIGCHLD reaps and restarts
 * (with backoff when workers die right after start), SIGUSR1 is a new
 * worker saying it is ready.
 */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "auth.h"
#include "config.h"
#include "credential.h"
#include "db.h"
#include "dispatch.h"
#include "http.h"
#include "log.h"
#include "server.h"
#include "util.h"

#define MAX_SLOTS	512
#define STOP_GRACE_S	30	/* SIGKILL workers still busy after this */
#define BACKOFF_MAX_MS	10000

struct slot {
	pid_t		pid;		/* 0: empty */
	long long	started_ms;
	bool		retiring;	/* told to stop; not to be replaced */
};

static struct slot slots[MAX_SLOTS];
static int listen_fd = -1;
static char *unix_path;		/* socket file we created, removed at exit */
static int fail_streak;		/* workers that died right after start */
static long long next_spawn_ms;	/* no spawn before this (backoff) */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl != -1 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) != -1;
}

/* Returns a listening unix socket at path, mode 0660, or -1 (logged). */
static int
open_unix(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("LISTEN: socket path too long: %s", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("LISTEN: %s exists and is not a socket", path);
			goto fail;
		}
		/* A live server answers on it: refuse to steal its socket. */
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			log_warnx("LISTEN: %s is in use by another server", path);
			goto fail;
		}
		close(fd);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
			log_warn("socket");
			return -1;
		}
		if (unlink(path) == -1) {
			log_warn("unlink %s", path);
			goto fail;
		}
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", path);
		goto fail;
	}
	if (chmod(path, 0660) == -1) {
		log_warn("chmod %s", path);
		goto fail;
	}
	unix_path = xstrdup(path);
	return fd;
fail:
	close(fd);
	return -1;
}

/* Returns a listening TCP socket for "host:port", or -1 (logged). */
static int
open_tcp(const char *spec)
{
	struct addrinfo hints, *res = NULL, *ai;
	char *host, *colon;
	int fd = -1, one = 1, e;

	host = xstrdup(spec);
	colon = strrchr(host, ':');
	*colon = '\0';
	if (host[0] == '[' && colon > host && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((e = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res)) != 0) {
		log_warnx("LISTEN: %s: %s", spec, gai_strerror(e));
		free(host);
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		log_warn("bind %s", spec);
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	free(host);
	return fd;
}

/* An IPv6 address that holds an IPv4 one (::ffff:a.b.c.d): its 4 bytes. */
static const unsigned char *
v4_mapped(const unsigned char b[16])
{
	static const unsigned char prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };

	return memcmp(b, prefix, 12) == 0 ? b + 12 : NULL;
}

/*
 * The address of a TCP socket (AF_INET or AF_INET6) as family and bytes;
 * an IPv4-mapped IPv6 address as IPv4.  False for other families.
 */
static bool
tcp_addr(const struct sockaddr_storage *ss, struct bp_addr *out)
{
	const unsigned char *m;

	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		out->family = AF_INET;
		memcpy(out->a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		if ((m = v4_mapped(a->s6_addr)) != NULL) {
			out->family = AF_INET;
			memcpy(out->a, m, 4);
		} else {
			out->family = AF_INET6;
			memcpy(out->a, a->s6_addr, 16);
		}
		return true;
	}
	return false;
}

static bool
is_loopback(const struct bp_addr *a)
{
	if (a->family == AF_INET)
		return a->a[0] == 127;
	return memcmp(a->a, in6addr_loopback.s6_addr, 16) == 0;
}

/* A peer listed in FASTCGI_ALLOWED_ADDRS (IPv4-mapped ones as IPv4). */
static bool
peer_allowed(const struct bp_addr *peer)
{
	size_t i;

	for (i = 0; i < cfg.nallowed; i++) {
		struct bp_addr want = cfg.allowed[i];
		const unsigned char *m;

		if (want.family == AF_INET6 &&
		    (m = v4_mapped(want.a)) != NULL) {
			want.family = AF_INET;
			memmove(want.a, m, 4);
		}
		if (want.family == peer->family &&
		    memcmp(want.a, peer->a, want.family == AF_INET ? 4 : 16) == 0)
			return true;
	}
	return false;
}

/*
 * FastCGI has no authentication: whoever reaches a TCP listener runs
 * requests as any user the web server vouches for.  A TCP listener on
 * anything but a loopback address needs FASTCGI_ALLOWED_ADDRS.  False
 * (logged, naming LISTEN) when fd is such a listener without it.
 */
static bool
listener_guarded(int fd, const char *what)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct bp_addr a;
	char text[INET6_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		log_warn("getsockname");
		return false;
	}
	if (!tcp_addr(&ss, &a) || cfg.nallowed > 0 || is_loopback(&a))
		return true;
	inet_ntop(a.family, a.a, text, sizeof(text));
	log_warnx("LISTEN: %s is a TCP socket on %s, not a loopback address, "
	    "and FastCGI has no authentication: set FASTCGI_ALLOWED_ADDRS to "
	    "the web server's addresses, or listen on 127.0.0.1 or a unix "
	    "socket", what, text);
	return false;
}

/* The listening socket: LISTEN, else fd 0 when it is one, else the default. */
static int
open_listener(void)
{
	int fd, acc = 0;
	socklen_t len = sizeof(acc);

	if (cfg.listen == NULL &&
	    getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 && acc) {
		log_info("listening on the socket passed as fd 0");
		fd = 0;
	} else {
		const char *spec = cfg.listen;

		if (spec == NULL) {
			spec = "unix:var/run/blogposter.sock";
			mkdir("var", 0755);
			mkdir("var/run", 0755);
		}
		if (strncmp(spec, "unix:", 5) == 0)
			fd = open_unix(spec + 5);
		else
			fd = open_tcp(spec);
		if (fd == -1)
			return -1;
		if (listen(fd, 1024) == -1) {
			log_warn("listen");
			close(fd);
			return -1;
		}
		log_info("listening on %s", spec);
	}
	if (!listener_guarded(fd, fd == 0 ? "the socket on fd 0" : cfg.listen)) {
		if (fd != 0)
			close(fd);
		return -1;
	}
	if (!set_nonblock(fd)) {
		log_warn("fcntl O_NONBLOCK");
		return -1;
	}
	return fd;
}

/* ---- worker ---- */

static volatile sig_atomic_t worker_stop;

static void
worker_sig(int sig)
{
	(void)sig;
	worker_stop = 1;
}

/*
 * Wait for the next connection with the stop signals unblocked only
 * inside ppoll.  kept is a connection nginx kept open (fastcgi_keep_conn)
 * or -1.  Returns the fd to read the next request from, or -1 to stop.
 * When a new connection waits while we hold an idle kept one, the kept one
 * is closed: a worker serves one connection at a time, and holding an idle
 * one would starve the new one.
 */
static int
worker_wait(int kept, const sigset_t *waitmask)
{
	struct pollfd pfd[2];
	int n, fd;

	for (;;) {
		if (worker_stop)
			return -1;
		pfd[0].fd = listen_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = kept;
		pfd[1].events = POLLIN;
		n = ppoll(pfd, kept >= 0 ? 2 : 1, NULL, waitmask);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("ppoll");
			return -1;
		}
		if (kept >= 0 && pfd[1].revents) {
			char c;
			ssize_t r = recv(kept, &c, 1, MSG_PEEK | MSG_DONTWAIT);

			if (r > 0)
				return kept;
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			close(kept);	/* nginx closed it */
			kept = -1;
			continue;
		}
		if (pfd[0].revents) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			struct bp_addr peer;

			fd = accept4(listen_fd, (struct sockaddr *)&ss, &sl,
			    SOCK_CLOEXEC);
			if (fd == -1) {
				if (errno != EAGAIN && errno != EWOULDBLOCK &&
				    errno != EINTR && errno != ECONNABORTED)
					log_warn("accept");
				continue;	/* another worker took it */
			}
			if (cfg.nallowed > 0 && tcp_addr(&ss, &peer) &&
			    !peer_allowed(&peer)) {
				char text[INET6_ADDRSTRLEN];

				inet_ntop(peer.family, peer.a, text, sizeof(text));
				log_warnx("refused a FastCGI connection from %s: "
				    "not in FASTCGI_ALLOWED_ADDRS", text);
				close(fd);
				continue;
			}
			if (kept >= 0)
				close(kept);
			return fd;
		}
	}
}

static void
worker_main(void)
{
	FCGX_Request fcgi;
	struct sigaction sa;
	sigset_t block, waitmask;
	int fd = -1, keep;
	bool unix_listener;

	log_setproc("worker");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_sig;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_SETMASK, &block, NULL);
	sigemptyset(&waitmask);

	cred_init();
	db_init();
	http_worker_init();
	kill(getppid(), SIGUSR1);	/* ready */

	/*
	 * We accept connections ourselves (see worker_wait) and hand each to
	 * libfcgi through the request's connection fd; listen_sock -1 keeps
	 * libfcgi from ever blocking in accept(2) where a stop could not
	 * reach it.  keepConnection = 1 before FCGX_Accept_r stops its
	 * implicit finish from closing the fd we just gave it.
	 */
	{
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		unix_listener = getsockname(listen_fd, (struct sockaddr *)&ss,
		    &len) == 0 && ss.ss_family == AF_UNIX;
	}
	FCGX_InitRequest(&fcgi, -1, FCGI_FAIL_ACCEPT_ON_INTR);
	for (;;) {
		fd = worker_wait(fcgi.ipcFd, &waitmask);
		if (fd < 0)
			break;
		fcgi.ipcFd = fd;
		fcgi.keepConnection = 1;
		if (FCGX_Accept_r(&fcgi) < 0) {
			fcgi.ipcFd = -1;	/* libfcgi closed it */
			continue;
		}
		/*
		 * On a unix socket, a connection nginx does not keep
		 * (FCGI_KEEP_CONN unset) is closed here after FCGX_Finish_r.
		 * libfcgi's own close shuts down the sending side and then
		 * waits in select(2) until nginx has closed its end, against a
		 * TCP RST that a unix socket never sends: every request would
		 * block the worker once more, until nginx got to run (measured
		 * with bench/run: bench/README.md).
		 */
		keep = fcgi.keepConnection;
		if (unix_listener)
			fcgi.keepConnection = 1;
		dispatch_request(&fcgi);
		FCGX_Finish_r(&fcgi);
		if (unix_listener && !keep && fcgi.ipcFd >= 0) {
			close(fcgi.ipcFd);
			fcgi.ipcFd = -1;
		}
		dispatch_housekeeping();
	}
	if (fcgi.ipcFd >= 0)
		close(fcgi.ipcFd);
	http_worker_free();
	db_close();
	config_free();
	exit(0);
}

/* ---- master ---- */

static int
live_workers(void)
{
	int i, n = 0;

	for (i = 0; i < MAX_SLOTS; i++)
		if (slots[i].pid > 0)
			n++;
	return n;
}

static int
active_workers(void)
{
	int i, n = 0;

	for (i = 0; i < MAX_SLOTS; i++)
		if (slots[i].pid > 0 && !slots[i].retiring)
			n++;
	return n;
}

/* Fork one worker into a free slot; returns its pid or -1. */
static pid_t
spawn_worker(void)
{
	int i;
	pid_t pid;

	for (i = 0; i < MAX_SLOTS && slots[i].pid != 0; i++)
		;
	if (i == MAX_SLOTS)
		return -1;
	switch ((pid = fork())) {
	case -1:
		log_warn("fork");
		return -1;
	case 0:
		worker_main();
		_exit(0);
	default:
		slots[i].pid = pid;
		slots[i].started_ms = now_ms();
		slots[i].retiring = false;
		log_info("started worker %ld", (long)pid);
		return pid;
	}
}

static struct slot *
find_slot(pid_t pid)
{
	int i;

	for (i = 0; i < MAX_SLOTS; i++)
		if (slots[i].pid == pid)
			return &slots[i];
	return NULL;
}

/* Reap every dead child, logging how it died.  Returns true if pid died. */
static bool
reap(pid_t watch)
{
	int status;
	pid_t pid;
	bool seen = false;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct slot *s = find_slot(pid);
		long long lived;

		if (pid == watch)
			seen = true;
		if (s == NULL)
			continue;
		lived = now_ms() - s->started_ms;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && s->retiring)
			log_info("worker %ld exited", (long)pid);
		else if (WIFEXITED(status))
			log_warnx("worker %ld exited with status %d after %lld ms",
			    (long)pid, WEXITSTATUS(status), lived);
		else if (WIFSIGNALED(status))
			log_warnx("worker %ld killed by signal %d (%s) after %lld ms",
			    (long)pid, WTERMSIG(status), strsignal(WTERMSIG(status)),
			    lived);
		if (!s->retiring) {
			/* died on its own: back off if it did not live long */
			if (lived < 1000) {
				int ms;

				fail_streak = fail_streak < 20 ? fail_streak + 1 : 20;
				ms = 100 << (fail_streak < 7 ? fail_streak : 7);
				if (ms > BACKOFF_MAX_MS)
					ms = BACKOFF_MAX_MS;
				next_spawn_ms = now_ms() + ms;
				log_warnx("worker died right after start; next start "
				    "in %d ms", ms);
			} else
				fail_streak = 0;
		}
		s->pid = 0;
	}
	return seen;
}

/*
 * Tell the worker being replaced to finish its request and exit.  It may
 * be gone already (killed, and reaped: pid 0), and kill(0, ...) would
 * signal the master's whole process group, itself included.
 */
static void
retire(pid_t pid)
{
	if (pid > 0)
		kill(pid, SIGTERM);
}

static void
signal_all(int sig)
{
	int i;

	for (i = 0; i < MAX_SLOTS; i++)
		if (slots[i].pid > 0) {
			slots[i].retiring = true;
			kill(slots[i].pid, sig);
		}
}

/*
 * Wait up to ms for one signal of set; returns it (0 on timeout) with
 * the sender's pid in *from.
 */
static int
wait_signal(const sigset_t *set, long long ms, pid_t *from)
{
	struct timespec ts;
	siginfo_t si;
	int sig;

	if (ms < 0)
		ms = 0;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	sig = sigtimedwait(set, &si, &ts);
	if (sig == -1)
		return 0;
	*from = si.si_pid;
	return sig;
}

static void
nop_handler(int sig)
{
	(void)sig;
}

int
server_run(void)
{
	struct sigaction sa;
	sigset_t set;
	pid_t rolling_new = 0, rolling_old = 0, from = 0;
	pid_t roll_queue[MAX_SLOTS];
	int nroll = 0, sig, i;
	bool stopping = false;
	long long stop_deadline = 0;

	FCGX_Init();
	if ((listen_fd = open_listener()) == -1)
		return 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nop_handler;	/* so blocked signals queue */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);

	log_info("blogposter %s master starting %lld workers", PACKAGE_VERSION,
	    (long long)cfg.workers);
	for (;;) {
		long long now = now_ms(), wait = 1000;

		reap(0);
		if (stopping) {
			if (live_workers() == 0)
				break;
			if (now >= stop_deadline) {
				log_warnx("workers still busy after %d s: killing them",
				    STOP_GRACE_S);
				signal_all(SIGKILL);
				stop_deadline = now + 60000;
			}
			wait = stop_deadline - now;
		} else {
			/* keep WORKERS running, respecting the backoff */
			while (active_workers() < cfg.workers && now >= next_spawn_ms)
				if (spawn_worker() == -1) {
					next_spawn_ms = now + 1000;
					break;
				}
			if (active_workers() < cfg.workers)
				wait = next_spawn_ms - now;
			/* rolling restart: one old worker at a time */
			if (rolling_new == 0 && rolling_old == 0 && nroll > 0) {
				struct slot *old;

				rolling_old = roll_queue[--nroll];
				if ((old = find_slot(rolling_old)) == NULL) {
					rolling_old = 0;
					continue;
				}
				old->retiring = true;	/* its replacement: */
				rolling_new = spawn_worker();
				if (rolling_new == -1) {
					rolling_new = 0;
					retire(rolling_old);
				}
			}
		}

		sig = wait_signal(&set, wait, &from);
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			if (!stopping) {
				log_info("stopping: workers finish their requests");
				stopping = true;
				stop_deadline = now_ms() + STOP_GRACE_S * 1000;
				signal_all(SIGTERM);
			}
			break;
		case SIGHUP:
			if (stopping)
				break;
			log_info("replacing workers one at a time");
			nroll = 0;
			for (i = 0; i < MAX_SLOTS; i++)
				if (slots[i].pid > 0 && !slots[i].retiring &&
				    slots[i].pid != rolling_new)
					roll_queue[nroll++] = slots[i].pid;
			break;
		case SIGUSR1:
			if (rolling_new != 0 && from == rolling_new) {
				/* the replacement is ready: retire the old one */
				retire(rolling_old);
				rolling_new = 0;
			}
			break;
		case SIGCHLD:
			if (reap(rolling_old))
				rolling_old = 0;
			if (rolling_new != 0 && find_slot(rolling_new) == NULL) {
				rolling_new = 0;	/* replacement died */
				retire(rolling_old);
			}
			break;
		default:
			break;
		}
		if (rolling_old != 0 && find_slot(rolling_old) == NULL)
			rolling_old = 0;
	}
	if (unix_path != NULL) {
		unlink(unix_path);
		free(unix_path);
	}
	close(listen_fd);
	log_info("stopped");
	return 0;
}
