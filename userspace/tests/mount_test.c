// SPDX-License-Identifier: GPL-2.0
/*
 * mount_test.c - the fsopen/fsconfig/fsmount path and its error reporting.
 *
 * strata itself cannot be loaded on the build host, so these tests drive
 * the same code with fstype "tmpfs" in a private mount namespace: tmpfs
 * rejects the "branch" keys, which exercises descriptor passing and the
 * reading of the fs_context log, and a branch-less read-only tmpfs mount
 * exercises fsmount and move_mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "test.h"
#include "../mount.h"
#include "../util.h"

TEST(fslog_parse)
{
	char level;

	CHECK_STR(fslog_parse("e strata: branch /a: does not exist", "strata", &level),
		  "branch /a: does not exist");
	CHECK_INT(level, 'e');
	CHECK_STR(fslog_parse("w strata: careful", "strata", &level), "careful");
	CHECK_INT(level, 'w');
	CHECK_STR(fslog_parse("e tmpfs: Bad value for 'size'", "tmpfs", &level),
		  "Bad value for 'size'");
	/* another subsystem's prefix stays, so the user knows who spoke */
	CHECK_STR(fslog_parse("e VFS: nope", "strata", &level), "VFS: nope");
	CHECK_STR(fslog_parse("i stratafs: x", "strata", &level), "stratafs: x");
	CHECK_INT(level, 'i');
	CHECK_STR(fslog_parse("garbage", "strata", &level), "garbage");
	CHECK_INT(level, '?');
	CHECK_STR(fslog_parse("", "strata", &level), "");
}

struct mount_args {
	struct mount_request req;
	struct branch_list branches;
};

static int do_mount(void *arg)
{
	return union_mount(&((struct mount_args *)arg)->req);
}

static int do_umount(void *arg)
{
	return union_umount(arg);
}

static struct mount_args *setup(void)
{
	struct mount_args *a = calloc(1, sizeof(*a));

	if (test_enter_mount_ns())
		SKIP("no private mount namespace here (%s)", strerror(errno));
	a->req.fstype = "tmpfs";
	a->req.target = xasprintf("%s/mnt", test_tmpdir());
	a->req.branches = &a->branches;
	mkdir(a->req.target, 0755);
	return a;
}

static char *add_dir(struct mount_args *a, const char *name,
		     enum branch_mode mode)
{
	char *path = xasprintf("%s/%s", test_tmpdir(), name);

	mkdir(path, 0755);
	branch_list_add(&a->branches, xstrdup(path), mode);
	return path;
}

TEST(mount_kernel_log_reaches_user)
{
	struct mount_args *a = setup();
	char *out, *want;

	add_dir(a, "b0", BRANCH_MODE_DEFAULT);
	CHECK_INT(test_capture_stderr(do_mount, a, &out), -1);
	want = xasprintf("strata: mount %s: Unknown parameter 'branch'\n",
			 a->req.target);
	CHECK_STR(out, want);
}

TEST(mount_mode_keys)
{
	static const struct { enum branch_mode mode; const char *key; } k[] = {
		{ BRANCH_MODE_RW, "branch_rw" },
		{ BRANCH_MODE_RO, "branch_ro" },
		{ BRANCH_MODE_RR, "branch_rr" },
	};
	struct mount_args *a = setup();
	char *out, *want;
	size_t i;

	for (i = 0; i < 3; i++) {
		branch_list_free(&a->branches);
		add_dir(a, "b", k[i].mode);
		CHECK_INT(test_capture_stderr(do_mount, a, &out), -1);
		want = xasprintf("Unknown parameter '%s'", k[i].key);
		CHECK_CONTAINS(out, want);
	}
}

TEST(mount_option_keys)
{
	struct mount_args *a = setup();
	char *out;

	a->req.whiteout = "overlay";
	CHECK_INT(test_capture_stderr(do_mount, a, &out), -1);
	CHECK_CONTAINS(out, "Unknown parameter 'whiteout'");
	a->req.whiteout = NULL;
	a->req.userxattr = true;
	CHECK_INT(test_capture_stderr(do_mount, a, &out), -1);
	CHECK_CONTAINS(out, "Unknown parameter 'userxattr'");
}

TEST(mount_branch_problems_named)
{
	struct mount_args *a = setup();
	char *out, *want, *file;

	branch_list_add(&a->branches, xstrdup("/nonexistent/strata/branch"),
			BRANCH_MODE_RO);
	CHECK_INT(test_capture_stderr(do_mount, a, &out), -1);
	want = xasprintf("strata: mount %s: branch /nonexistent/strata/branch: does not exist\n",
			 a->req.target);
	CHECK_STR(out, want);

	branch_list_free(&a->branches);
	file = test_write_file("plain", "x");
	branch_list_add(&a->branches, xstrdup(file), BRANCH_MODE_RO);
	CHECK_INT(test_capture_stderr(do_mount, a, &out), -1);
	want = xasprintf("strata: mount %s: branch %s: not a directory\n",
			 a->req.target, file);
	CHECK_STR(out, want);
}

TEST(mount_missing_target)
{
	struct mount_args *a = setup();
	char *out;

	a->req.target = "/nonexistent/strata/target";
	add_dir(a, "b", BRANCH_MODE_RO);
	CHECK_INT(test_capture_stderr(do_mount, a, &out), -1);
	CHECK_STR(out, "strata: mount /nonexistent/strata/target: No such file or directory\n");
}

TEST(mount_readonly_and_umount)
{
	struct mount_args *a = setup();
	struct statvfs sv;
	char *out, *want;

	/* no branches: tmpfs accepts that, so fsmount/move_mount run */
	a->req.readonly = true;
	CHECK_INT(test_capture_stderr(do_mount, a, &out), 0);
	CHECK_STR(out, "");
	CHECK_INT(statvfs(a->req.target, &sv), 0);
	CHECK(sv.f_flag & ST_RDONLY);
	CHECK_INT(test_capture_stderr(do_umount, (void *)a->req.target, &out), 0);
	CHECK_STR(out, "");
	CHECK_INT(test_capture_stderr(do_umount, (void *)a->req.target, &out), -1);
	want = xasprintf("strata: umount %s: not a mount point\n", a->req.target);
	CHECK_STR(out, want);
}

TEST(mount_many_branches_one_fd_at_a_time)
{
	struct mount_args *a = setup();
	int before, after;
	char *out;

	/*
	 * The first branch fails on tmpfs, so only check that the helper
	 * leaks no descriptors on the failure path and that the
	 * error names the first branch.
	 */
	before = open("/dev/null", O_RDONLY);
	close(before);
	add_dir(a, "first", BRANCH_MODE_RR);
	for (int i = 0; i < 4096; i++)
		branch_list_add(&a->branches, xstrdup(test_tmpdir()), BRANCH_MODE_RR);
	CHECK_INT(test_capture_stderr(do_mount, a, &out), -1);
	CHECK_CONTAINS(out, "Unknown parameter 'branch_rr'");
	after = open("/dev/null", O_RDONLY);
	close(after);
	CHECK_INT(after, before);
}

static int do_open_detached(void *arg)
{
	return union_open_detached(&((struct mount_args *)arg)->req);
}

/* Lines of /proc/self/mountinfo: a detached union adds none. */
static int mount_lines(void)
{
	char *text = read_small_file("/proc/self/mountinfo"), *p;
	int n = 0;

	for (p = text; p && *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}

TEST(mount_open_detached)
{
	struct mount_args *a = setup();
	struct statvfs sv;
	int before, mfd, fd;
	char *out;

	a->req.target = NULL;
	a->req.label = "union of container c";
	a->req.readonly = true;
	before = mount_lines();
	mfd = test_capture_stderr(do_open_detached, a, &out);
	CHECK(mfd >= 0);
	CHECK_STR(out, "");
	CHECK_INT(mount_lines(), before);
	/* Readable through the descriptor, and read-only. */
	CHECK_INT(fstatvfs(mfd, &sv), 0);
	CHECK(sv.f_flag & ST_RDONLY);
	fd = openat(mfd, "x", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd < 0 && errno == EROFS);
	fd = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	close(fd);
	close(mfd);
	CHECK_INT(mount_lines(), before);

	/* Messages name the union by its label. */
	add_dir(a, "b", BRANCH_MODE_RW);
	CHECK_INT(test_capture_stderr(do_open_detached, a, &out), -1);
	CHECK_STR(out, "strata: union of container c: Unknown parameter 'branch_rw'\n");
}
