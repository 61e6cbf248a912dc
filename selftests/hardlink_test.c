// SPDX-License-Identifier: GPL-2.0
/*
 * Hard links across copy-up (issue 5): the names of a lower file with
 * several links, and links made through the union, stay one file when
 * any of them is copied up, written, chmod'ed, renamed or removed: one
 * st_ino, the right st_nlink, one data.  The index in the rw branch keeps
 * it so across remounts and drops entries nothing uses at mount.  Every
 * test runs on each branch filesystem in both whiteout formats.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

FIXTURE(hl) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;		/* l[0] rw, l[1] and l[2] lower */
};

FIXTURE_VARIANT(hl) {
	const char *fs;
	const char *opts;
};

#define HL_VARIANT(fs_, wh)						\
	FIXTURE_VARIANT_ADD(hl, fs_##_##wh) {				\
		.fs = #fs_, .opts = "whiteout=" #wh }
HL_VARIANT(tmpfs, aufs);
HL_VARIANT(tmpfs, overlay);
HL_VARIANT(ext4, aufs);
HL_VARIANT(ext4, overlay);
HL_VARIANT(xfs, aufs);
HL_VARIANT(xfs, overlay);
HL_VARIANT(btrfs, aufs);
HL_VARIANT(btrfs, overlay);

FIXTURE_SETUP(hl)
{
	ST_PREPARE(variant->fs, "hl", self->dir);
	self->l = st_make_layers(self->dir, 3);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	/* f1, d/f2 and f3: one lower file with three names. */
	ST_OK(st_mkdirs(st_fmt("%s/d", self->l[1])));
	ST_OK(st_put(st_fmt("%s/f1", self->l[1]), "orig"));
	ST_OK(link(st_fmt("%s/f1", self->l[1]), st_fmt("%s/d/f2", self->l[1])));
	ST_OK(link(st_fmt("%s/f1", self->l[1]), st_fmt("%s/f3", self->l[1])));
	ST_OK(st_put(st_fmt("%s/single", self->l[1]), "single"));
}

ST_TEARDOWN(hl);

#define U(rel) st_fmt("%s/%s", self->mnt, rel)
#define UP(rel) st_fmt("%s/%s", self->l[0], rel)
#define L1(rel) st_fmt("%s/%s", self->l[1], rel)
#define INDEX UP(".wh..wh.index")

#define MOUNT() \
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 2, \
				 variant->opts)) \
		TH_LOG("mount: %s", strerror(errno))
#define REMOUNT() do { ST_OK(st_umount(self->mnt)); MOUNT(); } while (0)

/* Every name in @names is the same file with @nlink links. */
#define SAME_FILE(names, nlink, ino) do {				\
	struct stat __st;						\
	int __i;							\
	for (__i = 0; (names)[__i]; __i++) {				\
		ASSERT_EQ(0, stat(U((names)[__i]), &__st))		\
			TH_LOG("%s: %s", (names)[__i], strerror(errno));	\
		EXPECT_EQ((ino), __st.st_ino) TH_LOG("%s", (names)[__i]); \
		EXPECT_EQ((nlink), __st.st_nlink) TH_LOG("%s", (names)[__i]); \
	}								\
} while (0)

static int entries(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

TEST_F(hl, lower_links_stay_one_file)
{
	const char *all[] = { "f1", "d/f2", "f3", NULL };
	const char *two[] = { "d/f2", "f3", NULL };
	struct stat st;
	ino_t ino;
	int fd;

	MOUNT();
	ST_OK(stat(U("f1"), &st));
	ino = st.st_ino;
	SAME_FILE(all, 3, ino);

	/* A write through one name shows through the others. */
	fd = open(U("f1"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "+", 1));
	close(fd);
	EXPECT_STREQ("orig+", st_cat(U("d/f2")));
	EXPECT_STREQ("orig+", st_cat(U("f3")));
	SAME_FILE(all, 3, ino);
	EXPECT_EQ(1, entries(INDEX));
	EXPECT_STREQ("orig", st_cat(L1("f1")));

	/* So does an attribute change through another. */
	ST_OK(chmod(U("d/f2"), 0600));
	ST_OK(stat(U("f3"), &st));
	EXPECT_EQ(0600, st.st_mode & 07777);

	REMOUNT();
	SAME_FILE(all, 3, ino);
	EXPECT_STREQ("orig+", st_cat(U("f3")));
	ST_OK(stat(U("f1"), &st));
	EXPECT_EQ(0600, st.st_mode & 07777);

	/* Removing a name not copied up counts it off. */
	ST_OK(unlink(U("f1")));
	SAME_FILE(two, 2, ino);
	REMOUNT();
	SAME_FILE(two, 2, ino);
	EXPECT_STREQ("orig+", st_cat(U("d/f2")));
	ST_OK(unlink(U("f3")));
	ST_OK(stat(U("d/f2"), &st));
	EXPECT_EQ(1, st.st_nlink);
	EXPECT_EQ(ino, st.st_ino);
	EXPECT_STREQ("orig", st_cat(L1("d/f2")));
	ST_OK(st_umount(self->mnt));
}

TEST_F(hl, removing_before_any_copy_up)
{
	const char *two[] = { "f1", "d/f2", NULL };
	struct stat st;

	MOUNT();
	ST_OK(stat(U("f1"), &st));
	ST_OK(unlink(U("f3")));
	SAME_FILE(two, 2, st.st_ino);
	REMOUNT();
	SAME_FILE(two, 2, st.st_ino);
	EXPECT_STREQ("orig", st_cat(U("f1")));
	/* Nothing copied the data to count the name off. */
	EXPECT_STREQ("orig", st_cat(L1("f3")));
	ST_OK(st_umount(self->mnt));
}

TEST_F(hl, renames_keep_the_file)
{
	const char *names[] = { "f1", "g", "f3", NULL };
	const char *after[] = { "f1", "g", NULL };
	struct stat st;
	ino_t ino;

	MOUNT();
	ST_OK(stat(U("f1"), &st));
	ino = st.st_ino;
	ST_OK(rename(U("d/f2"), U("g")));
	SAME_FILE(names, 3, ino);
	EXPECT_STREQ("<ENOENT>", st_ltype(U("d/f2")));
	/* Renaming a new file over a lower name replaces that name. */
	ST_OK(st_put(U("new"), "new"));
	ST_OK(rename(U("new"), U("f3")));
	SAME_FILE(after, 2, ino);
	EXPECT_STREQ("new", st_cat(U("f3")));
	REMOUNT();
	SAME_FILE(after, 2, ino);
	EXPECT_STREQ("orig", st_cat(U("g")));
	ST_OK(st_umount(self->mnt));
}

TEST_F(hl, links_made_in_the_union)
{
	const char *names[] = { "single", "d/s2", "s3", NULL };
	struct stat st;
	ino_t ino;

	MOUNT();
	ST_OK(stat(U("single"), &st));
	ino = st.st_ino;
	ST_OK(link(U("single"), U("d/s2")));
	ST_OK(link(U("d/s2"), U("s3")));
	SAME_FILE(names, 3, ino);
	ST_OK(st_put(U("s3"), "changed"));
	EXPECT_STREQ("changed", st_cat(U("single")));
	REMOUNT();
	SAME_FILE(names, 3, ino);
	EXPECT_STREQ("changed", st_cat(U("d/s2")));
	EXPECT_STREQ("single", st_cat(L1("single")));
	ST_OK(st_umount(self->mnt));
}

TEST_F(hl, metadata_only_copies_shared)
{
	const char *all[] = { "f1", "d/f2", "f3", NULL };
	struct stat st;
	ino_t ino;

	MOUNT();
	ST_OK(stat(U("f1"), &st));
	ino = st.st_ino;
	ST_OK(chown(U("f3"), 1000, 1000));
	/* The index entry is a stub: no data was copied. */
	EXPECT_LT(0, getxattr(UP("f3"), "trusted.strata.metacopy", NULL, 0));
	ST_OK(stat(U("d/f2"), &st));
	EXPECT_EQ(1000, st.st_uid);
	EXPECT_STREQ("orig", st_cat(U("f1")));
	REMOUNT();
	SAME_FILE(all, 3, ino);
	ST_OK(st_put(U("d/f2"), "data"));
	EXPECT_STREQ("data", st_cat(U("f1")));
	EXPECT_STREQ("data", st_cat(U("f3")));
	ST_OK(stat(U("f1"), &st));
	EXPECT_EQ(1000, st.st_uid);
	ST_OK(st_umount(self->mnt));
}

TEST_F(hl, unused_index_entries_dropped_at_mount)
{
	MOUNT();
	ST_OK(chmod(U("f1"), 0640));
	EXPECT_EQ(1, entries(INDEX));
	ST_OK(unlink(U("f1")));
	ST_OK(unlink(U("d/f2")));
	ST_OK(unlink(U("f3")));
	REMOUNT();
	EXPECT_EQ(0, entries(INDEX));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("f1")));
	EXPECT_STREQ("orig", st_cat(L1("f3")));
	ST_OK(st_umount(self->mnt));
}

TEST_HARNESS_MAIN
