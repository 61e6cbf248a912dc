/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util.h - error reporting and small helpers shared by the strata helper.
 *
 * Every message the helper prints about a failure has the form
 * "strata: <object>: <cause>", where <object> names the thing the user
 * asked about (a mount point, a branch, a module file, a command).
 */
#ifndef STRATA_UTIL_H
#define STRATA_UTIL_H

#include <stdarg.h>
#include <stddef.h>

/* Exit codes of the helper; documented in Documentation/helper.rst. */
enum {
	EXIT_OK = 0,		/* the command did what was asked */
	EXIT_FAILED = 1,	/* the operation was tried and failed */
	EXIT_USAGE = 2,		/* bad command line; nothing was done */
};

#define PROGNAME "strata"

/* "strata: <object>: <cause...>" on stderr.  @object may be NULL. */
void err_msg(const char *object, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "strata: <object>: <strerror(errnum)>" on stderr. */
void err_errno(const char *object, int errnum);
struct archive;
/*
 * libarchive's message for the last error of @a, with the system's reason
 * when it has one the message does not give already ("Write failed: No
 * space left on device").  A static buffer, valid until the next call.
 */
const char *archive_why(struct archive *a);
/* "strata: <object>: warning: <cause...>" on stderr. */
void warn_msg(const char *object, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Allocation helpers that print "strata: out of memory" and exit 1. */
void *xmalloc(size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Read a whole small file (sysfs, procfs) into a NUL-terminated buffer with
 * trailing newlines removed.  Returns NULL and sets errno on failure.
 */
char *read_small_file(const char *path);

#endif /* STRATA_UTIL_H */
