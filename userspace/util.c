// SPDX-License-Identifier: GPL-2.0
/*
 * util.c - error reporting and allocation helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>

#include "util.h"

static void vreport(const char *object, const char *tag, const char *fmt,
		    va_list ap)
{
	fputs(PROGNAME ": ", stderr);
	if (object)
		fprintf(stderr, "%s: ", object);
	if (tag)
		fputs(tag, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void err_msg(const char *object, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(object, NULL, fmt, ap);
	va_end(ap);
}

void warn_msg(const char *object, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(object, "warning: ", fmt, ap);
	va_end(ap);
}

void err_errno(const char *object, int errnum)
{
	err_msg(object, "%s", strerror(errnum));
}

static void __attribute__((noreturn)) out_of_memory(void)
{
	err_msg(NULL, "out of memory");
	exit(EXIT_FAILED);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		out_of_memory();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory();
	return s;
}

char *read_small_file(const char *path)
{
	size_t len = 0, cap = 256;
	char *buf;
	ssize_t n;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return NULL;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	while (len && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	return buf;
}

const char *archive_why(struct archive *a)
{
	static char buf[512];
	const char *msg = archive_error_string(a) ?: "unknown error";
	int e = archive_errno(a);

	/*
	 * libarchive's own codes stand for no system error: -1 (misc),
	 * EILSEQ (bad format) and EINVAL (wrong use).
	 */
	if (e <= 0 || e == EILSEQ || e == EINVAL || strstr(msg, strerror(e)))
		return msg;
	snprintf(buf, sizeof(buf), "%s: %s", msg, strerror(e));
	return buf;
}
