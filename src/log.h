/* log.h - the err(3) vocabulary, on stderr, one line per message. */
#ifndef BP_LOG_H
#define BP_LOG_H

#include <stddef.h>

void log_init(const char *procname);
/* A forked child's role; call it first thing after fork (it records the pid). */
void log_setproc(const char *procname);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copy at most len bytes of untrusted s into dst (size dstsz) with every
 * byte outside printable ASCII, and '"' and '\\', written as \xHH.
 * Always NUL-terminates; returns dst.
 */
char *log_escape(char *dst, size_t dstsz, const char *s, size_t len);

#endif
