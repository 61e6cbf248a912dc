// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-up in a writable union (design.md §4, issue 3): every trigger copies
 * a lower object into the rw branch and nothing else does; the copy keeps
 * data, holes, mode, owner, times with nanoseconds and xattrs; it is atomic
 * (one upper file for many concurrent writers, nothing left behind on
 * ENOSPC); readers opened before it see the new data; the data operations
 * on the copy (mmap, fsync, syncfs, fallocate, truncate) reach the branch.
 * Every test also checks that the lower branches were not modified.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define MiB (1 << 20)
#define WORK ".wh..wh.work"

/* ---- local helpers (writable-union tests) ---- */

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NULL-terminated items, sorted and joined with ',' (as st_ls). */
static const char *sorted_list(const char **items)
{
	size_t n = 0, i;
	char *out;

	while (items[n])
		n++;
	qsort(items, n, sizeof(*items), cmp_strp);
	out = calloc(1, ST_PATH);
	for (i = 0; i < n; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, items[i]);
	}
	return out;
}

static char *snap(const char *root)
{
	return st_snapshot(root, ST_SNAP_XATTRS, NULL);
}

/* 0 when equal; otherwise print the first differing lines and return 1. */
static int snap_cmp(const char *what, const char *a, const char *b)
{
	char *x = strdup(a), *y = strdup(b), *sx, *sy, *lx, *ly;
	int shown = 0;

	if (!strcmp(a, b)) {
		free(x);
		free(y);
		return 0;
	}
	lx = strtok_r(x, "\n", &sx);
	ly = strtok_r(y, "\n", &sy);
	while ((lx || ly) && shown < 8) {
		if (!lx || !ly || strcmp(lx, ly)) {
			fprintf(stderr, "# %s: before: %s\n#   %*s after: %s\n", what,
				lx ? lx : "(none)", (int)strlen(what), "", ly ? ly : "(none)");
			shown++;
		}
		if (lx)
			lx = strtok_r(NULL, "\n", &sx);
		if (ly)
			ly = strtok_r(NULL, "\n", &sy);
	}
	free(x);
	free(y);
	return 1;
}

/* Deterministic data: 8-byte words depending on a seed and the offset. */
static void pattern(char *buf, size_t len, uint64_t seed, uint64_t off)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t x = seed ^ ((off + i) * 0x9E3779B97F4A7C15ULL);

		x ^= x >> 29;
		x *= 0xBF58476D1CE4E5B9ULL;
		x ^= x >> 32;
		memcpy(buf + i, &x, 8);
	}
}

/* Write @size bytes of pattern(@seed) to @path; its st_hash_file() hash. */
static uint64_t put_pattern(const char *path, off_t size, uint64_t seed)
{
	char *buf = malloc(MiB);
	uint64_t h = 0;
	off_t pos;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || !buf)
		return 0;
	for (pos = 0; pos < size; pos += MiB) {
		size_t n = size - pos < MiB ? size - pos : MiB;

		pattern(buf, n, seed, pos);
		if (write(fd, buf, n) != (ssize_t)n) {
			close(fd);
			free(buf);
			return 0;
		}
		h = st_hash(buf, n, h);
	}
	free(buf);
	return close(fd) ? 0 : h;
}

/* "D<start>-<end>" for each data extent, by SEEK_DATA/SEEK_HOLE. */
static const char *extent_map(const char *path)
{
	char *out = calloc(1, 4096);
	off_t pos = 0, data, hole, size;
	int fd = open(path, O_RDONLY), n = 0;

	if (fd < 0)
		return st_fmt("<%s>", strerrorname_np(errno));
	size = lseek(fd, 0, SEEK_END);
	while (pos < size && n++ < 64) {
		data = lseek(fd, pos, SEEK_DATA);
		if (data < 0)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = size;
		snprintf(out + strlen(out), 4096 - strlen(out), "D%lld-%lld ",
			 (long long)data, (long long)hole);
		pos = hole;
	}
	close(fd);
	return out;
}

/* Sectors written so far to the block device holding @path (-1: none). */
static long long dev_sectors_written(const char *path)
{
	char line[4096], best[256] = "", dev[256];
	size_t bestlen = 0;
	long long v[11] = { 0 };
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char mp[1024], src[256], *dash = strstr(line, " - ");
		size_t l;

		if (!dash || sscanf(line, "%*s %*s %*s %*s %1023s", mp) != 1 ||
		    sscanf(dash + 3, "%*s %255s", src) != 1)
			continue;
		l = strlen(mp);
		if (strncmp(src, "/dev/", 5) || strncmp(path, mp, l) ||
		    (path[l] && path[l] != '/' && l > 1) || l < bestlen)
			continue;
		bestlen = l;
		snprintf(best, sizeof(best), "%s", src + 5);
	}
	fclose(f);
	if (!*best)
		return -1;
	snprintf(dev, sizeof(dev), "/sys/class/block/%s/stat", best);
	f = fopen(dev, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6]) != 7)
		v[6] = -1;
	fclose(f);
	return v[6];
}

static int write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

/* ---- fixture ---- */

FIXTURE(cu) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char other[ST_PATH];	/* a scratch dir on a second filesystem */
	char **l;		/* l[0] rw, l[1] and l[2] lower */
	char *lowsnap;
	bool userx;
	char expire[32], wb[32];	/* writeback sysctls to restore */
};

FIXTURE_VARIANT(cu) {
	const char *fs;
};

ST_FS_VARIANTS(cu);

FIXTURE_SETUP(cu)
{
	ST_PREPARE(variant->fs, "cu", self->dir);
	self->l = st_make_layers(self->dir, 3);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	self->userx = st_user_xattr_ok(self->l[1]);
}

FIXTURE_TEARDOWN_PARENT(cu)
{
	if (self->expire[0])
		write_sysctl("/proc/sys/vm/dirty_expire_centisecs", self->expire);
	if (self->wb[0])
		write_sysctl("/proc/sys/vm/dirty_writeback_centisecs", self->wb);
	st_cleanup(self->dir);
	if (self->other[0])
		st_cleanup(self->other);
}

#define U(rel) st_fmt("%s/%s", self->mnt, rel)
#define UP(rel) st_fmt("%s/%s", self->l[0], rel)
#define L1(rel) st_fmt("%s/%s", self->l[1], rel)
#define L2(rel) st_fmt("%s/%s", self->l[2], rel)
#define WORKDIR st_fmt("%s/" WORK, self->l[0])

#define MOUNT() \
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 2, NULL)) \
		TH_LOG("mount: %s", strerror(errno))

/* Record the lower branches; LOWER_UNCHANGED() compares at the end. */
#define SNAP_LOWER() do {						\
	self->lowsnap = strdup(st_fmt("%s", snap(self->l[1])));	\
	self->lowsnap = realloc(self->lowsnap, strlen(self->lowsnap) + 1); \
	{ char *s2 = snap(self->l[2]);					\
	  self->lowsnap = realloc(self->lowsnap,			\
			  strlen(self->lowsnap) + strlen(s2) + 8);	\
	  strcat(self->lowsnap, "--\n"); strcat(self->lowsnap, s2);	\
	  free(s2); }							\
} while (0)

#define LOWER_UNCHANGED() do {						\
	char *now = snap(self->l[1]), *s2 = snap(self->l[2]);		\
	now = realloc(now, strlen(now) + strlen(s2) + 8);		\
	strcat(now, "--\n"); strcat(now, s2); free(s2);		\
	EXPECT_EQ(0, snap_cmp("lower branch", self->lowsnap, now))	\
		TH_LOG("a lower branch was modified");			\
	free(now);							\
} while (0)

#define WORK_EMPTY() \
	EXPECT_STREQ("", st_ls(WORKDIR)) TH_LOG("leftovers in the work directory")

/* Every trigger of design.md §4 puts the object into the rw branch. */
TEST_F(cu, every_trigger_copies_up)
{
	struct timespec ts[2] = { { 1500000000, 111 }, { 1500000001, 222 } };
	const char *expect[32] = {
		".wh.t_ren:f", "deep:d", "t_app:f", "t_chmod:f", "t_chown:f",
		"t_dir:d", "t_fifo:p", "t_link:f", "t_link2:f", "t_rdwr:f",
		"t_ren2:f", "t_rmx:f", "t_setx:f", "t_sl:l", "t_trunc:f",
		"t_truncate:f", "t_utimes:f", "t_wronly:f", "t_dev:c", NULL
	};
	struct stat a, b;
	char buf[64];
	int fd, i;

	static const char *const spec[] = {
		"1:f:t_wronly=wronly", "1:f:t_rdwr=rdwr", "1:f:t_trunc=trunc",
		"1:f:t_app=app", "1:f:t_truncate=truncate", "1:f:t_chmod=chmod",
		"2:f:t_chown=chown", "1:f:t_utimes=utimes", "1:f:t_setx=setx",
		"1:f:t_rmx=rmx", "2:f:t_link=link", "1:f:t_ren=ren",
		"1:l:t_sl=target", "1:p:t_fifo", "1:d:t_dir", "2:f:t_dir/child=c",
		"2:c:t_dev=1,3", "2:f:deep/a/b/c/f=f", NULL
	};
	ST_OK(st_build(self->dir, spec));
	ST_OK(setxattr(L1("t_rmx"), "trusted.r", "1", 1, 0));
	SNAP_LOWER();
	MOUNT();

	fd = open(U("t_wronly"), O_WRONLY);
	ASSERT_LE(0, fd);
	close(fd);
	fd = open(U("t_rdwr"), O_RDWR);
	ASSERT_LE(0, fd);
	close(fd);
	fd = open(U("t_trunc"), O_RDONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	fd = open(U("t_app"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "+", 1));
	close(fd);
	ST_OK(truncate(U("t_truncate"), 3));
	ST_OK(chmod(U("t_chmod"), 0600));
	ST_OK(chown(U("t_chown"), 1000, 1001));
	ST_OK(utimensat(AT_FDCWD, U("t_utimes"), ts, 0));
	ST_OK(setxattr(U("t_setx"), "trusted.t", "v", 1, 0));
	ST_OK(removexattr(U("t_rmx"), "trusted.r"));
	ST_OK(link(U("t_link"), U("t_link2")));
	ST_OK(rename(U("t_ren"), U("t_ren2")));
	ST_OK(lchown(U("t_sl"), 1000, 1000));
	ST_OK(chmod(U("t_fifo"), 0600));
	ST_OK(chmod(U("t_dir"), 0700));
	ST_OK(chown(U("t_dev"), 0, 1000));
	fd = open(U("deep/a/b/c/new"), O_WRONLY | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	close(fd);

	/* Exactly the changed objects (and the parents of new ones). */
	EXPECT_STREQ(sorted_list(expect), st_ls_nowork(self->l[0]));
	EXPECT_STREQ("a:d", st_ls(UP("deep")));
	EXPECT_STREQ("b:d", st_ls(UP("deep/a")));
	EXPECT_STREQ("c:d", st_ls(UP("deep/a/b")));
	EXPECT_STREQ("new:f", st_ls(UP("deep/a/b/c")));
	EXPECT_STREQ("f:f,new:f", st_ls(U("deep/a/b/c")));
	EXPECT_STREQ("child:f", st_ls(U("t_dir")));	/* still merged */
	EXPECT_STREQ("", st_ls(UP("t_dir")));		/* not opaque */
	EXPECT_EQ(-1, getxattr(UP("t_dir"), "trusted.overlay.opaque", buf, sizeof(buf)));

	/* The copies hold the data and the change. */
	EXPECT_STREQ("wronly", st_cat(UP("t_wronly")));
	EXPECT_STREQ("rdwr", st_cat(UP("t_rdwr")));
	EXPECT_STREQ("", st_cat(UP("t_trunc")));
	EXPECT_STREQ("", st_cat(U("t_trunc")));
	EXPECT_STREQ("app+", st_cat(UP("t_app")));
	EXPECT_STREQ("app+", st_cat(U("t_app")));
	EXPECT_STREQ("tru", st_cat(UP("t_truncate")));
	ST_OK(stat(UP("t_chmod"), &a));
	EXPECT_EQ(0600, a.st_mode & 07777);
	ST_OK(stat(UP("t_chown"), &a));
	EXPECT_EQ(1000, a.st_uid);
	EXPECT_EQ(1001, a.st_gid);
	/* Attribute, name and link changes copy no data (metacopy_test). */
	EXPECT_LT(0, getxattr(UP("t_chown"), "trusted.strata.metacopy", NULL, 0));
	EXPECT_STREQ("chown", st_cat(U("t_chown")));
	ST_OK(stat(UP("t_utimes"), &a));
	EXPECT_EQ(1500000001, a.st_mtim.tv_sec);
	EXPECT_EQ(222, a.st_mtim.tv_nsec);
	EXPECT_EQ(1, getxattr(UP("t_setx"), "trusted.t", buf, sizeof(buf)));
	EXPECT_EQ(-1, getxattr(UP("t_rmx"), "trusted.r", buf, sizeof(buf)));
	EXPECT_EQ(ENODATA, errno);
	EXPECT_EQ(-1, getxattr(U("t_rmx"), "trusted.r", buf, sizeof(buf)));
	ST_OK(stat(UP("t_link"), &a));
	ST_OK(stat(UP("t_link2"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(2, a.st_nlink);
	ST_OK(stat(U("t_link2"), &b));
	EXPECT_EQ(2, b.st_nlink);
	EXPECT_STREQ("ren", st_cat(U("t_ren2")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("t_ren")));
	ST_OK(lstat(UP("t_sl"), &a));
	EXPECT_EQ(1000, a.st_uid);
	EXPECT_EQ(6, readlink(UP("t_sl"), buf, sizeof(buf)));
	ST_OK(lstat(UP("t_fifo"), &a));
	EXPECT_EQ(0600, a.st_mode & 07777);
	ST_OK(lstat(UP("t_dev"), &a));
	EXPECT_EQ(makedev(1, 3), a.st_rdev);
	EXPECT_EQ(1000, a.st_gid);
	ST_OK(stat(UP("t_dir"), &a));
	EXPECT_EQ(0700, a.st_mode & 07777);

	/* The union shows the copies. */
	for (i = 0; expect[i]; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s", expect[i]);
		*strchr(name, ':') = 0;
		if (!strncmp(name, ".wh.", 4) || !strcmp(name, "t_ren"))
			continue;
		ST_OK(lstat(U(name), &a));
		ST_OK(lstat(UP(name), &b));
		EXPECT_EQ(b.st_mode, a.st_mode) TH_LOG("%s", name);
		EXPECT_EQ(b.st_uid, a.st_uid) TH_LOG("%s", name);
		EXPECT_EQ(b.st_size, a.st_size) TH_LOG("%s", name);
	}
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

/* Reading, stat, readdir, xattr reads, a read-only open: nothing is copied. */
TEST_F(cu, read_access_never_copies_up)
{
	struct timespec old[2] = { { 1000, 0 }, { 2000, 0 } };
	char buf[256], *p;
	struct statfs sfs;
	struct stat st;
	struct dirent *de;
	off_t off = 0;
	int fd, pfd[2];
	DIR *d;

	static const char *const spec[] = {
		"1:f:f=lower data", "2:f:d/g=g", "1:d:d/sub", "1:l:sl=f",
		"1:p:fifo", "2:c:null=1,3", "2:f:e=", NULL
	};
	ST_OK(st_build(self->dir, spec));
	ST_OK(setxattr(L1("f"), "trusted.t", "1", 1, 0));
	/* An old atime: a relatime read would want to update it. */
	ST_OK(utimensat(AT_FDCWD, L1("f"), old, 0));
	SNAP_LOWER();
	MOUNT();

	fd = open(U("f"), O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(10, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(4, pread(fd, buf, 5, 6));
	p = mmap(NULL, 10, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ('l', p[0]);
	munmap(p, 10);
	/* A private writable mapping never reaches the file. */
	p = mmap(NULL, 10, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 'X';
	munmap(p, 10);
	EXPECT_EQ(0, flock(fd, LOCK_EX));
	EXPECT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED));
	ASSERT_EQ(0, pipe(pfd));
	EXPECT_EQ(10, splice(fd, &off, pfd[1], NULL, 64, 0));
	close(pfd[0]);
	close(pfd[1]);
	EXPECT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, fstatfs(fd, &sfs));
	EXPECT_EQ(0, fsync(fd));
	close(fd);
	fd = open(U("f"), O_RDONLY | O_NOATIME);
	ASSERT_LE(0, fd);
	close(fd);
	fd = open(U("f"), O_RDONLY | O_CREAT, 0600);	/* exists: no create */
	ASSERT_LE(0, fd);
	close(fd);
	fd = open(U("f"), O_PATH);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, access(U("f"), R_OK | W_OK));
	EXPECT_EQ(0, stat(U("f"), &st));
	EXPECT_EQ(1, getxattr(U("f"), "trusted.t", buf, sizeof(buf)));
	EXPECT_LE(0, listxattr(U("f"), buf, sizeof(buf)));
	EXPECT_EQ(1, readlink(U("sl"), buf, sizeof(buf)));
	EXPECT_STREQ("lower data", st_cat(U("sl")));
	d = opendir(U("d"));
	ASSERT_NE(NULL, d);
	while ((de = readdir(d)))
		;
	closedir(d);
	EXPECT_STREQ("g:f,sub:d", st_ls(U("d")));
	ASSERT_EQ(0, chdir(U("d/sub")));
	ASSERT_EQ(0, chdir("/"));
	/* Devices and FIFOs are written to, not their branch entry. */
	fd = open(U("fifo"), O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "x", 1));
	close(fd);
	fd = open(U("null"), O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(3, write(fd, "abc", 3));
	close(fd);
	fd = open(U("e"), O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);

	EXPECT_STREQ("", st_ls_nowork(self->l[0])) TH_LOG("a read copied something up");
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

/* Data, mode (set-id bits too), owner, times with ns, xattrs, ACLs. */
TEST_F(cu, attributes_preserved)
{
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1200000000, 987654321 } };
	/* ACL: user::rw- user:1000:rwx group::r-- mask::rwx other::r-- */
	const uint32_t acl[] = {
		2,
		0x01 | (6 << 16), 0xffffffff,
		0x02 | (7 << 16), 1000,
		0x04 | (4 << 16), 0xffffffff,
		0x10 | (7 << 16), 0xffffffff,
		0x20 | (4 << 16), 0xffffffff,
	};
	struct vfs_cap_data cap = {
		.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
		.data = { { .permitted = 1u << CAP_NET_RAW }, { 0, 0 } },
	};
	char big[3000], val[4096];
	bool have_acl, have_cap;
	struct stat lo, up, un;
	const char *names[] = { "attr", "adir", "adir2", "adir2/sub", NULL };
	int fd, i;

	static const char *const spec[] = {
		"1:f:attr=attribute data", "1:d:adir", "2:f:adir/x=x",
		"2:f:adir2/sub/y=y", NULL
	};
	ST_OK(st_build(self->dir, spec));
	memset(big, 'b', sizeof(big));
	/* Set ACL and caps before the mode: they may change it. */
	have_acl = !setxattr(L1("attr"), "system.posix_acl_access", acl, sizeof(acl), 0);
	if (have_acl)
		ST_OK(setxattr(L1("adir"), "system.posix_acl_default", acl, sizeof(acl), 0));
	ST_OK(chown(L1("attr"), 1234, 5678));
	have_cap = !setxattr(L1("attr"), "security.capability", &cap, XATTR_CAPS_SZ_2, 0);
	TH_LOG("ACLs %s, security.capability %s", have_acl ? "yes" : "no",
	       have_cap ? "yes" : "no");
	ST_OK(chmod(L1("attr"), 04751));
	ST_OK(setxattr(L1("attr"), "trusted.t", "trusted value", 13, 0));
	if (self->userx) {
		ST_OK(setxattr(L1("attr"), "user.a", "1", 1, 0));
		ST_OK(setxattr(L1("attr"), "user.big", big, sizeof(big), 0));
		ST_OK(setxattr(L1("adir"), "user.d", "dir", 3, 0));
	}
	ST_OK(chown(L1("adir"), 1000, 1000));
	ST_OK(chmod(L1("adir"), 02710));
	ST_OK(chmod(L2("adir2"), 0750));
	ST_OK(chown(L2("adir2/sub"), 7, 8));
	for (i = 0; names[i]; i++) {
		const char *p = i < 2 ? L1(names[i]) : L2(names[i]);

		ts[1].tv_nsec = 987654321 - i;
		ST_OK(utimensat(AT_FDCWD, p, ts, 0));
	}
	ST_OK(st_put(L2("pdir/pfile"), "p"));
	ST_OK(utimensat(AT_FDCWD, L2("pdir"), ts, 0));
	SNAP_LOWER();
	MOUNT();

	/* A write open without a write: copies, changes nothing. */
	fd = open(U("attr"), O_WRONLY);
	ASSERT_LE(0, fd);
	close(fd);
	/* Nor does it change the directory the file is in. */
	fd = open(U("pdir/pfile"), O_WRONLY);
	ASSERT_LE(0, fd);
	close(fd);
	ST_OK(stat(U("pdir"), &un));
	EXPECT_EQ(ts[1].tv_sec * 1000000000LL + ts[1].tv_nsec,
		  un.st_mtim.tv_sec * 1000000000LL + un.st_mtim.tv_nsec)
		TH_LOG("copying pdir/pfile up changed pdir's mtime in the union to %lld.%09ld",
		       (long long)un.st_mtim.tv_sec, un.st_mtim.tv_nsec);
	/* A directory, by setting an xattr on it. */
	ST_OK(setxattr(U("adir"), "trusted.new", "n", 1, 0));
	/* Parents, by creating below them (only sub's mtime changes). */
	fd = open(U("adir2/sub/new"), O_WRONLY | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	close(fd);

	for (i = 0; names[i]; i++) {
		const char *lp = i < 2 ? L1(names[i]) : L2(names[i]);
		const char *upp = UP(names[i]);
		char llist[4096], ulist[4096], *x;
		ssize_t ll, ul;

		ST_OK(lstat(lp, &lo));
		ST_OK(lstat(upp, &up));
		ST_OK(lstat(U(names[i]), &un));
		EXPECT_EQ(lo.st_mode, up.st_mode) TH_LOG("%s: mode %o, lower %o",
							 names[i], up.st_mode, lo.st_mode);
		EXPECT_EQ(lo.st_uid, up.st_uid) TH_LOG("%s", names[i]);
		EXPECT_EQ(lo.st_gid, up.st_gid) TH_LOG("%s", names[i]);
		EXPECT_EQ(lo.st_atim.tv_sec, up.st_atim.tv_sec) TH_LOG("%s", names[i]);
		EXPECT_EQ(lo.st_atim.tv_nsec, up.st_atim.tv_nsec) TH_LOG("%s", names[i]);
		if (strcmp(names[i], "adir2/sub")) {
			EXPECT_EQ(lo.st_mtim.tv_sec * 1000000000LL + lo.st_mtim.tv_nsec,
				  up.st_mtim.tv_sec * 1000000000LL + up.st_mtim.tv_nsec)
				TH_LOG("%s: mtime %lld.%09ld, lower %lld.%09ld%s", names[i],
				       (long long)up.st_mtim.tv_sec, up.st_mtim.tv_nsec,
				       (long long)lo.st_mtim.tv_sec, lo.st_mtim.tv_nsec,
				       !strcmp(names[i], "adir2") ?
				       " (changed by copying up its child sub)" : "");
		}
		EXPECT_EQ(up.st_mode, un.st_mode) TH_LOG("%s", names[i]);
		EXPECT_EQ(up.st_uid, un.st_uid) TH_LOG("%s", names[i]);
		EXPECT_EQ(up.st_mtim.tv_nsec, un.st_mtim.tv_nsec) TH_LOG("%s", names[i]);

		/* Every lower xattr, byte for byte. */
		ll = llistxattr(lp, llist, sizeof(llist));
		ul = llistxattr(upp, ulist, sizeof(ulist));
		ASSERT_LE(0, ll);
		ASSERT_LE(0, ul);
		for (x = llist; x < llist + ll; x += strlen(x) + 1) {
			char lv[4096];
			ssize_t a = lgetxattr(lp, x, lv, sizeof(lv));
			ssize_t b = lgetxattr(upp, x, val, sizeof(val));

			EXPECT_EQ(a, b) TH_LOG("%s: xattr %s not copied (%s)", names[i], x,
					       b < 0 ? strerror(errno) : "size");
			if (a == b && a > 0)
				EXPECT_EQ(0, memcmp(lv, val, a)) TH_LOG("%s: %s", names[i], x);
		}
	}
	EXPECT_STREQ("attribute data", st_cat(UP("attr")));
	EXPECT_EQ(0, stat(UP("attr"), &up));
	EXPECT_EQ(04751, up.st_mode & 07777) TH_LOG("set-user-ID lost by copy-up");
	if (have_cap)
		EXPECT_EQ(XATTR_CAPS_SZ_2, getxattr(UP("attr"), "security.capability",
						     val, sizeof(val)));
	if (self->userx)
		EXPECT_EQ(sizeof(big), getxattr(U("attr"), "user.big", val, sizeof(val)));
	if (have_acl) {
		/* The copied default ACL is inherited by a new file. */
		EXPECT_LT(0, getxattr(UP("adir"), "system.posix_acl_default", val,
				      sizeof(val)));
		fd = open(U("adir/inherit"), O_WRONLY | O_CREAT, 0666);
		ASSERT_LE(0, fd);
		close(fd);
		EXPECT_LT(0, getxattr(UP("adir/inherit"), "system.posix_acl_access",
				      val, sizeof(val)));
		ST_OK(stat(U("adir/inherit"), &un));
		EXPECT_EQ(0664, un.st_mode & 0777) TH_LOG("mode %o", un.st_mode);
	}
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

/* Holes stay holes: same SEEK_DATA/SEEK_HOLE map, few blocks. */
TEST_F(cu, sparse_file_keeps_holes)
{
	static const off_t at[] = { 0, 4 * MiB, 9 * MiB };
	char *buf = malloc(64 * 1024);
	const char *lmap, *umap, *vmap;
	struct stat lo, up;
	unsigned int i;
	int fd;

	ASSERT_NE(NULL, buf);
	fd = open(L1("sparse"), O_WRONLY | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ST_OK(ftruncate(fd, 16 * MiB));
	for (i = 0; i < ARRAY_SIZE(at); i++) {
		pattern(buf, 64 * 1024, i + 1, at[i]);
		ASSERT_EQ(64 * 1024, pwrite(fd, buf, 64 * 1024, at[i]));
	}
	ST_OK(fsync(fd));
	close(fd);
	SNAP_LOWER();
	MOUNT();

	lmap = strdup(extent_map(L1("sparse")));
	fd = open(U("sparse"), O_RDWR);
	ASSERT_LE(0, fd);
	close(fd);
	umap = extent_map(UP("sparse"));
	vmap = extent_map(U("sparse"));
	TH_LOG("lower %s", lmap);
	EXPECT_STREQ(lmap, umap);
	EXPECT_STREQ(lmap, vmap);
	ST_OK(stat(L1("sparse"), &lo));
	ST_OK(stat(UP("sparse"), &up));
	EXPECT_EQ(16 * MiB, up.st_size);
	EXPECT_GT(16 * MiB / 512 / 4, up.st_blocks)
		TH_LOG("upper uses %lld blocks: holes filled", (long long)up.st_blocks);
	EXPECT_GE(lo.st_blocks + 256, up.st_blocks);
	EXPECT_EQ(st_hash_file(L1("sparse"), NULL), st_hash_file(UP("sparse"), NULL));
	WORK_EMPTY();
	LOWER_UNCHANGED();
	free(buf);
}

/* 64 MiB copy-up, then a write in the middle: checksums of all three. */
TEST_F_TIMEOUT(cu, large_file_checksum, 240)
{
	uint64_t lh, want = 0;
	char *buf = malloc(MiB);
	off_t pos, sz = 0;
	int fd;

	ASSERT_NE(NULL, buf);
	lh = put_pattern(L2("big"), 64 * MiB, 42);
	ASSERT_NE(0, lh);
	SNAP_LOWER();
	MOUNT();
	fd = open(U("big"), O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(8, pwrite(fd, "MIDDLE!!", 8, 32 * MiB + 4));
	close(fd);
	for (pos = 0; pos < 64 * MiB; pos += MiB) {
		pattern(buf, MiB, 42, pos);
		if (pos == 32 * MiB)
			memcpy(buf + 4, "MIDDLE!!", 8);
		want = st_hash(buf, MiB, want);
	}
	EXPECT_EQ(want, st_hash_file(UP("big"), &sz));
	EXPECT_EQ(64 * MiB, sz);
	EXPECT_EQ(want, st_hash_file(U("big"), &sz));
	EXPECT_EQ(lh, st_hash_file(L2("big"), NULL));
	WORK_EMPTY();
	LOWER_UNCHANGED();
	free(buf);
}

/* Lower and rw branch on different filesystems: the splice path. */
TEST_F_TIMEOUT(cu, cross_filesystem_copy, 240)
{
	const char *ofs = strcmp(variant->fs, "tmpfs") ? "tmpfs" : "ext4";
	const char *root = getenv("STRATA_TEST_ROOT");
	char *low, *lowers[1], *buf = malloc(64 * 1024), v[8];
	const char *lmap;
	bool xl;
	uint64_t h;
	int fd;

	if (!st_fs_listed(ofs) || !getenv("STRATA_TEST_FS"))
		SKIP(return, "no second filesystem (%s)", ofs);
	snprintf(self->other, sizeof(self->other), "%s/%s/strata-cux-XXXXXX",
		 root && *root ? root : "/mnt", ofs);
	ASSERT_NE(NULL, mkdtemp(self->other));
	low = strdup(st_fmt("%s/low", self->other));
	ST_OK(st_mkdirs(low));
	h = put_pattern(st_fmt("%s/full", low), 24 * MiB + 4096, 7);
	ASSERT_NE(0, h);
	fd = open(st_fmt("%s/sparse", low), O_WRONLY | O_CREAT, 0640);
	ASSERT_LE(0, fd);
	ST_OK(ftruncate(fd, 8 * MiB));
	pattern(buf, 64 * 1024, 9, 0);
	ASSERT_EQ(64 * 1024, pwrite(fd, buf, 64 * 1024, 2 * MiB));
	ST_OK(fsync(fd));
	close(fd);
	lmap = strdup(extent_map(st_fmt("%s/sparse", low)));
	/* An xattr the rw branch may not support (tmpfs on 6.1): dropped, not fatal. */
	xl = !setxattr(st_fmt("%s/full", low), "user.cross", "x", 1, 0);
	ST_OK(setxattr(st_fmt("%s/full", low), "trusted.cross", "t", 1, 0));
	lowers[0] = low;
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], lowers, 1, NULL))
		TH_LOG("mount: %s", strerror(errno));
	ST_OK(truncate(U("full"), 24 * MiB + 4096));	/* copy-up, same size */
	fd = open(U("sparse"), O_WRONLY);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(h, st_hash_file(UP("full"), NULL));
	EXPECT_EQ(h, st_hash_file(U("full"), NULL));
	EXPECT_EQ(h, st_hash_file(st_fmt("%s/full", low), NULL));
	EXPECT_STREQ(lmap, extent_map(UP("sparse")));
	EXPECT_STREQ("D2097152-2162688 ", lmap);
	EXPECT_EQ(1, getxattr(UP("full"), "trusted.cross", v, sizeof(v)));
	if (xl && st_user_xattr_ok(self->l[0]))
		EXPECT_EQ(1, getxattr(UP("full"), "user.cross", v, sizeof(v)));
	WORK_EMPTY();
	free(buf);
}

/* Eight writers open the same lower file at once: one copy, all writes. */
TEST_F(cu, concurrent_writers_one_copy)
{
	struct res { int err; ino_t ino; } *res;
	char *want = malloc(8 * MiB), *got;
	int i, pfd[2], status, n = 8;
	ssize_t len;
	pid_t pid[8];

	ASSERT_NE(NULL, want);
	pattern(want, 8 * MiB, 3, 0);
	ST_OK(st_put_buf(L1("conc"), want, 8 * MiB));
	SNAP_LOWER();
	MOUNT();
	res = mmap(NULL, sizeof(*res) * n, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	ASSERT_EQ(0, pipe(pfd));
	for (i = 0; i < n; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i]) {
			struct stat st;
			char c, mark[4096];
			int fd;

			close(pfd[1]);
			if (read(pfd[0], &c, 1) != 0)	/* the starting gun */
				_exit(2);
			fd = open(U("conc"), O_WRONLY);
			if (fd < 0) {
				res[i].err = errno;
				_exit(1);
			}
			memset(mark, 'A' + i, sizeof(mark));
			if (pwrite(fd, mark, sizeof(mark), (off_t)i * 64 * 1024) != 4096)
				res[i].err = errno ?: EIO;
			fstat(fd, &st);
			res[i].ino = st.st_ino;
			close(fd);
			_exit(res[i].err ? 1 : 0);
		}
	}
	close(pfd[0]);
	close(pfd[1]);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_EQ(0, status) TH_LOG("writer %d: %s", i, strerror(res[i].err));
		EXPECT_EQ(res[0].ino, res[i].ino) TH_LOG("writer %d saw another inode", i);
	}
	for (i = 0; i < n; i++)
		memset(want + i * 64 * 1024, 'A' + i, 4096);
	EXPECT_STREQ("conc:f", st_ls_nowork(self->l[0]));
	WORK_EMPTY();
	got = st_slurp(UP("conc"), &len);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(8 * MiB, len);
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, memcmp(got + i * 64 * 1024, want + i * 64 * 1024, 4096))
			TH_LOG("write of writer %d lost", i);
	EXPECT_EQ(0, memcmp(got, want, 8 * MiB));
	free(got);
	got = st_slurp(U("conc"), &len);
	ASSERT_NE(NULL, got);
	EXPECT_EQ(0, memcmp(got, want, 8 * MiB));
	free(got);
	LOWER_UNCHANGED();
	free(want);
}

/* A descriptor opened read-only before the copy-up reads the new data. */
TEST_F(cu, reader_opened_before_sees_copy)
{
	char buf[64] = "", *p;
	loff_t off = 0;
	int r, w, pfd[2];
	struct stat st;

	ST_OK(st_put(L1("rd"), "old content of the lower file"));
	SNAP_LOWER();
	MOUNT();
	r = open(U("rd"), O_RDONLY);
	ASSERT_LE(0, r);
	ASSERT_EQ(3, read(r, buf, 3));
	EXPECT_EQ(0, memcmp(buf, "old", 3));

	w = open(U("rd"), O_WRONLY | O_TRUNC);
	ASSERT_LE(0, w);
	ASSERT_EQ(9, write(w, "NEW DATA!", 9));
	close(w);

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(9, pread(r, buf, sizeof(buf), 0));
	EXPECT_STREQ("NEW DATA!", buf);
	ST_OK(fstat(r, &st));
	EXPECT_EQ(9, st.st_size);
	EXPECT_EQ(9, lseek(r, 0, SEEK_END));
	ASSERT_EQ(0, pipe(pfd));
	EXPECT_EQ(9, splice(r, &off, pfd[1], NULL, sizeof(buf), 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(9, read(pfd[0], buf, sizeof(buf)));
	EXPECT_STREQ("NEW DATA!", buf);
	p = mmap(NULL, 9, PROT_READ, MAP_SHARED, r, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p, "NEW DATA!", 9));
	munmap(p, 9);
	close(r);
	close(pfd[0]);
	close(pfd[1]);
	EXPECT_STREQ("NEW DATA!", st_cat(UP("rd")));
	LOWER_UNCHANGED();
}

/* A shared writable mapping through the union writes the rw copy. */
TEST_F(cu, shared_mmap_writes_upper)
{
	char *want = malloc(16384), *p, buf[100];
	int fd, r;

	pattern(want, 16384, 5, 0);
	ST_OK(st_put_buf(L2("mm"), want, 16384));
	SNAP_LOWER();
	MOUNT();
	fd = open(U("mm"), O_RDWR);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p, want, 16384));
	memset(p + 5000, 'Z', 100);
	memset(want + 5000, 'Z', 100);
	/* Visible through another descriptor at once: one page cache. */
	r = open(U("mm"), O_RDONLY);
	ASSERT_LE(0, r);
	EXPECT_EQ(100, pread(r, buf, 100, 5000));
	EXPECT_EQ('Z', buf[0]);
	close(r);
	ST_OK(msync(p, 16384, MS_SYNC));
	munmap(p, 16384);
	close(fd);
	ST_OK(st_drop_caches());
	p = st_slurp(UP("mm"), NULL);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, memcmp(p, want, 16384));
	free(p);
	p = st_slurp(U("mm"), NULL);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, memcmp(p, want, 16384));
	free(p);
	LOWER_UNCHANGED();
	free(want);
}

/* Hold off background writeback (the teardown restores it). */
#define NO_WRITEBACK() do {						\
	char *s_ = st_slurp("/proc/sys/vm/dirty_expire_centisecs", NULL); \
	char *t_ = st_slurp("/proc/sys/vm/dirty_writeback_centisecs", NULL); \
	snprintf(self->expire, sizeof(self->expire), "%s", s_ ? s_ : "3000"); \
	snprintf(self->wb, sizeof(self->wb), "%s", t_ ? t_ : "500");	\
	free(s_);							\
	free(t_);							\
	write_sysctl("/proc/sys/vm/dirty_expire_centisecs", "360000");	\
	write_sysctl("/proc/sys/vm/dirty_writeback_centisecs", "0");	\
	sync();								\
} while (0)

/*
 * fsync, fdatasync, syncfs and O_SYNC writes through the union must reach
 * the rw branch's device: each has to make it write data that was only in
 * memory.  A stray journal commit can only make a broken sync look good,
 * never a good one bad, and each check gets three tries.
 */
TEST_F(cu, sync_calls_reach_branch)
{
	static const char *const what[] = { "fsync", "fdatasync", "syncfs", "O_SYNC write" };
	char *buf = malloc(MiB);
	long long before = 0, after = 0;
	unsigned int k;
	int fd, try, e;

	pattern(buf, MiB, 1, 0);
	ST_OK(st_put(L1("s"), "sync me"));
	SNAP_LOWER();
	MOUNT();

	/* The calls work at all, on every filesystem. */
	fd = open(U("s"), O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(MiB, write(fd, buf, MiB));
	EXPECT_EQ(0, fsync(fd));
	EXPECT_EQ(0, fdatasync(fd));
	EXPECT_EQ(0, syncfs(fd));
	EXPECT_EQ(0, sync_file_range(fd, 0, MiB, SYNC_FILE_RANGE_WRITE));
	close(fd);
	fd = open(U("s"), O_WRONLY | O_SYNC | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(4, write(fd, "sync", 4));
	close(fd);

	if (dev_sectors_written(self->l[0]) < 0) {
		TH_LOG("%s has no block device: durability not measured", variant->fs);
		goto out;
	}
	NO_WRITEBACK();
	for (k = 0; k < ARRAY_SIZE(what); k++) {
		long long best = 0;

		for (try = 0; try < 3 && best <= 0; try++) {
			fd = open(U(st_fmt("f%u.%d", k, try)), O_WRONLY | O_CREAT |
				  (k == 3 ? O_SYNC : 0), 0644);
			ASSERT_LE(0, fd);
			/* Make the name durable first: only data is pending. */
			ASSERT_EQ(0, fsync(fd));
			sync();
			if (k == 3)
				before = dev_sectors_written(self->l[0]);
			ASSERT_EQ(MiB, write(fd, buf, MiB));
			if (k != 3)
				before = dev_sectors_written(self->l[0]);
			e = k == 0 ? fsync(fd) : k == 1 ? fdatasync(fd) :
			    k == 2 ? syncfs(fd) : 0;
			after = dev_sectors_written(self->l[0]);
			close(fd);
			EXPECT_EQ(0, e);
			if (after - before > best)
				best = after - before;
		}
		EXPECT_LT(0, best) TH_LOG("%s through the union wrote nothing to the %s branch",
					  what[k], variant->fs);
	}
out:
	LOWER_UNCHANGED();
	free(buf);
}

/*
 * fsync() of a directory through the union must make a new name in it
 * durable, as on the branch filesystem itself (overlayfs syncs the upper
 * directory).  Documentation/non-standard-behaviour.rst says strata's is a
 * no-op; this test says what that costs.
 */
TEST_F(cu, dir_fsync_reaches_branch)
{
	long long before, after, best = 0;
	int fd, dfd, try;

	ST_OK(st_mkdirs(L1("sd")));
	SNAP_LOWER();
	MOUNT();
	dfd = open(U("sd"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(0, fsync(dfd));
	close(dfd);
	if (dev_sectors_written(self->l[0]) < 0)
		SKIP(return, "%s has no block device", variant->fs);
	NO_WRITEBACK();
	for (try = 0; try < 3 && best <= 0; try++) {
		fd = open(U(st_fmt("sd/n%d", try)), O_WRONLY | O_CREAT, 0644);
		ASSERT_LE(0, fd);
		close(fd);
		dfd = open(U("sd"), O_RDONLY | O_DIRECTORY);
		ASSERT_LE(0, dfd);
		before = dev_sectors_written(self->l[0]);
		EXPECT_EQ(0, fsync(dfd));
		after = dev_sectors_written(self->l[0]);
		close(dfd);
		if (after - before > best)
			best = after - before;
	}
	EXPECT_LT(0, best) TH_LOG("directory fsync through the union wrote nothing to the %s branch",
				  variant->fs);
	LOWER_UNCHANGED();
}

/* fallocate modes, truncate, ftruncate and O_TRUNC on lower files. */
TEST_F(cu, fallocate_and_truncate)
{
	char *want = malloc(10000), buf[8192];
	struct stat st;
	int fd;

	pattern(want, 10000, 11, 0);
	ST_OK(st_put_buf(L1("fa"), want, 8192));
	ST_OK(st_put_buf(L1("tr"), want, 10000));
	ST_OK(st_put_buf(L2("ftr"), want, 10000));
	ST_OK(st_put_buf(L2("otr"), want, 10000));
	SNAP_LOWER();
	MOUNT();

	fd = open(U("fa"), O_RDWR);
	ASSERT_LE(0, fd);
	ST_OK(fallocate(fd, 0, 8192, 65536));
	ST_OK(fstat(fd, &st));
	EXPECT_EQ(8192 + 65536, st.st_size);
	ST_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 73728, 65536));
	ST_OK(fstat(fd, &st));
	EXPECT_EQ(73728, st.st_size);
	ST_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
	EXPECT_EQ(4096, lseek(fd, 0, SEEK_DATA));
	EXPECT_EQ(4096, pread(fd, buf, 4096, 0));
	EXPECT_EQ(0, buf[0]);
	EXPECT_EQ(0, buf[4095]);
	EXPECT_EQ(4096, pread(fd, buf, 4096, 4096));
	EXPECT_EQ(0, memcmp(buf, want + 4096, 4096));
	close(fd);
	ST_OK(stat(UP("fa"), &st));
	EXPECT_EQ(73728, st.st_size);
	ST_OK(stat(U("fa"), &st));
	EXPECT_EQ(73728, st.st_size);

	ST_OK(truncate(U("tr"), 3));
	ST_OK(stat(U("tr"), &st));
	EXPECT_EQ(3, st.st_size);
	ST_OK(stat(UP("tr"), &st));
	EXPECT_EQ(3, st.st_size);
	EXPECT_EQ(0, memcmp(st_cat(UP("tr")), want, 3));

	fd = open(U("ftr"), O_RDWR);
	ASSERT_LE(0, fd);
	ST_OK(ftruncate(fd, 100000));
	EXPECT_EQ(10, pread(fd, buf, 10, 99990));
	EXPECT_EQ(0, buf[0]);
	EXPECT_EQ(100, pread(fd, buf, 100, 0));
	EXPECT_EQ(0, memcmp(buf, want, 100));
	close(fd);
	ST_OK(stat(UP("ftr"), &st));
	EXPECT_EQ(100000, st.st_size);

	fd = open(U("otr"), O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	ST_OK(stat(U("otr"), &st));
	EXPECT_EQ(0, st.st_size);
	ST_OK(stat(UP("otr"), &st));
	EXPECT_EQ(0, st.st_size);
	WORK_EMPTY();
	LOWER_UNCHANGED();
	free(want);
}

/*
 * ENOSPC during copy-up: the caller gets it unchanged, the union still
 * shows the lower file, and the rw branch holds nothing new.
 */
TEST_F(cu, enospc_leaves_union_unchanged)
{
	const char *small = st_fmt("%s/small", self->dir);
	char *up, *work, *lowers[2] = { self->l[1], self->l[2] };
	struct statfs before, after;
	struct stat st;
	uint64_t h;
	int fd;

	h = put_pattern(L1("big"), 4 * MiB, 77);
	ASSERT_NE(0, h);
	ST_OK(st_put(L1("tiny"), "tiny"));
	ST_OK(st_put(L2("dir/inner"), "inner"));
	SNAP_LOWER();
	ST_OK(st_mkdirs(small));
	ASSERT_EQ(0, mount("tmpfs", small, "tmpfs", 0, "size=1m,mode=0755"));
	up = strdup(st_fmt("%s/u", small));
	work = strdup(st_fmt("%s/" WORK, up));
	ST_OK(st_mkdirs(up));
	ASSERT_EQ(0, st_mount_rw(self->mnt, up, lowers, 2, NULL))
		TH_LOG("mount: %s", strerror(errno));
	ST_OK(statfs(small, &before));

	errno = 0;
	EXPECT_EQ(-1, open(U("big"), O_WRONLY));
	EXPECT_EQ(ENOSPC, errno) TH_LOG("open for write: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, open(U("big"), O_RDWR | O_APPEND));
	EXPECT_EQ(ENOSPC, errno);
	errno = 0;
	EXPECT_EQ(-1, truncate(U("big"), 1));
	EXPECT_EQ(ENOSPC, errno);

	/* Still the lower file, complete; nothing in the rw branch. */
	ST_OK(stat(U("big"), &st));
	EXPECT_EQ(4 * MiB, st.st_size);
	EXPECT_EQ(0644, st.st_mode & 07777);
	EXPECT_EQ(h, st_hash_file(U("big"), NULL));
	EXPECT_STREQ("", st_ls_nowork(up));
	EXPECT_STREQ("", st_ls(work)) TH_LOG("leftovers in the work directory");
	ST_OK(statfs(small, &after));
	EXPECT_EQ(before.f_bfree, after.f_bfree) TH_LOG("space not given back");

	/* The union goes on working. */
	fd = open(U("tiny"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "!", 1));
	close(fd);
	EXPECT_STREQ("tiny!", st_cat(st_fmt("%s/tiny", up)));
	ST_OK(st_put(U("dir/new"), "new"));
	EXPECT_STREQ("inner:f,new:f", st_ls(U("dir")));
	EXPECT_STREQ("", st_ls(work));
	/* Truncating to 0 needs no room; either it works or nothing changes. */
	fd = open(U("big"), O_WRONLY | O_TRUNC);
	if (fd >= 0) {
		close(fd);
		ST_OK(stat(U("big"), &st));
		EXPECT_EQ(0, st.st_size);
	} else {
		EXPECT_EQ(ENOSPC, errno);
		TH_LOG("O_TRUNC open of the 4 MiB lower file: %s (its data is copied first)",
		       strerror(errno));
		EXPECT_EQ(h, st_hash_file(U("big"), NULL));
		EXPECT_STREQ("", st_ls(work));
	}
	ST_OK(umount(self->mnt));
	LOWER_UNCHANGED();
}

TEST_HARNESS_MAIN
