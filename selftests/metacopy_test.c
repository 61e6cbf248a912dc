// SPDX-License-Identifier: GPL-2.0
/*
 * Metadata-only copy-up (issue 5): chmod, chown, utimes, xattr changes,
 * link and rename of a lower regular file put a stub without data into
 * the rw branch; reads come from the lower file through its page cache;
 * the first open for writing or truncate copies the data in place.  The
 * stubs survive remount, renames and links; records are confined to the
 * union's lower branches and ignored in image layers.  Every test runs
 * on each branch filesystem in both whiteout formats.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define MiB (1 << 20)
#define REC "trusted.strata.metacopy"

FIXTURE(mc) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;		/* l[0] rw, l[1] and l[2] lower */
	bool userx;
};

FIXTURE_VARIANT(mc) {
	const char *fs;
	const char *opts;
};

#define MC_VARIANT(fs_, wh)						\
	FIXTURE_VARIANT_ADD(mc, fs_##_##wh) {				\
		.fs = #fs_, .opts = "whiteout=" #wh }
MC_VARIANT(tmpfs, aufs);
MC_VARIANT(tmpfs, overlay);
MC_VARIANT(ext4, aufs);
MC_VARIANT(ext4, overlay);
MC_VARIANT(xfs, aufs);
MC_VARIANT(xfs, overlay);
MC_VARIANT(btrfs, aufs);
MC_VARIANT(btrfs, overlay);

FIXTURE_SETUP(mc)
{
	ST_PREPARE(variant->fs, "mc", self->dir);
	self->l = st_make_layers(self->dir, 3);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	self->userx = st_user_xattr_ok(self->l[1]);
}

ST_TEARDOWN(mc);

#define U(rel) st_fmt("%s/%s", self->mnt, rel)
#define UP(rel) st_fmt("%s/%s", self->l[0], rel)
#define L1(rel) st_fmt("%s/%s", self->l[1], rel)
#define L2(rel) st_fmt("%s/%s", self->l[2], rel)

#define MOUNT() \
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 2, \
				 variant->opts)) \
		TH_LOG("mount: %s", strerror(errno))
#define REMOUNT() do { ST_OK(st_umount(self->mnt)); MOUNT(); } while (0)

static uint64_t hash_of(const char *path)
{
	return st_hash_file(path, NULL);
}

/* A stub: the record is there and the file holds (almost) no blocks. */
static bool is_stub(const char *path, off_t size)
{
	struct stat st;

	if (stat(path, &st) || st.st_size != size)
		return false;
	/* An xattr block may be counted, data never. */
	return getxattr(path, REC, NULL, 0) > 0 && st.st_blocks * 512 <= 8192;
}

static bool has_data(const char *path)
{
	struct stat st;

	return !stat(path, &st) && getxattr(path, REC, NULL, 0) < 0 &&
	       errno == ENODATA && (!st.st_size || st.st_blocks);
}

/* Write a record by hand, as somebody with access to the branch could. */
static int forge(const char *path, uint8_t version, uint64_t size,
		 const char *target)
{
	unsigned char rec[16 + 4096] = { version };
	size_t len = strlen(target);
	int i;

	for (i = 0; i < 8; i++)
		rec[8 + i] = (unsigned char)(size >> (8 * i));
	memcpy(rec + 16, target, len);
	return setxattr(path, REC, rec, 16 + len, 0);
}

TEST_F(mc, attribute_changes_copy_no_data)
{
	const char *names[] = { "chmod", "chown", "utimes", "setx", "rmx",
				"link", "ren", NULL };
	const struct timespec ts[2] = { { 1, 0 }, { 1500000000, 42 } };
	uint64_t h[8];
	struct stat st, lst;
	int i;

	for (i = 0; names[i]; i++) {
		ST_OK(st_put_pattern(L1(names[i]), MiB, i));
		h[i] = hash_of(L1(names[i]));
	}
	ST_OK(setxattr(L1("rmx"), "trusted.r", "1", 1, 0));
	MOUNT();

	ST_OK(chmod(U("chmod"), 0600));
	ST_OK(chown(U("chown"), 1000, 1001));
	ST_OK(utimensat(AT_FDCWD, U("utimes"), ts, 0));
	ST_OK(setxattr(U("setx"), "trusted.t", "v", 1, 0));
	ST_OK(removexattr(U("rmx"), "trusted.r"));
	ST_OK(link(U("link"), U("link2")));
	ST_OK(rename(U("ren"), U("ren2")));

	/* Each change is in the rw branch, as a stub without data. */
	EXPECT_TRUE(is_stub(UP("chmod"), MiB));
	EXPECT_TRUE(is_stub(UP("chown"), MiB));
	EXPECT_TRUE(is_stub(UP("utimes"), MiB));
	EXPECT_TRUE(is_stub(UP("setx"), MiB));
	EXPECT_TRUE(is_stub(UP("rmx"), MiB));
	EXPECT_TRUE(is_stub(UP("link"), MiB));
	EXPECT_TRUE(is_stub(UP("link2"), MiB));
	EXPECT_TRUE(is_stub(UP("ren2"), MiB));

	/* The union shows the change and the lower data. */
	ST_OK(stat(U("chmod"), &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	ST_OK(stat(U("chown"), &st));
	EXPECT_EQ(1000, st.st_uid);
	EXPECT_EQ(1001, st.st_gid);
	ST_OK(stat(U("utimes"), &st));
	EXPECT_EQ(1500000000, st.st_mtim.tv_sec);
	EXPECT_EQ(42, st.st_mtim.tv_nsec);
	EXPECT_EQ(1, getxattr(U("setx"), "trusted.t", NULL, 0));
	FAILS(ENODATA, getxattr(U("rmx"), "trusted.r", NULL, 0));
	FAILS(ENODATA, getxattr(U("chmod"), REC, NULL, 0));
	ST_OK(stat(U("link2"), &st));
	EXPECT_EQ(2, st.st_nlink);
	ST_OK(stat(U("link"), &lst));
	EXPECT_EQ(st.st_ino, lst.st_ino);
	EXPECT_STREQ("<ENOENT>", st_ltype(U("ren")));
	for (i = 0; names[i]; i++) {
		const char *n = !strcmp(names[i], "ren") ? "ren2" : names[i];

		EXPECT_EQ(h[i], hash_of(U(n))) TH_LOG("%s", n);
		/* du counts the blocks of the data. */
		ST_OK(stat(U(n), &st));
		ST_OK(stat(L1(names[i]), &lst));
		EXPECT_EQ(lst.st_blocks, st.st_blocks) TH_LOG("%s", n);
	}
	EXPECT_EQ(h[5], hash_of(U("link2")));

	/* The lower files are untouched. */
	for (i = 0; names[i]; i++)
		EXPECT_EQ(h[i], hash_of(L1(names[i])));
	ST_OK(stat(L1("chmod"), &st));
	EXPECT_EQ(0644, st.st_mode & 07777);
	ST_OK(st_umount(self->mnt));
}

TEST_F(mc, first_write_copies_data)
{
	const char *big;
	char buf[16];
	struct stat st, idle;
	uint64_t h;
	int fd, rd;

	ST_OK(st_put_pattern(L1("app"), 3 * MiB, 1));
	ST_OK(st_put_pattern(L1("trunc"), MiB, 2));
	ST_OK(st_put_pattern(L1("otrunc"), MiB, 3));
	ST_OK(st_put_pattern(L1("idle"), MiB, 4));
	MOUNT();
	ST_OK(chmod(U("app"), 0640));
	ST_OK(chmod(U("trunc"), 0640));
	ST_OK(chmod(U("otrunc"), 0640));
	ST_OK(chmod(U("idle"), 0640));
	ST_OK(stat(U("idle"), &idle));

	/* A reader opened on the stub ... */
	rd = open(U("app"), O_RDONLY);
	ASSERT_LE(0, rd);
	/* ... then a writer: the data is copied, then appended to. */
	fd = open(U("app"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(has_data(UP("app")));
	EXPECT_EQ(1, write(fd, "!", 1));
	close(fd);
	/* ... and the reader sees the new data. */
	EXPECT_EQ(1, pread(rd, buf, sizeof(buf), 3 * MiB));
	EXPECT_EQ('!', buf[0]);
	close(rd);
	ST_OK(st_put_pattern(st_fmt("%s/expect", self->dir), 3 * MiB, 1));
	fd = open(st_fmt("%s/expect", self->dir), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "!", 1));
	close(fd);
	h = hash_of(st_fmt("%s/expect", self->dir));
	EXPECT_EQ(h, hash_of(U("app")));
	EXPECT_EQ(h, hash_of(UP("app")));
	ST_OK(stat(U("app"), &st));
	EXPECT_EQ(0640, st.st_mode & 07777);

	/* truncate keeps what is below the new size. */
	ST_OK(truncate(U("trunc"), 100));
	EXPECT_TRUE(has_data(UP("trunc")));
	ST_OK(st_put_pattern(st_fmt("%s/expect", self->dir), 100, 2));
	EXPECT_EQ(hash_of(st_fmt("%s/expect", self->dir)), hash_of(U("trunc")));

	/* O_TRUNC needs no data at all. */
	fd = open(U("otrunc"), O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	ST_OK(stat(UP("otrunc"), &st));
	EXPECT_EQ(0, st.st_size);
	EXPECT_GE(8192, st.st_blocks * 512);	/* an xattr block at most */
	FAILS(ENODATA, getxattr(UP("otrunc"), REC, NULL, 0));
	EXPECT_STREQ("", st_cat(U("otrunc")));

	/* Opening for writing without writing changes no time. */
	big = U("idle");
	fd = open(big, O_WRONLY);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_TRUE(has_data(UP("idle")));
	{
		struct stat now;

		ST_OK(stat(big, &now));
		EXPECT_EQ(idle.st_mtim.tv_sec, now.st_mtim.tv_sec);
		EXPECT_EQ(idle.st_mtim.tv_nsec, now.st_mtim.tv_nsec);
		EXPECT_EQ(0640, now.st_mode & 07777);
	}
	ST_OK(st_umount(self->mnt));
}

TEST_F(mc, concurrent_writers_fill_once)
{
	char expect[MiB + 8];
	int i, fd, st;
	pid_t pid[4];

	ST_OK(st_put_pattern(L1("f"), MiB, 9));
	MOUNT();
	ST_OK(chmod(U("f"), 0666));
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i]) {
			int f = open(U("f"), O_WRONLY);

			if (f < 0 || pwrite(f, "W", 1, MiB + i) != 1)
				_exit(1);
			close(f);
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &st, 0));
		EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
	}
	fd = open(L1("f"), O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(MiB, read(fd, expect, MiB));
	close(fd);
	memcpy(expect + MiB, "WWWW", 4);
	EXPECT_EQ(st_hash(expect, MiB + 4, 0), hash_of(U("f")));
	EXPECT_TRUE(has_data(UP("f")));
	ST_OK(st_umount(self->mnt));
}

TEST_F(mc, stubs_survive_remount_rename_and_link)
{
	uint64_t ha, hb, hc;

	ST_OK(st_mkdirs(L1("d")));
	ST_OK(st_put_pattern(L1("a"), MiB, 1));
	ST_OK(st_put_pattern(L1("b"), MiB, 2));
	ST_OK(st_put_pattern(L1("d/c"), MiB, 3));
	ha = hash_of(L1("a"));
	hb = hash_of(L1("b"));
	hc = hash_of(L1("d/c"));
	MOUNT();
	ST_OK(mkdir(U("new"), 0755));
	ST_OK(link(U("a"), U("new/x")));
	ST_OK(rename(U("b"), U("new/y")));
	ST_OK(chmod(U("d/c"), 0600));
	ST_OK(rename(U("d"), U("e")));		/* a directory with a stub */
	REMOUNT();

	EXPECT_TRUE(is_stub(UP("new/x"), MiB));
	EXPECT_TRUE(is_stub(UP("new/y"), MiB));
	EXPECT_TRUE(is_stub(UP("e/c"), MiB));
	EXPECT_EQ(ha, hash_of(U("a")));
	EXPECT_EQ(ha, hash_of(U("new/x")));
	EXPECT_EQ(hb, hash_of(U("new/y")));
	EXPECT_EQ(hc, hash_of(U("e/c")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("b")));

	/* A write through one link shows through the other. */
	ST_OK(st_put(U("new/x"), "written"));
	EXPECT_STREQ("written", st_cat(U("a")));
	REMOUNT();
	EXPECT_STREQ("written", st_cat(U("a")));
	EXPECT_STREQ("written", st_cat(U("new/x")));
	EXPECT_TRUE(has_data(UP("a")));
	EXPECT_EQ(ha, hash_of(L1("a")));
	ST_OK(st_umount(self->mnt));
}

TEST_F(mc, reads_share_the_lower_page_cache)
{
	long total = 0, lower, upper;

	ST_OK(st_put_pattern(L1("f"), 4 * MiB, 5));
	MOUNT();
	ST_OK(chmod(U("f"), 0600));
	ST_OK(st_drop_caches());
	hash_of(U("f"));
	lower = st_resident_pages(L1("f"), &total);
	upper = st_resident_pages(UP("f"), NULL);
	EXPECT_EQ(total, lower) TH_LOG("the read did not use the lower file");
	EXPECT_EQ(0, upper) TH_LOG("the stub cached data");
	ST_OK(st_umount(self->mnt));
}

TEST_F(mc, records_reach_only_lower_branches)
{
	struct stat st;

	ST_OK(st_put_pattern(L1("data"), 4096, 1));
	ST_OK(st_put_pattern(L2("other"), 4096, 2));
	ST_OK(st_put_pattern(L2("hidden"), 4096, 3));
	/* An image layer's record is never trusted. */
	ST_OK(st_put_pattern(L1("layer-stub"), 4096, 4));
	ST_OK(forge(L1("layer-stub"), 1, 4096, "/hidden"));
	/* Stubs written straight into the rw branch. */
	ST_OK(st_put_pattern(UP("escape"), 4096, 0));
	ST_OK(forge(UP("escape"), 1, 4096, "/../../etc/passwd"));
	ST_OK(st_put_pattern(UP("absent"), 4096, 0));
	ST_OK(forge(UP("absent"), 1, 4096, "/etc/passwd"));
	ST_OK(st_put_pattern(UP("badver"), 4096, 0));
	ST_OK(forge(UP("badver"), 2, 4096, "/data"));
	ST_OK(st_put_pattern(UP("badsize"), 4096, 0));
	ST_OK(forge(UP("badsize"), 1, 4095, "/data"));
	ST_OK(st_put_pattern(UP("wh"), 4096, 0));
	ST_OK(forge(UP("wh"), 1, 4096, "/.wh.data"));
	ST_OK(st_put_pattern(UP("other"), 4096, 0));
	ST_OK(forge(UP("other"), 1, 4096, "/other"));
	MOUNT();

	FAILS(EIO, stat(U("escape"), &st));
	FAILS(EIO, stat(U("absent"), &st));
	FAILS(EIO, stat(U("badver"), &st));
	FAILS(EIO, stat(U("badsize"), &st));
	FAILS(EIO, stat(U("wh"), &st));
	/* Within the union's own lower branches a record may point anywhere. */
	EXPECT_EQ(hash_of(L2("other")), hash_of(U("other")));
	EXPECT_EQ(hash_of(L1("layer-stub")), hash_of(U("layer-stub")));
	ST_OK(st_umount(self->mnt));
}

TEST_F(mc, missing_data_layer_is_eio)
{
	struct stat st;

	ST_OK(st_put_pattern(L1("f"), 4096, 1));
	MOUNT();
	ST_OK(chmod(U("f"), 0600));
	ST_OK(st_umount(self->mnt));
	/* Mounted without the layer that holds the data. */
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 2, 1,
				 variant->opts));
	FAILS(EIO, stat(U("f"), &st));
	ST_OK(st_umount(self->mnt));
	MOUNT();
	EXPECT_EQ(hash_of(L1("f")), hash_of(U("f")));
	ST_OK(st_umount(self->mnt));
}

TEST_F(mc, full_rw_branch_keeps_stub_readable)
{
	char *small = strdup(st_fmt("%s/small", self->dir));
	char *up = strdup(st_fmt("%s/u", small));
	char *lowers[] = { self->l[1], self->l[2] };
	struct statfs before, after;
	struct stat st;
	uint64_t h;

	ST_OK(st_put_pattern(L1("big"), 4 * MiB, 7));
	h = hash_of(L1("big"));
	ST_OK(st_mkdirs(small));
	ASSERT_EQ(0, mount("tmpfs", small, "tmpfs", 0, "size=1m,mode=0755"));
	ST_OK(st_mkdirs(up));
	ASSERT_EQ(0, st_mount_rw(self->mnt, up, lowers, 2, variant->opts));

	/* The attribute change fits, the data does not. */
	ST_OK(chmod(U("big"), 0600));
	ST_OK(statfs(small, &before));
	FAILS(ENOSPC, open(U("big"), O_WRONLY));
	FAILS(ENOSPC, truncate(U("big"), 1));
	ST_OK(statfs(small, &after));
	EXPECT_EQ(before.f_bfree, after.f_bfree) TH_LOG("space not given back");
	ST_OK(stat(U("big"), &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(4 * MiB, st.st_size);
	EXPECT_EQ(h, hash_of(U("big")));
	EXPECT_EQ(h, hash_of(L1("big")));
	ST_OK(st_umount(self->mnt));
	ST_OK(umount(small));
}

/*
 * chmod -R of a 1 GiB lower tree: the rw branch grows by metadata only.
 * The lower tree lives on a tmpfs of its own, the rw branch on ext4 (a
 * 512 MiB disk: copying the data could not even fit).
 */
static long long grown;
static int chmod_one(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	return chmod(path, S_ISDIR(st->st_mode) ? 0750 : 0640);
}

static int du_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	grown += st->st_blocks * 512LL;
	return 0;
}

TEST_F_TIMEOUT(mc, chmod_R_of_1GiB_copies_no_data, 600)
{
	char *big = strdup(st_fmt("%s/big", self->dir));
	char *lowers[] = { big };
	struct statfs before, after;
	long long used, du_lower;
	int i, j;

	if (strcmp(variant->fs, "ext4") || strcmp(variant->opts, "whiteout=aufs"))
		SKIP(return, "measured once, on ext4");
	ST_OK(st_mkdirs(big));
	ASSERT_EQ(0, mount("tmpfs", big, "tmpfs", 0, "size=1100m,mode=0755"));
	for (i = 0; i < 4; i++) {
		ST_OK(st_mkdirs(st_fmt("%s/d%d", big, i)));
		for (j = 0; j < 16; j++)
			ST_OK(st_put_pattern(st_fmt("%s/d%d/f%d", big, i, j),
				       16 * MiB, i * 16 + j));
	}
	grown = 0;
	ASSERT_EQ(0, nftw(big, du_one, 16, FTW_PHYS));
	du_lower = grown;
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], lowers, 1,
				 variant->opts));
	sync();
	ST_OK(statfs(self->l[0], &before));
	ASSERT_EQ(0, nftw(self->mnt, chmod_one, 16, FTW_PHYS));
	sync();
	ST_OK(statfs(self->l[0], &after));
	used = (long long)(before.f_bfree - after.f_bfree) * before.f_bsize;
	grown = 0;
	ASSERT_EQ(0, nftw(self->l[0], du_one, 16, FTW_PHYS));
	ksft_print_msg("chmod -R of %lld bytes (64 files, 4 dirs): rw branch used %lld bytes more (statfs), holds %lld bytes (du)\n",
		       du_lower, used, grown);
	EXPECT_GE(du_lower, 1024LL * MiB);
	EXPECT_LT(used, 2LL * MiB);
	EXPECT_LT(grown, 2LL * MiB);
	EXPECT_EQ(hash_of(st_fmt("%s/d3/f15", big)), hash_of(U("d3/f15")));
	ST_OK(st_umount(self->mnt));
	ST_OK(umount(big));
}

TEST_HARNESS_MAIN
