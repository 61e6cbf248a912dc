// SPDX-License-Identifier: GPL-2.0
/*
 * Thousands of branches through the new mount API (design.md §2): one
 * fsconfig call per branch, by string, by path (relative to a dirfd) and by
 * descriptor, including paths far longer than fsconfig's 256-byte strings.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "strata_test.h"

FIXTURE(many) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char long1[ST_PATH], long2[ST_PATH];
	int dfd;
};

FIXTURE_SETUP(many)
{
	/* Branch filesystem does not matter here; tmpfs is the quickest. */
	ST_PREPARE(st_fs_listed("tmpfs") ? "tmpfs" : NULL, "many", self->dir);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	self->dfd = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->dfd);
}

ST_TEARDOWN(many)

/* Make dir/b0000 .. dir/b<n-1>. */
static int make_dirs(int dfd, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (mkdirat(dfd, st_fmt("b%04d", i), 0755))
			return -1;
	return 0;
}

/* A ~3000-character path of 29 nested 99-character components. */
static int make_long(char *out, const char *dir, const char *tag)
{
	char comp[128];
	int i, n;

	n = sprintf(out, "%s/%s", dir, tag);
	for (i = 0; i < 29; i++) {
		snprintf(comp, sizeof(comp), "/d%02d%096d", i, 0);
		n += sprintf(out + n, "%s", comp);
	}
	return st_mkdirs(out);
}

TEST_F(many, branches_4096)
{
	const int nbr = 4096;
	char type[32] = "", *mi, *br, *log;
	int fd, i, r, e, eq = 0;

	ASSERT_EQ(0, make_dirs(self->dfd, nbr));
	ASSERT_EQ(0, make_long(self->long1, self->dir, "L1"));
	ASSERT_EQ(0, make_long(self->long2, self->dir, "L2"));
	ASSERT_LT(2900, strlen(self->long1));
	ASSERT_EQ(0, st_put(st_fmt("%s/b0000/top", self->dir), "0"));
	ASSERT_EQ(0, st_put(st_fmt("%s/b2000/mid", self->dir), "2000"));
	ASSERT_EQ(0, st_put(st_fmt("%s/b4095/bottom", self->dir), "4095"));
	ASSERT_EQ(0, st_put(st_fmt("%s/b4095/same", self->dir), "4095"));
	ASSERT_EQ(0, st_put(st_fmt("%s/f1000", self->long1), "L1"));
	ASSERT_EQ(0, st_put(st_fmt("%s/same", self->long2), "L2"));

	fd = st_fsopen();
	ASSERT_LE(0, fd);
	for (i = 0; i < nbr; i++) {
		/* Top must be given a read-only mode; below, mix all three. */
		const char *key = i % 5 == 4 ? "branch" : i % 2 ? "branch_rr" : "branch_ro";
		const char *rel = st_fmt("b%04d", i);
		int vfd;

		if (i == 1000) {	/* long path by descriptor */
			vfd = open(self->long1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			ASSERT_LE(0, vfd);
			r = fsconfig(fd, FSCONFIG_SET_FD, key, NULL, vfd);
			e = errno;
			close(vfd);
		} else if (i == 3000) {	/* long path by name */
			r = fsconfig(fd, FSCONFIG_SET_PATH, key, self->long2, AT_FDCWD);
			e = errno;
		} else if (i % 3 == 0) {
			r = fsconfig(fd, FSCONFIG_SET_STRING, key,
				     st_fmt("%s/%s", self->dir, rel), 0);
			e = errno;
		} else if (i % 3 == 1) {
			r = fsconfig(fd, FSCONFIG_SET_PATH, key, rel, self->dfd);
			e = errno;
		} else {
			vfd = openat(self->dfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			ASSERT_LE(0, vfd);
			r = fsconfig(fd, FSCONFIG_SET_FD, key, NULL, vfd);
			e = errno;
			close(vfd);
		}
		ASSERT_EQ(0, r) {
			log = st_fslog(fd);
			TH_LOG("branch %d: %s; log: %s", i, strerror(e), log);
		}
	}
	r = st_fsmount_at(fd, self->mnt);
	e = errno;
	log = st_fslog(fd);
	ASSERT_EQ(0, r) TH_LOG("mount: %s; log: %s", strerror(e), log);
	close(fd);

	EXPECT_STREQ("0", st_cat(st_fmt("%s/top", self->mnt)));
	EXPECT_STREQ("2000", st_cat(st_fmt("%s/mid", self->mnt)));
	EXPECT_STREQ("4095", st_cat(st_fmt("%s/bottom", self->mnt)));
	EXPECT_STREQ("L1", st_cat(st_fmt("%s/f1000", self->mnt)));
	EXPECT_STREQ("L2", st_cat(st_fmt("%s/same", self->mnt)));
	/* A miss walks all 4096 branches. */
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/nowhere", self->mnt)));
	EXPECT_STREQ("bottom:f,f1000:f,mid:f,same:f,top:f", st_ls(self->mnt));

	mi = st_mountinfo(self->mnt, type, sizeof(type));
	ASSERT_NE(NULL, mi);
	EXPECT_STREQ("strata", type);
	br = strstr(mi, "br=");
	ASSERT_NE(NULL, br);
	EXPECT_EQ(0, strncmp(br, st_fmt("br=%s/b0000=ro:", self->dir), strlen(self->dir) + 13))
		TH_LOG("%.200s", br);
	EXPECT_NE(NULL, strstr(br, st_fmt(":%s=", self->long1)));
	EXPECT_NE(NULL, strstr(br, st_fmt(":%s=", self->long2)));
	EXPECT_NE(NULL, strstr(br, st_fmt(":%s/b4095=", self->dir)));
	/* One '=' per branch after "br=" (the paths have none). */
	for (br += 3; *br && *br != ','; br++)
		eq += *br == '=';
	EXPECT_EQ(nbr, eq);

	EXPECT_EQ(0, st_umount(self->mnt));
}

TEST_F(many, too_many_branches)
{
	const int nbr = 8193;
	int fd, i, err = 0;
	char *log;

	ASSERT_EQ(0, make_dirs(self->dfd, nbr));
	fd = st_fsopen();
	ASSERT_LE(0, fd);
	for (i = 0; i < nbr && !err; i++)
		if (fsconfig(fd, FSCONFIG_SET_PATH, "branch_ro", st_fmt("b%04d", i), self->dfd))
			err = errno;
	/* Refused by the 8193rd fsconfig or at create time, not earlier. */
	EXPECT_TRUE(!err || i == nbr) TH_LOG("branch %d failed: %s", i - 1, strerror(err));
	if (!err && st_fsmount_at(fd, self->mnt))
		err = errno;
	log = st_fslog(fd);
	EXPECT_EQ(EINVAL, err);
	EXPECT_NE(NULL, strstr(log, "too many branches (max 8192)")) TH_LOG("log: %s", log);
	close(fd);
}

TEST_HARNESS_MAIN
