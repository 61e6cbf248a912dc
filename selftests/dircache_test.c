// SPDX-License-Identifier: GPL-2.0
/*
 * The listings of rr directories kept across close (Documentation/design.rst,
 * "Merged readdir"), and the one-directory pass-through:
 *
 *   - a merged directory over rr layers in a writable union lists what
 *     creates, unlinks (whiteouts of both formats), renames, mkdir and
 *     rmdir made, at the next opendir; lookups through a listing that
 *     readdir kept agree with it
 *   - live branch changes: an added branch's names appear, a removed
 *     one's go, and a layer that stops being rr is read again
 *   - offsets: the same in a later open of a kept listing, seekdir to
 *     any of them, also in a passed-through directory
 *   - two opens read at once, one of them from before a create
 *   - overlay-style whiteouts in a passed-through directory whose
 *     entries are not in the dcache
 *   - the memory of kept listings is given back at umount
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"
#include "nl_client.h"
#include "../uapi/linux/strata.h"

#define CACHE_BYTES "/sys/module/strata/parameters/dircache_bytes"

FIXTURE(dc) {
	char dir[ST_PATH];
	char mnt[ST_PATH + 8];
	char **l;
};

FIXTURE_VARIANT(dc) {
	const char *fs;
};

ST_FS_VARIANTS(dc);

FIXTURE_SETUP(dc)
{
	if (!st_is_strata())
		SKIP(return, "kept listings are strata's own");
	ST_PREPARE(variant->fs, "dircache", self->dir);
	self->l = st_make_layers(self->dir, 4);
	ASSERT_NE(NULL, self->l);
	snprintf(self->mnt, sizeof(self->mnt), "%s/m", self->dir);
	ST_OK(st_mkdirs(self->mnt));
	ST_OK(st_mkdirs(st_fmt("%s/top", self->dir)));
}

ST_TEARDOWN(dc)

#define U(rel) st_fmt("%s/%s", self->mnt, rel)
#define D(rel) st_fmt("%s/%s", self->dir, rel)

#define BUILD(...) do {							\
	const char *const __spec[] = { __VA_ARGS__, NULL };		\
	ASSERT_EQ(0, st_build(self->dir, __spec));			\
} while (0)

/* rw top over l0..l<n-1>, all rr, plus ",extra". */
#define MOUNT_RW(n, extra) do {						\
	char __o[4 * ST_PATH];						\
	int __i, __p;							\
	__p = snprintf(__o, sizeof(__o), "br=%s=rw", D("top"));	\
	for (__i = 0; __i < (n); __i++)					\
		__p += snprintf(__o + __p, sizeof(__o) - __p, ":%s=rr",	\
				self->l[__i]);				\
	snprintf(__o + __p, sizeof(__o) - __p, "%s", (extra));		\
	ASSERT_EQ(0, mount("none", self->mnt, "strata", 0, __o))	\
		TH_LOG("mount: %s", strerror(errno));			\
} while (0)

/* Twice: the second opendir reads the kept listing. */
#define LS2(want, rel) do {						\
	EXPECT_STREQ(want, st_ls(U(rel)));				\
	EXPECT_STREQ(want, st_ls(U(rel)));				\
} while (0)

/* One branch request on @mnt; 0 or the kernel's errno.  <0: left out. */
static int nl_branch_op(struct nlsk *s, struct family *f, uint8_t cmd,
			const char *mnt, int64_t index, const char *path,
			int64_t mode)
{
	struct reply r;
	struct req q;
	int32_t fd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	uint32_t v;
	int err;

	req_init(&q, f->id, cmd, NLM_F_ACK);
	req_put(&q, STRATA_A_BRANCH_OP_MOUNT_FD, &fd, sizeof(fd));
	if (index >= 0) {
		v = index;
		req_put(&q, STRATA_A_BRANCH_OP_INDEX, &v, sizeof(v));
	}
	if (path)
		req_put(&q, STRATA_A_BRANCH_OP_PATH, path, strlen(path) + 1);
	if (mode >= 0) {
		v = mode;
		req_put(&q, STRATA_A_BRANCH_OP_MODE, &v, sizeof(v));
	}
	err = transact(s, &q, &r) ? -1 : r.error;
	reply_free(&r);
	close(fd);
	return err;
}

static long cache_bytes(void)
{
	FILE *f = fopen(CACHE_BYTES, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

struct ent {
	char name[256];
	int64_t off;
};

/* getdents64 from the current offset to the end, @bufsz at a time. */
static long read_all(int fd, struct ent *e, long max, size_t bufsz)
{
	char buf[65536];
	long n = 0;
	ssize_t r, pos;

	if (bufsz > sizeof(buf))
		bufsz = sizeof(buf);
	while ((r = getdents64(fd, buf, bufsz)) > 0) {
		for (pos = 0; pos < r;) {
			struct dirent64 *d = (struct dirent64 *)(buf + pos);

			if (n == max)
				return -1;
			snprintf(e[n].name, sizeof(e[n].name), "%s", d->d_name);
			e[n].off = d->d_off;
			n++;
			pos += d->d_reclen;
		}
	}
	return r < 0 ? -1 : n;
}

static void build_merged(struct __test_metadata *_metadata, const char *dir)
{
	const char *const spec[] = {
		"0:f:d/c=0", "0:f:d/e=0", "0:f:d/x=0", "0:w:d/x",
		"0:w:d/gone", "0:W:d/gone2",
		"1:f:d/a=1", "1:f:d/b=1", "1:f:d/c=1", "1:f:d/x=1",
		"1:f:d/gone=1", "1:f:d/gone2=1", "1:d:d/sub",
		NULL
	};

	ASSERT_EQ(0, st_build(dir, spec));
}

/* Changes through the union show at the next opendir, in both formats. */
TEST_F(dc, changes_through_the_union)
{
	const char *fmt[] = { ",whiteout=aufs", ",whiteout=overlay" };
	unsigned int i;
	struct stat st;

	build_merged(_metadata, self->dir);
	for (i = 0; i < 2; i++) {
		MOUNT_RW(2, fmt[i]);
		LS2("a:f,b:f,c:f,e:f,sub:d,x:f", "d");
		/* Lookups through the listing readdir kept. */
		EXPECT_STREQ("0", st_cat(U("d/x")));
		EXPECT_STREQ("1", st_cat(U("d/a")));
		EXPECT_STREQ("<ENOENT>", st_cat(U("d/gone")));
		EXPECT_STREQ("<ENOENT>", st_cat(U("d/gone2")));
		EXPECT_EQ(-1, stat(U("d/missing"), &st));

		ST_OK(st_put(U("d/new"), "n"));
		LS2("a:f,b:f,c:f,e:f,new:f,sub:d,x:f", "d");
		ST_OK(unlink(U("d/a")));
		LS2("b:f,c:f,e:f,new:f,sub:d,x:f", "d");
		ST_OK(unlink(U("d/c")));
		LS2("b:f,e:f,new:f,sub:d,x:f", "d");
		ST_OK(rename(U("d/b"), U("d/b2")));
		LS2("b2:f,e:f,new:f,sub:d,x:f", "d");
		ST_OK(rename(U("d/new"), U("d/a")));
		LS2("a:f,b2:f,e:f,sub:d,x:f", "d");
		ST_OK(mkdir(U("d/m"), 0755));
		LS2("a:f,b2:f,e:f,m:d,sub:d,x:f", "d");
		ST_OK(rmdir(U("d/m")));
		ST_OK(rmdir(U("d/sub")));
		LS2("a:f,b2:f,e:f,x:f", "d");
		/* rmdir of a merged directory needs it empty in the union. */
		EXPECT_EQ(-1, rmdir(U("d")));
		EXPECT_EQ(ENOTEMPTY, errno);
		ST_OK(st_umount(self->mnt));
		/* Start the second format from the same layers. */
		ST_OK(system(st_fmt("rm -rf '%s' && mkdir '%s'", D("top"), D("top"))));
	}
}

/* An open directory sees changes made since its open at a rewind. */
TEST_F(dc, rewind_and_concurrent_opens)
{
	struct ent a[64], b[64], c[64];
	long na, nb, k;
	int fd1, fd2;

	build_merged(_metadata, self->dir);
	MOUNT_RW(2, "");
	fd1 = open(U("d"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd1);
	/* Part of the listing, then a create, then a second open. */
	ASSERT_LT(0, getdents64(fd1, (char[80]){}, 80));
	ST_OK(st_put(U("d/new"), "n"));
	fd2 = open(U("d"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd2);
	/* Interleaved reads of both, small buffers. */
	ASSERT_EQ(0, lseek(fd1, 0, SEEK_SET));
	na = read_all(fd1, a, 64, 100);
	nb = read_all(fd2, b, 64, 120);
	/* . .. a b c e sub x, and new */
	EXPECT_EQ(9, na);
	EXPECT_EQ(9, nb);
	for (k = 0; k < na && k < nb; k++)
		EXPECT_STREQ(a[k].name, b[k].name);
	/* Resume points of one open are valid in the other. */
	for (k = 1; k < nb; k++) {
		ASSERT_EQ(b[k - 1].off, lseek(fd1, b[k - 1].off, SEEK_SET));
		ASSERT_EQ(nb - k, read_all(fd1, c, 64, 4096));
		EXPECT_STREQ(b[k].name, c[0].name);
	}
	close(fd1);
	close(fd2);
}

/* The offsets of a kept listing are those of the open that built it. */
TEST_F(dc, seekdir_across_kept_listing)
{
	static struct ent first[700], again[700], rest[700];
	long n, m, k;
	int fd, i, j;

	for (i = 0; i < 4; i++) {
		for (j = 0; j < 150; j++)
			BUILD(st_fmt("%d:f:big/n%d_%03d=%d", i, i, j, i));
		BUILD(st_fmt("%d:f:big/shared=%d", i, i));
		BUILD(st_fmt("%d:w:big/n%d_000", i, i + 1));
	}
	ASSERT_EQ(0, st_mount_union(self->mnt, self->l, 4, "rr", NULL));
	fd = open(U("big"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	n = read_all(fd, first, 700, 512);
	close(fd);
	/* 600 names, 3 whited out, shared once, . and .. */
	ASSERT_EQ(600 - 3 + 1 + 2, n);

	fd = open(U("big"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	m = read_all(fd, again, 700, 4096);
	ASSERT_EQ(n, m);
	for (k = 0; k < n; k++) {
		EXPECT_STREQ(first[k].name, again[k].name);
		EXPECT_EQ(first[k].off, again[k].off);
	}
	for (k = n - 1; k > 0; k -= 17) {
		ASSERT_EQ(first[k - 1].off, lseek(fd, first[k - 1].off, SEEK_SET));
		m = read_all(fd, rest, 700, 300);
		ASSERT_EQ(n - k, m);
		EXPECT_STREQ(first[k].name, rest[0].name);
	}
	close(fd);
}

/*
 * A directory of one real directory is passed through: offsets are the
 * real ones, reserved names and whiteouts are filtered, also when the
 * real entries are not in the dcache.
 */
TEST_F(dc, pass_through)
{
	static struct ent all[400], rest[400];
	struct stat st;
	long n, m, k;
	int fd, j;

	for (j = 0; j < 300; j++)
		BUILD(st_fmt("1:f:one/n%03d=1", j));
	BUILD("1:W:one/wh", "1:c:one/cdev=1,3", "1:w:one/aufs", "1:o:one");
	ASSERT_EQ(0, st_mount_union(self->mnt, self->l, 2, "rr", NULL));
	ASSERT_EQ(0, st_drop_caches());
	EXPECT_EQ(0, stat(U("one"), &st));
	ASSERT_EQ(0, st_drop_caches());
	fd = open(U("one"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	n = read_all(fd, all, 400, 700);
	/* 300 files, cdev, . and .. */
	ASSERT_EQ(303, n);
	for (k = 0; k < n; k++) {
		EXPECT_NE(0, strncmp(all[k].name, ".wh.", 4));
		EXPECT_STRNE("wh", all[k].name);
	}
	EXPECT_NE(NULL, strstr(st_ls(U("one")), "cdev:c"));
	for (k = n - 1; k > 0; k -= 23) {
		ASSERT_EQ(all[k - 1].off, lseek(fd, all[k - 1].off, SEEK_SET));
		m = read_all(fd, rest, 400, 500);
		ASSERT_EQ(n - k, m);
		EXPECT_STREQ(all[k].name, rest[0].name);
	}
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(n, read_all(fd, rest, 400, 4096));
	close(fd);
}

/* Branch changes: listings follow the new stack; non-rr ones are reread. */
TEST_F(dc, live_branch_changes)
{
	struct nlsk s = { .fd = -1 };
	struct family f;
	char buf[4096];
	int fd;

	BUILD("0:f:d/a=0", "1:f:d/b=1", "2:f:d/c=2");
	ASSERT_EQ(0, nlsk_open(&s, 1 << 20));
	ASSERT_EQ(0, resolve(&s, &f));
	MOUNT_RW(2, "");
	LS2("a:f,b:f", "d");

	/* l2 added at the bottom: its names appear. */
	ASSERT_EQ(0, nl_branch_op(&s, &f, STRATA_CMD_BRANCH_ADD, self->mnt, 3,
				  self->l[2], STRATA_BRANCH_MODE_RR));
	LS2("a:f,b:f,c:f", "d");
	/* ... and go with it. */
	ASSERT_EQ(0, nl_branch_op(&s, &f, STRATA_CMD_BRANCH_DEL, self->mnt, 3,
				  NULL, -1));
	LS2("a:f,b:f", "d");

	/* l1 stops being rr while d is open: a rewind reads it again. */
	fd = open(U("d"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, getdents64(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, nl_branch_op(&s, &f, STRATA_CMD_BRANCH_SET, self->mnt, 2,
				  NULL, STRATA_BRANCH_MODE_RO));
	ST_OK(st_put(st_fmt("%s/d/late", self->l[1]), "l"));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	{
		struct ent e[16];
		long n = read_all(fd, e, 16, 4096), k, late = 0;

		ASSERT_EQ(5, n);
		for (k = 0; k < n; k++)
			late += !strcmp(e[k].name, "late");
		EXPECT_EQ(1, late);
	}
	close(fd);
	LS2("a:f,b:f,late:f", "d");
	nlsk_close(&s);
}

/* Kept listings are freed with their dentries, at the latest at umount. */
TEST_F(dc, memory_given_back_at_umount)
{
	long before, during, after;
	int j;

	before = cache_bytes();
	if (before < 0)
		SKIP(return, "no %s", CACHE_BYTES);
	for (j = 0; j < 200; j++)
		BUILD(st_fmt("%d:f:d/n%03d=x", j % 3, j));
	ASSERT_EQ(0, st_mount_union(self->mnt, self->l, 3, "rr", NULL));
	EXPECT_NE(NULL, st_ls(U("d")));
	during = cache_bytes();
	EXPECT_LT(before, during);
	ST_OK(st_umount(self->mnt));
	after = cache_bytes();
	EXPECT_EQ(before, after);
}

TEST_HARNESS_MAIN
