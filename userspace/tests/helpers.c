// SPDX-License-Identifier: GPL-2.0
/*
 * helpers.c - scratch files, output capture and namespaces for the tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "../util.h"

extern char *test_dir;

const char *test_tmpdir(void)
{
	return test_dir;
}

char *test_write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", test_dir, name);
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		test_fail(__FILE__, __LINE__, "cannot write %s", path);
	return path;
}

/* Read all of @fd (a file at offset 0 or a pipe) into a string. */
static char *slurp_fd(int fd)
{
	size_t len = 0, cap = 1024;
	char *buf = xmalloc(cap);
	ssize_t n;

	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (len + 1 == cap)
			buf = xrealloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	return buf;
}

int test_capture_stderr(int (*fn)(void *), void *arg, char **out)
{
	FILE *tmp = tmpfile();
	int saved, ret;

	if (!tmp)
		test_fail(__FILE__, __LINE__, "tmpfile: %s", strerror(errno));
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	ret = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fileno(tmp), 0, SEEK_SET);
	*out = slurp_fd(fileno(tmp));
	fclose(tmp);
	return ret;
}

int test_run_helper(char *const argv[], char **out, char **err)
{
	FILE *o = tmpfile(), *e = tmpfile();
	int status;
	pid_t pid;

	if (!test_helper)
		SKIP("no helper binary given to the runner");
	if (!o || !e)
		test_fail(__FILE__, __LINE__, "tmpfile: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(fileno(o), 1);
		dup2(fileno(e), 2);
		execv(test_helper, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		test_fail(__FILE__, __LINE__, "cannot run %s", test_helper);
	lseek(fileno(o), 0, SEEK_SET);
	lseek(fileno(e), 0, SEEK_SET);
	*out = slurp_fd(fileno(o));
	*err = slurp_fd(fileno(e));
	fclose(o);
	fclose(e);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

int test_enter_mount_ns(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];

	if (uid == 0) {
		if (unshare(CLONE_NEWNS))
			return -1;
	} else {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
			return -1;
		snprintf(map, sizeof(map), "0 %u 1", uid);
		if (write_file("/proc/self/uid_map", map) ||
		    write_file("/proc/self/setgroups", "deny"))
			return -1;
		snprintf(map, sizeof(map), "0 %u 1", gid);
		if (write_file("/proc/self/gid_map", map))
			return -1;
	}
	/* Nothing mounted here may propagate back to the host. */
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}
