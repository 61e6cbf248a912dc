// SPDX-License-Identifier: GPL-2.0
/*
 * EDQUOT on the rw branch: a project quota on the rw branch's directory
 * (and its work directory) runs out during copy-up, the data fill of a
 * metadata-only stub, create/mkdir/symlink, whiteouts (unlink, rmdir),
 * renames (copies, whiteouts, redirects) and a plain write.  Each refused
 * call must fail with EDQUOT and leave the union view, the rw branch and the
 * work directory as they were, the quota usage as it was, and the lower
 * branches byte-identical.  The ENOSPC counterparts are in copy_up_test,
 * whiteout_write_test and metacopy_test.
 *
 * The guest's shared disks are mounted without quotas, so every test makes
 * its own filesystem image (a sparse file on the tmpfs scratch directory),
 * mounts it through a loop device with "prjquota" and gives the rw branch
 * and the work directory a project id with PROJINHERIT.  Project quotas,
 * not user quotas: strata copies up and writes with the mounter's
 * credentials, root here, and the project id charges whatever lands in the
 * branch whoever writes it.
 *
 * Two rules make the limits bite for root:
 *  - XFS never enforces limits for id 0, so the project id is 42;
 *  - VFS quotas (ext4) let CAP_SYS_RESOURCE exceed hard limits, and strata
 *    works with the credentials of the mounter, so the test drops
 *    CAP_SYS_RESOURCE before it mounts the union (the capability is checked
 *    in the credentials strata switches to).  XFS ignores the capability.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/quota.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define MiB (1 << 20)
#define WORK ".wh..wh.work"
#define PROJID 42

#ifndef __NR_quotactl_fd
#define __NR_quotactl_fd 443
#endif

/* ---- local helpers ---- */

/* The union view (owners, modes, link counts, data; xattrs if asked). */
static char *snap(const char *root, bool xattrs, const char *skip)
{
	return st_snapshot(root, ST_SNAP_NLINK | (xattrs ? ST_SNAP_XATTRS : 0),
			   skip);
}

/* Run a command line quietly; its exit status, or -1. */
static int run(const char *cmd)
{
	int st = system(st_fmt("%s >/dev/null 2>&1", cmd));

	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Attach @img to a free loop device that goes away with its last mount. */
static int loop_attach(const char *img, char *dev, size_t len)
{
	struct loop_config lc = { .info.lo_flags = LO_FLAGS_AUTOCLEAR };
	int ctl, nr, fd, lfd = -1;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -1;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return -1;
	snprintf(dev, len, "/dev/loop%d", nr);
	fd = open(img, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		lfd = open(dev, O_RDWR | O_CLOEXEC);
	if (lfd >= 0) {
		lc.fd = fd;
		if (ioctl(lfd, LOOP_CONFIGURE, &lc)) {
			close(lfd);
			lfd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return lfd;
}

static int set_projid(const char *dir, unsigned int id)
{
	struct fsxattr fa;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = -1;

	if (fd < 0)
		return -1;
	if (!ioctl(fd, FS_IOC_FSGETXATTR, &fa)) {
		fa.fsx_projid = id;
		fa.fsx_xflags |= FS_XFLAG_PROJINHERIT;
		ret = ioctl(fd, FS_IOC_FSSETXATTR, &fa);
	}
	close(fd);
	return ret;
}

/* Drop CAP_SYS_RESOURCE from the effective and permitted sets. */
static int drop_sys_resource(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	int i = CAP_SYS_RESOURCE / 32;
	unsigned int bit = 1U << (CAP_SYS_RESOURCE % 32);

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[i].effective &= ~bit;
	d[i].permitted &= ~bit;
	d[i].inheritable &= ~bit;
	return syscall(SYS_capset, &h, d);
}

/* ---- fixture ---- */

FIXTURE(qt) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char qfs[ST_PATH];	/* the quota filesystem */
	char up[ST_PATH];	/* rw branch, on qfs */
	char wd[ST_PATH];	/* workdir= (its "work" inside), or "" */
	char work[ST_PATH];	/* the work directory strata uses */
	char **l;		/* l[0] unused, l[1] l[2] lower, on tmpfs */
	int qfd;		/* root of qfs, for quotactl_fd */
	char *opts;		/* strata's mount options */
	char *low0, *view0, *rw0;
	unsigned long long space0, inodes0;
};

FIXTURE_VARIANT(qt) {
	const char *fs;		/* "xfs" or "ext4" */
	int err;		/* what a full quota gives */
	const char *wh;
	bool workdir;
};

/*
 * XFS reports an exhausted project quota as ENOSPC (a project is a
 * directory tree with a size, as df shows it); the VFS quota code of
 * ext4 says EDQUOT for every quota type.
 */
FIXTURE_VARIANT_ADD(qt, xfs_aufs) {
	.fs = "xfs", .err = ENOSPC, .wh = "aufs" };
FIXTURE_VARIANT_ADD(qt, xfs_overlay) {
	.fs = "xfs", .err = ENOSPC, .wh = "overlay", .workdir = true };
FIXTURE_VARIANT_ADD(qt, ext4_aufs) {
	.fs = "ext4", .err = EDQUOT, .wh = "aufs", .workdir = true };
FIXTURE_VARIANT_ADD(qt, ext4_overlay) {
	.fs = "ext4", .err = EDQUOT, .wh = "overlay" };

static const char *const lower_spec[] = {
	"1:f:tiny=tiny", "1:f:x=x", "1:f:y=y", "1:d:ldir", "1:f:ldir/a=a",
	"1:f:ldir/b=b", "1:f:d/a=a", "2:d:e", "2:f:d/c=c", "2:d:ldir/sub",
	"2:f:ldir/sub/s=s", "2:d:p/empty", NULL
};

static int get_quota(int qfd, struct if_dqblk *dq)
{
	memset(dq, 0, sizeof(*dq));
	return syscall(__NR_quotactl_fd, qfd, QCMD(Q_GETQUOTA, PRJQUOTA),
		       PROJID, dq);
}

/* Hard (and soft) limits: @kib of space, @inodes inodes; 0 is no limit. */
static int set_limits(int qfd, unsigned long long kib, unsigned long long inodes)
{
	struct if_dqblk dq = {
		.dqb_bhardlimit = kib, .dqb_bsoftlimit = kib,
		.dqb_ihardlimit = inodes, .dqb_isoftlimit = inodes,
		.dqb_valid = QIF_LIMITS,
	};

	return syscall(__NR_quotactl_fd, qfd, QCMD(Q_SETQUOTA, PRJQUOTA),
		       PROJID, &dq);
}

/*
 * Usage once pending work settled: XFS frees the blocks of an unlinked
 * inode in the background (inodegc).  With @want, wait (up to 10 s) until
 * it is @want[0] bytes and @want[1] inodes; without, until two reads
 * 100 ms apart agree.
 */
static int usage(int qfd, const unsigned long long *want,
		 unsigned long long *space, unsigned long long *inodes)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	unsigned long long s = ~0ULL, i = ~0ULL;
	struct if_dqblk dq;
	int n;

	for (n = 0; n < 100; n++) {
		syncfs(qfd);
		if (get_quota(qfd, &dq))
			return -1;
		if (want ? dq.dqb_curspace == want[0] && dq.dqb_curinodes == want[1] :
		    dq.dqb_curspace == s && dq.dqb_curinodes == i)
			break;
		s = dq.dqb_curspace;
		i = dq.dqb_curinodes;
		nanosleep(&ts, NULL);
	}
	*space = dq.dqb_curspace;
	*inodes = dq.dqb_curinodes;
	return 0;
}

#define MOUNT()							\
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->up, self->l + 1, 2,	\
				 self->opts))				\
		TH_LOG("mount %s: %s", self->opts, strerror(errno))

FIXTURE_SETUP(qt)
{
	const char *mkfs;
	char dev[64], *img;
	int lfd;

	ST_PREPARE("tmpfs", "qt", self->dir);
	self->qfd = -1;
	self->l = st_make_layers(self->dir, 3);
	ASSERT_NE(NULL, self->l);
	ST_OK(st_build(self->dir, lower_spec));
	ST_OK(st_put_pattern(st_fmt("%s/big", self->l[1]), 4 * MiB, 7));
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	strcpy(self->qfs, st_fmt("%s/qfs", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	ST_OK(st_mkdirs(self->qfs));

	/*
	 * mkfs.xfs refuses less than 300 MB (its log alone is 64 MB); the
	 * image is sparse, so the scratch tmpfs holds only what mkfs wrote.
	 */
	img = strdup(st_fmt("%s/qfs.img", self->dir));
	lfd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, lfd);
	ST_OK(ftruncate(lfd, (!strcmp(variant->fs, "xfs") ? 300 : 64) * (off_t)MiB));
	close(lfd);
	if (!strcmp(variant->fs, "xfs"))
		mkfs = st_fmt("mkfs.xfs -q -f -K -m reflink=0 %s", img);
	else
		mkfs = st_fmt("mkfs.ext4 -q -F -b 4096 -O quota,project -E nodiscard %s",
			      img);
	/*
	 * A setup that skips gets no teardown: what it made goes now, or
	 * the images (mkfs writes XFS's 64 MB log) fill the scratch tmpfs.
	 */
	if (run(mkfs)) {
		st_cleanup(self->dir);
		SKIP(return, "cannot make the %s image (mkfs missing?): %s", variant->fs, mkfs);
	}
	lfd = loop_attach(img, dev, sizeof(dev));
	free(img);
	if (lfd < 0) {
		int e = errno;

		st_cleanup(self->dir);
		SKIP(return, "no loop device: %s", strerror(e));
	}
	if (mount(dev, self->qfs, variant->fs, 0, "prjquota")) {
		int e = errno;

		ioctl(lfd, LOOP_CLR_FD, 0);
		close(lfd);
		st_cleanup(self->dir);
		SKIP(return, "mount %s -o prjquota: %s (kernel without quota support?)",
		     variant->fs, strerror(e));
	}
	close(lfd);
	self->qfd = open(self->qfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->qfd);

	strcpy(self->up, st_fmt("%s/u", self->qfs));
	ST_OK(st_mkdirs(self->up));
	ST_OK(set_projid(self->up, PROJID));
	if (variant->workdir) {
		strcpy(self->wd, st_fmt("%s/w", self->qfs));
		strcpy(self->work, st_fmt("%s/work", self->wd));
		ST_OK(st_mkdirs(self->wd));
		/* The copies are renamed from there into the rw branch:
		 * another project id would make that EXDEV. */
		ST_OK(set_projid(self->wd, PROJID));
	} else {
		strcpy(self->work, st_fmt("%s/" WORK, self->up));
	}
	{
		struct if_dqblk dq;

		if (get_quota(self->qfd, &dq)) {
			int e = errno;

			close(self->qfd);
			st_cleanup(self->dir);
			SKIP(return, "Q_GETQUOTA on %s: %s", variant->fs, strerror(e));
		}
	}
	ST_OK(drop_sys_resource());
	ASSERT_LT(0, asprintf(&self->opts, "whiteout=%s%s%s", variant->wh,
			      variant->workdir ? ",workdir=" : "",
			      variant->workdir ? self->wd : ""));
	MOUNT();
}

FIXTURE_TEARDOWN_PARENT(qt)
{
	st_cleanup(self->dir);
}

#define U(rel) st_fmt("%s/%s", self->mnt, rel)
#define L1(rel) st_fmt("%s/%s", self->l[1], rel)

static char *lower_snap(char **l)
{
	char *a = snap(l[1], true, NULL), *b = snap(l[2], true, NULL), *s;

	if (asprintf(&s, "%s--\n%s", a, b) < 0)
		s = NULL;
	free(a);
	free(b);
	return s;
}

/*
 * The rw branch, and the names in the work directory (whose own times
 * change with every temporary made and removed there).
 */
static char *rw_snap(FIXTURE_DATA(qt) *self)
{
	char *a = snap(self->up, true, WORK), *s;

	if (asprintf(&s, "%s--work: %s\n", a, st_ls(self->work)) < 0)
		s = NULL;
	free(a);
	return s;
}

/* Record the state that each refused call must leave as it was. */
#define RECORD() do {							\
	free(self->view0);						\
	free(self->rw0);						\
	self->view0 = snap(self->mnt, false, NULL);				\
	self->rw0 = rw_snap(self);					\
	ST_OK(usage(self->qfd, NULL, &self->space0, &self->inodes0));	\
} while (0)

/* @call fails with the quota's errno and the union shows no change. */
#define REFUSED_VIEW(call) do {						\
	char *__v;							\
	errno = 0;							\
	EXPECT_EQ(-1, (long)(call)) TH_LOG("%s succeeded", #call);	\
	EXPECT_EQ(variant->err, errno) TH_LOG("%s: %s", #call, strerror(errno)); \
	__v = snap(self->mnt, false, NULL);				\
	EXPECT_STREQ(self->view0, __v) TH_LOG("union changed by %s", #call); \
	free(__v);							\
	EXPECT_STREQ("", st_ls(self->work)) TH_LOG("%s: work dir", #call); \
} while (0)

/* ... and the rw branch and the quota usage are as they were. */
#define REFUSED(call) do {						\
	unsigned long long __s, __i, __w[2] = { self->space0, self->inodes0 }; \
	char *__v;							\
	REFUSED_VIEW(call);						\
	__v = rw_snap(self);						\
	EXPECT_STREQ(self->rw0, __v) TH_LOG("rw branch or work dir changed by %s", #call); \
	free(__v);							\
	ST_OK(usage(self->qfd, __w, &__s, &__i));			\
	EXPECT_EQ(self->space0, __s) TH_LOG("%s: space not given back", #call); \
	EXPECT_EQ(self->inodes0, __i) TH_LOG("%s: inodes not given back", #call); \
} while (0)

#define SNAP_LOWER() (self->low0 = lower_snap(self->l))
#define LOWER_UNCHANGED() do {						\
	char *__n = lower_snap(self->l);				\
	EXPECT_STREQ(self->low0, __n) TH_LOG("a lower branch changed");	\
	free(__n);							\
} while (0)

/* Limits: the space used now plus @kib, the inodes used now plus @inodes. */
#define LIMIT(kib, inodes) do {						\
	RECORD();							\
	ST_OK(set_limits(self->qfd, self->space0 / 1024 + (kib),	\
			 self->inodes0 + (inodes)));			\
} while (0)

/* Copy-up of a 4 MiB lower file with 1 MiB of room: open for write, append,
 * truncate to a non-zero size. */
TEST_F(qt, copy_up_data)
{
	struct stat st;
	uint64_t h = st_hash_file(L1("big"), NULL);
	int fd;

	SNAP_LOWER();
	LIMIT(1024, 100);
	REFUSED(open(U("big"), O_WRONLY));
	REFUSED(open(U("big"), O_RDWR | O_APPEND));
	REFUSED(truncate(U("big"), 1));
	REFUSED(truncate(U("big"), 8 * MiB));
	ST_OK(stat(U("big"), &st));
	EXPECT_EQ(4 * MiB, st.st_size);
	EXPECT_EQ(h, st_hash_file(U("big"), NULL));

	/* A small file still fits. */
	fd = open(U("tiny"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "!", 1));
	close(fd);
	EXPECT_STREQ("tiny!", st_cat(st_fmt("%s/tiny", self->up)));
	EXPECT_STREQ("", st_ls(self->work));
	ST_OK(st_umount(self->mnt));
	LOWER_UNCHANGED();
}

/* A metadata-only stub fits; filling it with the data does not, and the
 * stub stays readable with the lower data. */
TEST_F(qt, stub_fill)
{
	uint64_t h = st_hash_file(L1("big"), NULL);
	struct stat st;

	SNAP_LOWER();
	LIMIT(1024, 100);
	ST_OK(chmod(U("big"), 0600));
	ST_OK(lstat(st_fmt("%s/big", self->up), &st));
	EXPECT_GE(64, st.st_blocks) TH_LOG("not a metadata-only copy");
	RECORD();
	REFUSED(open(U("big"), O_WRONLY));
	REFUSED(open(U("big"), O_RDWR | O_APPEND));
	REFUSED(truncate(U("big"), 1));
	ST_OK(stat(U("big"), &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(4 * MiB, st.st_size);
	EXPECT_EQ(h, st_hash_file(U("big"), NULL));
	/* After a remount too. */
	ST_OK(st_umount(self->mnt));
	MOUNT();
	EXPECT_EQ(h, st_hash_file(U("big"), NULL));
	ST_OK(st_umount(self->mnt));
	LOWER_UNCHANGED();
}

/* No inode left: everything that needs a new inode in the rw branch. */
TEST_F(qt, no_inode_left)
{
	SNAP_LOWER();
	LIMIT(0, 0);
	REFUSED(open(U("new"), O_WRONLY | O_CREAT | O_EXCL, 0644));
	REFUSED(mkdir(U("newdir"), 0755));
	REFUSED(symlink("x", U("sl")));
	REFUSED(mknod(U("fifo"), S_IFIFO | 0644, 0));
	REFUSED(open(U("d/new"), O_WRONLY | O_CREAT | O_EXCL, 0644));
	REFUSED(chmod(U("x"), 0600));
	REFUSED(link(U("x"), U("xlink")));
	REFUSED(unlink(U("x")));
	REFUSED(unlink(U("d/a")));
	REFUSED(rmdir(U("e")));
	REFUSED(rename(U("x"), U("x2")));
	REFUSED(rename(U("x"), U("y")));
	REFUSED(rename(U("ldir"), U("ldir2")));
	REFUSED(rename(U("e"), U("d/e")));
	ST_OK(st_umount(self->mnt));
	LOWER_UNCHANGED();
}

/*
 * Room for one inode: the copy-up of a renamed file, or the copy of a
 * renamed directory or of the parent of a removed name, fits; the
 * whiteout does not.  The union shows no change and nothing is half
 * done; a complete copy-up may stay (it is one of its own, as for the
 * ancestors of any copied object, see Documentation/copy-up.rst), and
 * nothing else.
 */
#define ONE_LEFT(call, copied, type) do {					\
	char *__rw;							\
	LIMIT(0, 1);							\
	__rw = strdup(self->rw0);					\
	REFUSED_VIEW(call);						\
	free(self->rw0);						\
	self->rw0 = rw_snap(self);					\
	if (strcmp(__rw, self->rw0))					\
		EXPECT_STREQ(type, st_ltype(st_fmt("%s/%s", self->up, copied))) \
			TH_LOG("%s left more than the copy of %s:\n%s\nnow:\n%s", \
			       #call, copied, __rw, self->rw0);	\
	free(__rw);							\
} while (0)

TEST_F(qt, one_inode_left)
{
	SNAP_LOWER();
	ONE_LEFT(rename(U("y"), U("y2")), "y", "f");
	ONE_LEFT(rename(U("ldir"), U("ldir2")), "ldir", "d");
	ONE_LEFT(rename(U("e"), U("e2")), "e", "d");
	ONE_LEFT(unlink(U("d/a")), "d", "d");
	ONE_LEFT(rmdir(U("p/empty")), "p", "d");
	ST_OK(st_umount(self->mnt));
	LOWER_UNCHANGED();
}

/* A write to an upper file beyond the limit; the file keeps what fit. */
TEST_F(qt, upper_write)
{
	char *buf = malloc(MiB);
	unsigned long long s, i, w[2];
	ssize_t n, total = 0;
	struct stat st;
	int fd;

	ASSERT_NE(NULL, buf);
	memset(buf, 'q', MiB);
	SNAP_LOWER();
	fd = open(U("out"), O_WRONLY | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	LIMIT(512, 100);
	errno = 0;
	while ((n = write(fd, buf, MiB)) > 0)
		total += n;
	EXPECT_EQ(-1, n);
	EXPECT_EQ(variant->err, errno) TH_LOG("write: %s", strerror(errno));
	EXPECT_GT(MiB, total);
	ST_OK(fsync(fd));
	close(fd);
	ST_OK(stat(U("out"), &st));
	EXPECT_EQ(total, st.st_size);
	ST_OK(unlink(U("out")));
	w[0] = self->space0;
	w[1] = self->inodes0 - 1;
	ST_OK(usage(self->qfd, w, &s, &i));
	EXPECT_EQ(self->inodes0 - 1, i);
	EXPECT_EQ(self->space0, s);
	ST_OK(st_umount(self->mnt));
	LOWER_UNCHANGED();
	free(buf);
}

TEST_HARNESS_MAIN
