/* log.c - messages on stderr, one line each, with time and process role. */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_proc = "blogposter";
static int log_verbose;
static pid_t log_pid;		/* 0: ask getpid() */

void
log_init(const char *procname)
{
	const char *v = getenv("BP_DEBUG");

	log_proc = procname;
	log_verbose = v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

/* Called first thing in each forked child: the pid is remembered too. */
void
log_setproc(const char *procname)
{
	log_proc = procname;
	log_pid = getpid();
}

static void vlog(const char *, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

/* One write(2) per line so lines from several workers never interleave. */
static void
vlog(const char *level, int errnum, const char *fmt, va_list ap)
{
	/* the second's text is made once per second (one line per request) */
	static char ts[32];
	static time_t ts_sec = -1;
	char line[2048];
	struct timespec now;
	size_t n;
	int r;

	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec != ts_sec) {
		struct tm tm;

		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		ts_sec = now.tv_sec;
	}
	r = snprintf(line, sizeof(line), "%s %s[%ld] %s: ", ts, log_proc,
	    (long)(log_pid ? log_pid : getpid()), level);
	n = r < 0 ? 0 : (size_t)r;
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		n += r < 0 ? 0 : (size_t)r;
	}
	if (errnum != 0 && n < sizeof(line)) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(errnum));
		n += r < 0 ? 0 : (size_t)r;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog("debug", 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", 0, fmt, ap);
	va_end(ap);
	exit(1);
}

char *
log_escape(char *dst, size_t dstsz, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (dstsz == 0)
		return dst;
	for (i = 0; i < len && s != NULL; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			if (o + 1 >= dstsz)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstsz)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		}
	}
	dst[o] = '\0';
	return dst;
}
