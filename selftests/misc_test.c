// SPDX-License-Identifier: GPL-2.0
/*
 * statfs, stacking limits, unmount while busy and the read-only contract
 * of this version (design.md §2, §3).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>

#include "kselftest_harness.h"
#include "strata_test.h"

FIXTURE(misc) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;
};

FIXTURE_SETUP(misc)
{
	const char *const spec[] = {
		"0:f:top=0", "0:d:dir", "1:f:low=1", "1:f:dir/x=1", "1:d:dir/sub",
		"2:f:l2=2", "3:f:l3=3", NULL
	};

	ST_PREPARE(NULL, "misc", self->dir);
	self->l = st_make_layers(self->dir, 4);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	ASSERT_EQ(0, st_build(self->dir, spec));
}

ST_TEARDOWN(misc)

#define U(rel) st_fmt("%s/%s", self->mnt, rel)

#define MOUNT(layers, n)						\
	ASSERT_EQ(0, st_mount_union(self->mnt, layers, n, "ro", NULL))	\
		TH_LOG("mount: %s", strerror(errno))

/*
 * statfs numbers are the top branch's.  A small tmpfs of its own makes the
 * two branches' numbers differ whatever the scratch filesystem is.
 */
TEST_F(misc, statfs_is_top_branch)
{
	char *t = strdup(st_fmt("%s/small", self->dir));
	char *layers[2];
	struct statfs u, b;
	int i;

	ASSERT_EQ(0, st_mkdirs(t));
	ASSERT_EQ(0, mount("tmpfs", t, "tmpfs", 0, "size=7m,nr_inodes=777"));
	for (i = 0; i < 2; i++) {
		layers[0] = i ? self->l[1] : t;
		layers[1] = i ? t : self->l[1];
		MOUNT(layers, 2);
		ASSERT_EQ(0, statfs(self->mnt, &u));
		ASSERT_EQ(0, statfs(layers[0], &b));
		EXPECT_EQ(b.f_blocks, u.f_blocks) TH_LOG("top is %s", layers[0]);
		EXPECT_EQ(b.f_bsize, u.f_bsize);
		EXPECT_EQ(b.f_files, u.f_files);
		EXPECT_NE(b.f_type, u.f_type);
		ASSERT_EQ(0, st_umount(self->mnt));
	}
	ASSERT_EQ(0, statfs(t, &b));
	EXPECT_EQ(777, b.f_files);	/* the test's own premise */
}

/* mount with fsopen; 0 or errno, *log the fs_context log. */
static int fsmount_branches(const char *mnt, char *const *br, int n, char **log)
{
	int fd = st_fsopen(), i, err = 0;

	if (fd < 0)
		return errno;
	for (i = 0; i < n && !err; i++)
		if (fsconfig(fd, FSCONFIG_SET_STRING, "branch_ro", br[i], 0))
			err = errno;
	if (!err && st_fsmount_at(fd, mnt))
		err = errno;
	*log = st_fslog(fd);
	close(fd);
	return err;
}

/* The kernel allows two stacked filesystems; strata over strata is one. */
TEST_F(misc, stacking_depth)
{
	char *m1 = strdup(st_fmt("%s/m1", self->dir));
	char *m2 = strdup(st_fmt("%s/m2", self->dir));
	char *m3 = strdup(st_fmt("%s/m3", self->dir));
	char *b1[] = { self->l[0], self->l[1] };
	char *b2[] = { m1, self->l[2] };
	char *b3[] = { m2, self->l[3] };
	char *b3sub[] = { strdup(st_fmt("%s/dir", m2)), self->l[3] };
	char *log;

	ASSERT_EQ(0, st_mkdirs(m1));
	ASSERT_EQ(0, st_mkdirs(m2));
	ASSERT_EQ(0, st_mkdirs(m3));
	ASSERT_EQ(0, st_mount_union(m1, b1, 2, "ro", NULL));
	ASSERT_EQ(0, st_mount_union(m2, b2, 2, "rr", NULL)) TH_LOG("%s", strerror(errno));
	EXPECT_STREQ("1", st_cat(st_fmt("%s/low", m2)));
	EXPECT_STREQ("2", st_cat(st_fmt("%s/l2", m2)));
	EXPECT_STREQ("1", st_cat(st_fmt("%s/dir/x", m2)));

	EXPECT_EQ(EINVAL, fsmount_branches(m3, b3, 2, &log));
	EXPECT_TRUE(strstr(log, "stacking too deep") && strstr(log, m2)) TH_LOG("log: %s", log);
	EXPECT_EQ(EINVAL, fsmount_branches(m3, b3sub, 2, &log));
	EXPECT_TRUE(strstr(log, "stacking too deep")) TH_LOG("log: %s", log);
	EXPECT_EQ(-1, st_mount_union(m3, b3, 2, "ro", NULL));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was mounted on m3. */
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/low", m3)));
}

/* strata must report its depth to other stacking filesystems, and theirs count. */
TEST_F(misc, stacking_with_overlay)
{
	char *m1 = strdup(st_fmt("%s/m1", self->dir));
	char *m2 = strdup(st_fmt("%s/m2", self->dir));
	char *o1 = strdup(st_fmt("%s/o1", self->dir));
	char *b1[] = { self->l[0], self->l[1] };
	char *b2[] = { m1, self->l[2] };
	char *bo[] = { o1, self->l[3] };
	char *log;

	if (!st_have_fstype("overlay"))
		SKIP(return, "no overlay filesystem");
	ASSERT_EQ(0, st_mkdirs(m1));
	ASSERT_EQ(0, st_mkdirs(m2));
	ASSERT_EQ(0, st_mkdirs(o1));
	ASSERT_EQ(0, st_mount_union(m1, b1, 2, "ro", NULL));
	ASSERT_EQ(0, st_mount_union(m2, b2, 2, "ro", NULL));
	/* overlay over depth 2 is refused by overlayfs... */
	EXPECT_EQ(-1, mount("overlay", o1, "overlay", 0,
			    st_fmt("lowerdir=%s:%s", m2, self->l[3])));
	EXPECT_EQ(EINVAL, errno);
	/* ...overlay over depth 1 is fine, and strata over that is too deep. */
	ASSERT_EQ(0, mount("overlay", o1, "overlay", 0,
			   st_fmt("lowerdir=%s:%s", m1, self->l[3])));
	EXPECT_STREQ("3", st_cat(st_fmt("%s/l3", o1)));
	EXPECT_EQ(EINVAL, fsmount_branches(self->mnt, bo, 2, &log));
	EXPECT_TRUE(log && strstr(log, "stacking too deep")) TH_LOG("log: %s", log);
}

TEST_F(misc, umount_busy)
{
	int fd;

	MOUNT(self->l, 2);
	fd = open(U("low"), O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, umount2(self->mnt, 0));
	EXPECT_EQ(EBUSY, errno);
	close(fd);
	ASSERT_EQ(0, chdir(U("dir")));
	EXPECT_EQ(-1, umount2(self->mnt, 0));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, chdir("/"));
	EXPECT_EQ(0, umount2(self->mnt, 0));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("low")));
}

/* Every kind of change is refused with EROFS, and nothing reaches a branch. */
TEST_F(misc, writes_fail_erofs)
{
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	int fd, flags[] = { O_WRONLY, O_RDWR, O_RDONLY | O_TRUNC, O_WRONLY | O_APPEND };
	unsigned int i;

	MOUNT(self->l, 2);
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		EXPECT_EQ(-1, open(U("low"), flags[i])) TH_LOG("flags %#x", flags[i]);
		EXPECT_EQ(EROFS, errno) TH_LOG("flags %#x", flags[i]);
	}
	EXPECT_EQ(-1, open(U("new"), O_WRONLY | O_CREAT, 0644));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, open(U("dir"), O_WRONLY | O_TMPFILE, 0644));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, mkdir(U("newdir"), 0755));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, mknod(U("fifo"), S_IFIFO | 0644, 0));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, symlink("x", U("sym")));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, link(U("low"), U("hard")));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, unlink(U("low")));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, unlink(U("top")));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, rmdir(U("dir/sub")));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, rename(U("low"), U("low2")));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, chmod(U("low"), 0600));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, chown(U("low"), 1, 1));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, truncate(U("low"), 0));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, utimensat(AT_FDCWD, U("low"), ts, 0));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, setxattr(U("low"), "user.x", "1", 1, 0));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, access(U("low"), W_OK));
	EXPECT_EQ(EROFS, errno);

	/* Read-only opens and their harmless operations still work. */
	fd = open(U("low"), O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, fallocate(fd, 0, 0, 4096));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, fsync(fd));
	EXPECT_EQ(0, syncfs(fd));
	EXPECT_EQ(0, flock(fd, LOCK_SH));
	EXPECT_EQ(0, flock(fd, LOCK_UN));
	close(fd);

	EXPECT_STREQ("1", st_cat(st_fmt("%s/low", self->l[1])));
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/new", self->l[0])));
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/newdir", self->l[0])));
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/low", self->l[0])));
}

TEST_HARNESS_MAIN
