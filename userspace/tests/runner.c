// SPDX-License-Identifier: GPL-2.0
/*
 * runner.c - run every registered test in its own child process.
 *
 * Usage: unit [HELPER [NAME-SUBSTRING]]
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define EXIT_SKIP 77

const char *test_helper;
char *test_dir;			/* the current test's scratch directory */

static struct test *first, **tail = &first;
static int skip_fd = -1;	/* in the child: where a SKIP reason goes */

void test_register(struct test *t)
{
	*tail = t;
	tail = &t->next;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" failed\n");
	fflush(stdout);
	_exit(1);
}

void test_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdprintf(skip_fd, fmt, ap);
	va_end(ap);
	fflush(stdout);
	_exit(EXIT_SKIP);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/* Returns 0 pass, 1 skip, -1 fail. */
static int run_one(struct test *t, char *skip_reason, size_t len)
{
	char dir[] = "/tmp/strata-test.XXXXXX";
	int pipefd[2], status, ret;
	ssize_t n;
	pid_t pid;

	skip_reason[0] = '\0';
	if (!mkdtemp(dir) || pipe2(pipefd, O_CLOEXEC)) {
		perror("runner");
		return -1;
	}
	test_dir = dir;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		skip_fd = pipefd[1];
		t->fn();
		fflush(stdout);
		_exit(0);
	}
	close(pipefd[1]);
	ret = -1;
	if (pid > 0 && waitpid(pid, &status, 0) == pid) {
		if (WIFSIGNALED(status))
			printf("# killed by signal %d\n", WTERMSIG(status));
		else if (WEXITSTATUS(status) == EXIT_SKIP)
			ret = 1;
		else if (WEXITSTATUS(status) == 0)
			ret = 0;
	}
	n = read(pipefd[0], skip_reason, len - 1);
	skip_reason[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned int n = 0, passed = 0, failed = 0, skipped = 0;
	const char *only = argc > 2 ? argv[2] : NULL;
	char reason[256];
	struct test *t;
	int ret;

	test_helper = argc > 1 ? argv[1] : NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (t = first; t; t = t->next) {
		if (only && !strstr(t->name, only))
			continue;
		ret = run_one(t, reason, sizeof(reason));
		n++;
		if (ret == 0) {
			printf("ok %u - %s\n", n, t->name);
			passed++;
		} else if (ret > 0) {
			printf("ok %u - %s # SKIP %s\n", n, t->name, reason);
			skipped++;
		} else {
			printf("not ok %u - %s\n", n, t->name);
			failed++;
		}
	}
	printf("1..%u\n", n);
	if (skipped)
		printf("# %u skipped\n", skipped);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
