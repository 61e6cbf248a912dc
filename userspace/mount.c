// SPDX-License-Identifier: GPL-2.0
/*
 * mount.c - mount a union with fsopen/fsconfig/fsmount/move_mount, or
 * open one detached (no move_mount) for the helper's own reading.
 *
 * Each branch is handed to the kernel as an open directory descriptor in
 * its own fsconfig call, so neither the length of a path nor the number of
 * branches is limited by the one page of mount(2) data or by fsconfig's
 * 256-byte strings.  The descriptor is closed right after the call, so
 * thousands of branches need only one descriptor at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "mount.h"
#include "util.h"

/* One fs_context log message; paths in messages are at most PATH_MAX. */
#define LOG_BUF_SIZE 65536

struct mount_ctx {
	const struct mount_request *req;
	const char *object;	/* "mount TARGET" or a label: the subject of messages */
	int fsfd;
	int errors_logged;	/* 'e' messages printed from the log */
	char *logbuf;
};

const char *fslog_parse(const char *line, const char *fstype, char *level)
{
	size_t n = strlen(fstype);

	if (!line[0] || line[1] != ' ') {
		*level = '?';
		return line;
	}
	*level = line[0];
	line += 2;
	if (!strncmp(line, fstype, n) && line[n] == ':' && line[n + 1] == ' ')
		line += n + 2;
	return line;
}

/* Print and consume whatever the kernel has logged on the context so far. */
static void drain_log(struct mount_ctx *c)
{
	const char *text;
	char level;
	ssize_t n;

	for (;;) {
		n = read(c->fsfd, c->logbuf, LOG_BUF_SIZE - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EMSGSIZE) {
				warn_msg(c->object, "kernel message too long, dropped");
				continue;
			}
			return;		/* ENODATA: the log is empty */
		}
		/* Some kernels end the message with a newline. */
		while (n > 0 && c->logbuf[n - 1] == '\n')
			n--;
		c->logbuf[n] = '\0';
		text = fslog_parse(c->logbuf, c->req->fstype, &level);
		switch (level) {
		case 'e':
			err_msg(c->object, "%s", text);
			c->errors_logged++;
			break;
		case 'w':
			warn_msg(c->object, "%s", text);
			break;
		default:
			break;		/* informational */
		}
	}
}

/*
 * A call failed with @err: show the kernel's explanation, or if it gave
 * none, "[<what>: ]strerror(err)".  errno is @err again on return, for
 * callers that explain some errors further.
 */
static int fail(struct mount_ctx *c, int err, const char *what)
{
	int before = c->errors_logged;

	drain_log(c);
	if (c->errors_logged <= before) {
		if (what)
			err_msg(c->object, "%s: %s", what, strerror(err));
		else
			err_errno(c->object, err);
	}
	errno = err;
	return -1;
}

static const char *branch_key(enum branch_mode mode)
{
	switch (mode) {
	case BRANCH_MODE_RW:
		return "branch_rw";
	case BRANCH_MODE_RO:
		return "branch_ro";
	case BRANCH_MODE_RR:
		return "branch_rr";
	default:
		return "branch";
	}
}

/* One fsconfig call for branch @br; @value/@aux as fsconfig(2) takes them. */
static int set_branch(struct mount_ctx *c, const struct branch *br,
		      unsigned int cmd, const char *value, int aux)
{
	char *what;

	if (!fsconfig(c->fsfd, cmd, branch_key(br->mode), value, aux)) {
		drain_log(c);
		return 0;
	}
	what = xasprintf("branch %s", br->path);
	fail(c, errno, what);
	free(what);
	return -1;
}

static int config_branch(struct mount_ctx *c, const struct branch *br)
{
	int fd, ret;

	/*
	 * fsconfig(FSCONFIG_SET_FD) takes the descriptor with fget(), which
	 * refuses O_PATH descriptors on 6.1 and 6.12 (EBADF), so open the
	 * directory for reading.
	 */
	fd = open(br->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		ret = set_branch(c, br, FSCONFIG_SET_FD, NULL, fd);
		close(fd);
		return ret;
	}
	/*
	 * A directory we may not read: hand over the path itself
	 * (FSCONFIG_SET_PATH takes up to PATH_MAX and resolves it like we
	 * would), after checking it is a directory we can reach.
	 */
	if (errno == EACCES) {
		fd = open(br->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			return set_branch(c, br, FSCONFIG_SET_PATH, br->path,
					  AT_FDCWD);
		}
	}
	if (errno == ENOENT)
		err_msg(c->object, "branch %s: does not exist", br->path);
	else if (errno == ENOTDIR)
		err_msg(c->object, "branch %s: not a directory", br->path);
	else
		err_msg(c->object, "branch %s: %s", br->path, strerror(errno));
	return -1;
}

static int config_options(struct mount_ctx *c)
{
	const struct mount_request *req = c->req;

	if (req->whiteout &&
	    fsconfig(c->fsfd, FSCONFIG_SET_STRING, "whiteout", req->whiteout, 0))
		return fail(c, errno, "whiteout");
	if (req->workdir &&
	    fsconfig(c->fsfd, FSCONFIG_SET_PATH, "workdir", req->workdir, AT_FDCWD))
		return fail(c, errno, "workdir");
	if (req->userxattr &&
	    fsconfig(c->fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0))
		return fail(c, errno, "userxattr");
	if (req->readonly && fsconfig(c->fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0))
		return fail(c, errno, "ro");
	drain_log(c);
	return 0;
}

/* fsopen to fsmount: the union, attached nowhere yet; its fd or -1. */
static int make_mount(struct mount_ctx *c)
{
	const struct mount_request *req = c->req;
	unsigned int attrs = req->readonly ? MOUNT_ATTR_RDONLY : 0;
	size_t i;
	int mfd;

	c->fsfd = fsopen(req->fstype, FSOPEN_CLOEXEC);
	if (c->fsfd < 0) {
		if (errno == ENODEV)
			err_msg(c->object, "filesystem type %s is not available",
				req->fstype);
		else
			err_errno(c->object, errno);
		return -1;
	}
	if (config_options(c))
		return -1;
	for (i = 0; i < req->branches->n; i++)
		if (config_branch(c, &req->branches->v[i]))
			return -1;
	if (fsconfig(c->fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		return fail(c, errno, NULL);
	drain_log(c);

	mfd = fsmount(c->fsfd, FSMOUNT_CLOEXEC, attrs);
	if (mfd < 0)
		return fail(c, errno, NULL);
	return mfd;
}

/* make_mount() with its context set up and torn down around it. */
static int open_union(const struct mount_request *req, const char *object)
{
	struct mount_ctx c = {
		.req = req,
		.object = object,
		.fsfd = -1,
		.logbuf = xmalloc(LOG_BUF_SIZE),
	};
	int mfd = make_mount(&c), err = errno;

	if (c.fsfd >= 0)
		close(c.fsfd);
	free(c.logbuf);
	errno = err;
	return mfd;
}

int union_mount(const struct mount_request *req)
{
	char *object = xasprintf("mount %s", req->target);
	int target_fd, mfd, ret = -1;

	/* Resolve the target first: no point configuring 8192 branches for a
	 * mount point that does not exist. */
	target_fd = open(req->target, O_PATH | O_CLOEXEC);
	if (target_fd < 0) {
		err_errno(object, errno);
		free(object);
		return -1;
	}
	mfd = open_union(req, object);
	if (mfd >= 0) {
		if (move_mount(mfd, "", target_fd, "",
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))
			err_errno(object, errno);
		else
			ret = 0;
		close(mfd);
	}
	close(target_fd);
	free(object);
	return ret;
}

int union_open_detached(const struct mount_request *req)
{
	return open_union(req, req->label);
}

int union_umount(const char *target)
{
	char *object;

	if (!umount2(target, 0))
		return 0;
	object = xasprintf("umount %s", target);
	if (errno == EINVAL)
		err_msg(object, "not a mount point");
	else
		err_errno(object, errno);
	free(object);
	return -1;
}
