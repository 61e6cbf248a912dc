// SPDX-License-Identifier: GPL-2.0
/*
 * A union's rw branch and workdir= directory are its own while it lives:
 * a second union whose rw branch or workdir= would be, lie inside or
 * contain them fails with EBUSY and a message naming the directory, before
 * it empties any work directory.  Read-only branches are shared freely.
 * (Live branch-add of a busy rw branch: branch_change_test.)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define BUSY "in use by another mounted union"

FIXTURE(inuse) {
	char dir[ST_PATH];
	char up[ST_PATH], up2[ST_PATH], low[ST_PATH], wd[ST_PATH];
	char m1[ST_PATH], m2[ST_PATH];
	char *log;
};

FIXTURE_SETUP(inuse)
{
	ST_PREPARE(NULL, "inuse", self->dir);
	if (!st_is_strata())
		SKIP(return, "strata only (overlayfs only warns without index=on)");
	strcpy(self->up, st_fmt("%s/up", self->dir));
	strcpy(self->up2, st_fmt("%s/up2", self->dir));
	strcpy(self->low, st_fmt("%s/low", self->dir));
	strcpy(self->wd, st_fmt("%s/wd", self->dir));
	strcpy(self->m1, st_fmt("%s/m1", self->dir));
	strcpy(self->m2, st_fmt("%s/m2", self->dir));
	ST_OK(st_put(st_fmt("%s/f", self->low), "low"));
	ST_OK(st_put(st_fmt("%s/sub/g", self->up), "up"));
	ST_OK(st_mkdirs(self->up2));
	ST_OK(st_mkdirs(self->wd));
	ST_OK(st_mkdirs(self->m1));
	ST_OK(st_mkdirs(self->m2));
	self->log = NULL;
}

FIXTURE_TEARDOWN(inuse)
{
	free(self->log);
	st_cleanup(self->dir);
}

/*
 * Mount a union of string keys (key, value pairs; a NULL value sets a
 * flag) on @mnt with the new mount API: 0 or errno; *log gets its log.
 */
static int fsmount_keys(const char *mnt, const char *const *kv, int n,
			char **log)
{
	int fd = st_fsopen(), err = 0, i;

	free(*log);
	*log = NULL;
	if (fd < 0)
		return errno;
	for (i = 0; i < 2 * n && !err; i += 2)
		if (fsconfig(fd, kv[i + 1] ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG,
			     kv[i], kv[i + 1], 0))
			err = errno;
	if (!err && st_fsmount_at(fd, mnt))
		err = errno;
	*log = st_fslog(fd);
	close(fd);
	return err;
}

/* overlay spelling upperdir=@up, lowerdir=@low, workdir=@wd on @mnt. */
static int ovl_mount(const char *mnt, const char *up, const char *low,
		     const char *wd, char **log)
{
	const char *kv[] = { "lowerdir", low, "upperdir", up, "workdir", wd };

	return fsmount_keys(mnt, kv, 3, log);
}

/* br=@up=rw:@low=ro on @mnt. */
static int br_mount(const char *mnt, const char *up, const char *low,
		    char **log)
{
	const char *kv[] = { "branch_rw", up, "branch_ro", low };

	return fsmount_keys(mnt, kv, 2, log);
}

static bool has(const char *log, const char *want)
{
	return log && strstr(log, want);
}

TEST_F(inuse, same_rw_branch)
{
	ASSERT_EQ(0, st_mount_rw(self->m1, self->up, (char *[]){ self->low }, 1, NULL))
		TH_LOG("%s", strerror(errno));
	/* A temporary of a copy-up in flight: the second mount must not touch it. */
	ST_OK(st_put(st_fmt("%s/.wh..wh.work/#inflight", self->up), "tmp"));

	EXPECT_EQ(EBUSY, br_mount(self->m2, self->up, self->low, &self->log));
	EXPECT_TRUE(has(self->log, st_fmt("branch %s: " BUSY " (its rw branch %s)",
					  self->up, self->up)))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(-1, st_mount_rw(self->m2, self->up, NULL, 0, NULL));
	EXPECT_EQ(EBUSY, errno);
	/* Also as a read-only union: a rw branch is set up all the same. */
	EXPECT_EQ(-1, mount("none", self->m2, "strata", MS_RDONLY,
			    st_fmt("br=%s=rw", self->up)));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_STREQ("tmp", st_cat(st_fmt("%s/.wh..wh.work/#inflight", self->up)));

	/* Nothing inside it or around it either, nor its work directory. */
	EXPECT_EQ(EBUSY, br_mount(self->m2, st_fmt("%s/sub", self->up), self->low,
				  &self->log));
	EXPECT_TRUE(has(self->log, st_fmt("branch %s/sub: " BUSY, self->up)))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(EBUSY, fsmount_keys(self->m2, (const char *[]){ "branch_rw", self->dir },
				      1, &self->log));
	EXPECT_TRUE(has(self->log, st_fmt("branch %s: " BUSY, self->dir)))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(EBUSY, br_mount(self->m2, st_fmt("%s/.wh..wh.work", self->up),
				  self->low, &self->log));

	/* Gone with the first union. */
	ASSERT_EQ(0, st_umount(self->m1));
	EXPECT_EQ(0, br_mount(self->m2, self->up, self->low, &self->log))
		TH_LOG("log: %s", self->log);
	EXPECT_STREQ("up", st_cat(st_fmt("%s/sub/g", self->m2)));
	EXPECT_NE(0, access(st_fmt("%s/.wh..wh.work/#inflight", self->up), F_OK));
}

TEST_F(inuse, same_workdir)
{
	ASSERT_EQ(0, ovl_mount(self->m1, self->up, self->low, self->wd, &self->log))
		TH_LOG("log: %s", self->log);
	ST_OK(st_put(st_fmt("%s/work/#inflight", self->wd), "tmp"));

	EXPECT_EQ(EBUSY, ovl_mount(self->m2, self->up2, self->low, self->wd, &self->log));
	EXPECT_TRUE(has(self->log, st_fmt("workdir %s: " BUSY " (its workdir %s)",
					  self->wd, self->wd)))
		TH_LOG("log: %s", self->log);
	/* The first union's work directory as the second's workdir= or rw branch. */
	EXPECT_EQ(EBUSY, ovl_mount(self->m2, self->up2, self->low,
				   st_fmt("%s/work", self->wd), &self->log));
	EXPECT_EQ(EBUSY, br_mount(self->m2, st_fmt("%s/work", self->wd), self->low,
				  &self->log));
	/* Its rw branch as the second one's workdir=. */
	EXPECT_EQ(EBUSY, ovl_mount(self->m2, self->up2, self->low, self->up, &self->log));
	EXPECT_TRUE(has(self->log, st_fmt("workdir %s: " BUSY " (its rw branch %s)",
					  self->up, self->up)))
		TH_LOG("log: %s", self->log);
	EXPECT_STREQ("tmp", st_cat(st_fmt("%s/work/#inflight", self->wd)));
	EXPECT_NE(0, access(st_fmt("%s/work", self->up), F_OK));

	ASSERT_EQ(0, st_umount(self->m1));
	EXPECT_EQ(0, ovl_mount(self->m2, self->up2, self->low, self->wd, &self->log))
		TH_LOG("log: %s", self->log);
}

/* The claim is on the directory, not on the path that reached it. */
TEST_F(inuse, bind_mount)
{
	char *bind = strdup(st_fmt("%s/bind", self->dir));

	ST_OK(st_mkdirs(bind));
	ASSERT_EQ(0, mount(self->up, bind, NULL, MS_BIND, NULL));
	ASSERT_EQ(0, st_mount_rw(self->m1, self->up, NULL, 0, NULL));
	EXPECT_EQ(EBUSY, br_mount(self->m2, bind, self->low, &self->log));
	EXPECT_TRUE(has(self->log, st_fmt("branch %s: " BUSY " (its rw branch %s)",
					  bind, self->up)))
		TH_LOG("log: %s", self->log);
	ASSERT_EQ(0, st_umount(self->m1));
	/* And the other way round. */
	ASSERT_EQ(0, st_mount_rw(self->m1, bind, NULL, 0, NULL));
	EXPECT_EQ(EBUSY, br_mount(self->m2, self->up, self->low, &self->log));
	ASSERT_EQ(0, st_umount(self->m1));
	EXPECT_EQ(0, umount(bind));
	free(bind);
}

/* ro and rr branches are not claimed: any number of unions share them. */
TEST_F(inuse, lower_branches_shared)
{
	char *third = strdup(st_fmt("%s/m3", self->dir));

	ST_OK(st_mkdirs(third));
	ASSERT_EQ(0, st_mount_rw(self->m1, self->up, (char *[]){ self->low }, 1, NULL));
	EXPECT_EQ(0, st_mount_rw(self->m2, self->up2, (char *[]){ self->low }, 1, NULL))
		TH_LOG("%s", strerror(errno));
	/* Even the first union's rw branch, read-only below another one. */
	EXPECT_EQ(0, mount("none", third, "strata", MS_RDONLY,
			   st_fmt("br=%s=rr:%s=ro", self->up, self->low)))
		TH_LOG("%s", strerror(errno));
	EXPECT_STREQ("up", st_cat(st_fmt("%s/sub/g", third)));
	free(third);
}

/*
 * A union whose rw branch is a directory of another union claims that
 * union's directory (its workdir= too: ".wh..wh.work" is a reserved name
 * in the lower union).
 */
TEST_F(inuse, nested_union)
{
	char *top = strdup(st_fmt("%s/top", self->dir));

	ST_OK(st_mkdirs(top));
	ASSERT_EQ(0, st_mount_rw(self->m1, self->up, (char *[]){ self->low }, 1, NULL));
	ST_OK(st_mkdirs(st_fmt("%s/nest", self->m1)));
	ST_OK(st_mkdirs(st_fmt("%s/w", self->m1)));
	ST_OK(st_mkdirs(st_fmt("%s/w2", self->m1)));
	EXPECT_EQ(0, ovl_mount(self->m2, st_fmt("%s/nest", self->m1), self->low,
			       st_fmt("%s/w", self->m1), &self->log))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(0, st_put(st_fmt("%s/new", self->m2), "n"));
	EXPECT_STREQ("n", st_cat(st_fmt("%s/nest/new", self->up)));
	EXPECT_EQ(EBUSY, ovl_mount(top, st_fmt("%s/nest", self->m1), self->low,
				   st_fmt("%s/w2", self->m1), &self->log));
	EXPECT_TRUE(has(self->log, st_fmt("branch %s/nest: " BUSY " (its rw branch %s/nest)",
					  self->m1, self->m1)))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(EBUSY, ovl_mount(top, st_fmt("%s/w2", self->m1), self->low,
				   st_fmt("%s/w", self->m1), &self->log));
	EXPECT_TRUE(has(self->log, st_fmt("workdir %s/w: " BUSY " (its workdir %s/w)",
					  self->m1, self->m1)))
		TH_LOG("log: %s", self->log);
	ASSERT_EQ(0, st_umount(self->m2));
	free(top);
}

/* A lazily unmounted union keeps its claim until its last file closes. */
TEST_F(inuse, lazy_umount)
{
	int fd;

	ASSERT_EQ(0, st_mount_rw(self->m1, self->up, (char *[]){ self->low }, 1, NULL));
	fd = open(st_fmt("%s/f", self->m1), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, umount2(self->m1, MNT_DETACH));
	EXPECT_EQ(EBUSY, br_mount(self->m2, self->up, self->low, &self->log));
	EXPECT_EQ(3, write(fd, "new", 3));
	close(fd);
	EXPECT_EQ(0, br_mount(self->m2, self->up, self->low, &self->log))
		TH_LOG("log: %s", self->log);
	EXPECT_STREQ("new", st_cat(st_fmt("%s/f", self->m2)));
}

/* Remounting changes nothing; a mount that fails gives back what it took. */
TEST_F(inuse, remount_and_failed_mount)
{
	char *other = strdup(st_fmt("%s/other", self->dir));

	ASSERT_EQ(0, st_mount_rw(self->m1, self->up, NULL, 0, NULL));
	ASSERT_EQ(0, mount(NULL, self->m1, NULL, MS_REMOUNT | MS_RDONLY, NULL));
	EXPECT_EQ(EBUSY, br_mount(self->m2, self->up, self->low, &self->log));
	ASSERT_EQ(0, mount(NULL, self->m1, NULL, MS_REMOUNT, NULL));
	EXPECT_EQ(EBUSY, br_mount(self->m2, self->up, self->low, &self->log));
	ASSERT_EQ(0, st_umount(self->m1));

	/* workdir= on another filesystem fails after the claims were made. */
	ST_OK(st_mkdirs(other));
	ASSERT_EQ(0, mount("tmpfs", other, "tmpfs", 0, NULL));
	EXPECT_EQ(EINVAL, ovl_mount(self->m1, self->up, self->low, other, &self->log));
	EXPECT_TRUE(has(self->log, "workdir: not on the filesystem of the rw branch"))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(0, ovl_mount(self->m1, self->up, self->low, self->wd, &self->log))
		TH_LOG("log: %s", self->log);
	ASSERT_EQ(0, st_umount(self->m1));
	EXPECT_EQ(0, umount(other));
	free(other);
}

struct racer {
	const char *mnt, *up, *low;
	int err;
};

static void *race_mount(void *arg)
{
	struct racer *r = arg;
	char *log = NULL;

	r->err = br_mount(r->mnt, r->up, r->low, &log);
	free(log);
	return NULL;
}

/* Two mounts of one rw branch at once: exactly one wins, every time. */
TEST_F(inuse, racing_mounts)
{
	struct racer r[2] = { { self->m1, self->up, self->low, 0 },
			      { self->m2, self->up, self->low, 0 } };
	pthread_t t[2];
	int round, i;

	for (round = 0; round < 20; round++) {
		for (i = 0; i < 2; i++)
			ASSERT_EQ(0, pthread_create(&t[i], NULL, race_mount, &r[i]));
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		ASSERT_TRUE((!r[0].err && r[1].err == EBUSY) ||
			    (!r[1].err && r[0].err == EBUSY))
			TH_LOG("round %d: %s, %s", round, strerror(r[0].err),
			       strerror(r[1].err));
		ASSERT_EQ(0, st_umount(r[0].err ? self->m2 : self->m1));
	}
}

TEST_HARNESS_MAIN
